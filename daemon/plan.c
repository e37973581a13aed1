/*
 * Plan files (migrated.plan(5)): the table of the sections a plan file may
 * hold, each type with its builder (plan_read.h), and one file loaded
 * through it: read into raw sections, then built type by type into a
 * struct plan. Any problem refuses the whole plan. Also the questions
 * asked of a loaded plan.
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plan_order.h"
#include "plan_read.h"
#include "sql_params.h"

/* In the order they are built: [plan] first, for the parameters it
 * defines; then what runs before the steps, the steps, what runs after. */
static const struct section_type *const section_types[] = {
        &plan_section_plan,
        &plan_section_check,
        &plan_section_step,
        &plan_section_verify,
};
#define NTYPES (sizeof section_types / sizeof section_types[0])

static const char section_usage[] =
        "[plan], [step NAME], [check NAME] or [verify NAME]";

static size_t
count_sections(const struct loader *ld, const struct section_type *type)
{
	size_t n = 0;

	for (size_t i = 0; i < ld->nsecs; i++)
		n += ld->secs[i].type == type;
	return n;
}

static int
build_sections(struct loader *ld, struct plan *plan)
{
	struct plan_build b = {.ld = ld, .plan = plan};
	int r = 0;

	for (size_t t = 0; t < NTYPES && r == 0; t++) {
		const struct section_type *type = section_types[t];

		b.done = 0;
		if (type->begin != NULL)
			r = type->begin(&b, count_sections(ld, type));
		for (size_t i = 0; i < ld->nsecs && r == 0; i++)
			if (ld->secs[i].type == type && type->build != NULL)
				r = type->build(&b, &ld->secs[i]);
		if (r == 0 && type->end != NULL)
			r = type->end(&b);
	}
	free(b.where.v);
	free(b.apply.v);
	free(b.after_line);
	return r;
}

static void
plan_sql_free(struct plan_sql *sql)
{
	sql_stmt_free(&sql->stmt);
}

static void
checks_free(struct plan_check *checks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(checks[i].name);
		plan_sql_free(&checks[i].sql);
		free(checks[i].expect);
	}
	free(checks);
}

static void
step_free(struct plan_step *s)
{
	free(s->name);
	free(s->schema);
	free(s->table);
	free(s->key);
	plan_sql_free(&s->where);
	plan_sql_free(&s->apply);
	sql_names_free(s->after, s->nafter);
	free(s->source);
	plan_sql_free(&s->select);
	sql_names_free(s->columns, s->ncolumns);
	sql_names_free(s->upsert, s->nupsert);
	sql_names_free(s->default_cols, s->ndefaults);
	sql_names_free(s->default_exprs, s->ndefaults);
	plan_sql_free(&s->clear);
	free(s->clear_ref);
}

void
plan_free(struct plan *plan)
{
	if (plan == NULL)
		return;
	free(plan->name);
	free(plan->file);
	free(plan->description);
	plan_sql_free(&plan->tenants);
	plan_sql_free(&plan->params);
	sql_names_free(plan->param_names, plan->nparam_names);
	for (size_t i = 0; i < plan->nsteps; i++)
		step_free(&plan->steps[i]);
	free(plan->steps);
	free(plan->source);
	sql_names_free(plan->args, plan->nargs);
	free(plan->pair);
	checks_free(plan->checks, plan->nchecks);
	checks_free(plan->verifies, plan->nverifies);
	free(plan);
}

static struct plan *
build_plan(struct loader *ld, const char *name)
{
	struct plan *plan = calloc(1, sizeof *plan);

	if (plan == NULL) {
		(void)oom(ld);
		return NULL;
	}
	plan->name = strdup(name);
	plan->file = strdup(ld->file);
	if (plan->name == NULL || plan->file == NULL)
		(void)oom(ld);
	else
		(void)build_sections(ld, plan);
	if (ld->failed) {
		plan_free(plan);
		return NULL;
	}
	return plan;
}

/* NAME of ".../NAME.plan", checked. */
static int
plan_name(struct loader *ld, const char *path, char *name, size_t len)
{
	const char *base = strrchr(path, '/');
	char shown_buf[64];
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n < 5 || strcmp(base + n - 5, ".plan") != 0)
		return fail(ld, 0, "plan file names end in .plan");
	n -= 5;
	if (!plan_valid_name(base, n) || n >= len)
		return fail(
		        ld, 0,
		        "bad plan name \"%s\": use 1 to %d letters, digits, "
		        "_ or -",
		        plan_shown_n(base, n, shown_buf, sizeof shown_buf),
		        PLAN_NAME_MAX);
	memcpy(name, base, n);
	name[n] = '\0';
	return 0;
}

/*
 * A plan directory holds plan files: a directory, device or FIFO called
 * NAME.plan is refused before it is opened (a FIFO would block the reader).
 * A file that cannot be opened is left to inifile_parse() to report.
 */
static int
check_regular(struct loader *ld)
{
	struct stat st;

	if (stat(ld->file, &st) == 0 && !S_ISREG(st.st_mode))
		return fail(ld, 0, "not a regular file");
	return 0;
}

struct plan *
plan_load(const char *path, char *err, size_t errlen)
{
	struct loader ld = {.file = path,
	                    .types = section_types,
	                    .ntypes = NTYPES,
	                    .usage = section_usage};
	struct plan *plan = NULL;
	char name[PLAN_NAME_MAX + 1];

	if (plan_name(&ld, path, name, sizeof name) == 0 &&
	    check_regular(&ld) == 0) {
		plan_read(&ld);
		if (!ld.failed)
			plan = build_plan(&ld, name);
	}
	plan_read_free(&ld);
	if (plan != NULL) /* NULL exactly when ld.failed */
		return plan;
	if (ld.err_line > 0)
		snprintf(err, errlen, "%s:%u: %s", path, ld.err_line, ld.msg);
	else
		snprintf(err, errlen, "%s: %s", path, ld.msg);
	return NULL;
}

/* --- a loaded plan ------------------------------------------------------------ */

const struct plan_step *
plan_step_find(const struct plan *plan, const char *name)
{
	size_t i = plan_step_index(plan->steps, plan->nsteps, name);

	return i == (size_t)-1 ? NULL : &plan->steps[i];
}

long long
plan_batch_size(const struct plan_step *step, long long asked, long long config)
{
	if (asked > 0)
		return asked;
	return step->batch > 0 ? step->batch : config;
}

int
plan_select_steps(const struct plan *plan, const char *const *names,
                  size_t nnames, bool *selected, char *err, size_t errlen)
{
	char shown_buf[64];

	for (size_t i = 0; i < plan->nsteps; i++)
		selected[i] = nnames == 0;
	for (size_t k = 0; k < nnames; k++) {
		size_t i = plan_step_index(plan->steps, plan->nsteps, names[k]);

		if (i == (size_t)-1) {
			snprintf(err, errlen, "plan %s has no step %s",
			         plan->name,
			         plan_shown(names[k], shown_buf,
			                    sizeof shown_buf));
			return -1;
		}
		selected[i] = true;
	}
	return 0;
}

static bool
is_one_of(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

int
plan_check_sources(const struct plan *plan, const char *const *databases,
                   size_t ndatabases, char *err, size_t errlen)
{
	const char *bad = NULL;
	unsigned line = 0;
	char known[512];

	if (plan->source != NULL &&
	    !is_one_of(plan->source, databases, ndatabases)) {
		bad = plan->source;
		line = plan->source_line;
	}
	for (size_t i = 0; i < plan->nsteps; i++) {
		const struct plan_step *s = &plan->steps[i];

		if (s->source != NULL &&
		    !is_one_of(s->source, databases, ndatabases) &&
		    (bad == NULL || s->source_line < line)) {
			bad = s->source;
			line = s->source_line;
		}
	}
	if (bad == NULL)
		return 0;
	sql_join_names(databases, ndatabases, known, sizeof known);
	snprintf(err, errlen, "%s:%u: unknown source %s (databases: %s)",
	         plan->file, line, bad, known);
	return -1;
}
