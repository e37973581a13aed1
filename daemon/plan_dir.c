/*
 * Plan directories (plan.h): every NAME.plan of a directory loaded with
 * plan_load(), each as a plan or as the error that refused it.
 */
#include "plan.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_read.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the *.plan entries of dir, dot files left out. */
static int
list_plan_files(const char *dir, char ***files, size_t *n, char *err,
                size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	*files = NULL;
	*n = 0;
	if (d == NULL) {
		snprintf(err, errlen, "cannot open plan directory %s: %s", dir,
		         strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.' || len < 5 ||
		    strcmp(e->d_name + len - 5, ".plan") != 0)
			continue;
		if (plan_push(files, n, strdup(e->d_name)) == -1) {
			closedir(d);
			sql_names_free(*files, *n);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	closedir(d);
	if (*n > 1)
		qsort(*files, *n, sizeof **files, cmp_str);
	return 0;
}

static int
add_plan(struct plan_set *set, struct plan *plan)
{
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	struct plan **p = realloc(set->plans, (set->nplans + 1) * sizeof *p);

	if (p == NULL)
		return -1;
	p[set->nplans++] = plan;
	set->plans = p;
	return 0;
}

/* Loads dir/file into set, as a plan or as an error. */
static int
load_into(struct plan_set *set, const char *dir, const char *file)
{
	size_t dlen = strlen(dir);
	char *path, msg[PLAN_MSG_MAX];
	struct plan *plan;

	if (asprintf(&path, "%s%s%s", dir,
	             dlen > 0 && dir[dlen - 1] == '/' ? "" : "/", file) < 0)
		return -1;
	plan = plan_load(path, msg, sizeof msg);
	free(path);
	if (plan == NULL)
		return plan_push(&set->errors, &set->nerrors, strdup(msg));
	if (add_plan(set, plan) == -1) {
		plan_free(plan);
		return -1;
	}
	return 0;
}

struct plan_set *
plan_dir_load(const char *dir, char *err, size_t errlen)
{
	struct plan_set *set;
	char **files;
	size_t n;
	int r = 0;

	if (list_plan_files(dir, &files, &n, err, errlen) == -1)
		return NULL;
	set = calloc(1, sizeof *set);
	for (size_t i = 0; set != NULL && i < n && r == 0; i++)
		r = load_into(set, dir, files[i]);
	sql_names_free(files, n);
	if (set == NULL || r == -1) {
		plan_set_free(set);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return set;
}

int
plan_set_refuse(struct plan_set *set, size_t i, const char *msg)
{
	char *copy = strdup(msg), **errors = NULL;
	size_t at = 0;

	plan_free(set->plans[i]);
	for (set->nplans--; i < set->nplans; i++)
		set->plans[i] = set->plans[i + 1];
	if (copy != NULL)
		errors = realloc(set->errors,
		                 (set->nerrors + 1) * sizeof *errors);
	if (errors == NULL) {
		free(copy);
		return -1;
	}
	set->errors = errors;
	while (at < set->nerrors && strcmp(errors[at], copy) < 0)
		at++;
	memmove(&errors[at + 1], &errors[at],
	        (set->nerrors - at) * sizeof *errors);
	errors[at] = copy;
	set->nerrors++;
	return 0;
}

const struct plan *
plan_set_find(const struct plan_set *set, const char *name)
{
	for (size_t i = 0; i < set->nplans; i++)
		if (strcmp(set->plans[i]->name, name) == 0)
			return set->plans[i];
	return NULL;
}

void
plan_set_free(struct plan_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->nplans; i++)
		plan_free(set->plans[i]);
	free(set->plans);
	sql_names_free(set->errors, set->nerrors);
	free(set);
}
