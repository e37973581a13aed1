#include "catalog.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

struct catalog {
	struct plan_set *set;
	int refs;
};

/*
 * Plans are checked against the configuration they are loaded with, which
 * a plan file cannot know: each source must name one of its [database
 * NAME] sections, or the plan is refused like one that does not parse
 * (migrated -n lists it with them). At start the daemon runs without it.
 * A reload that removes a database a loaded plan still names is therefore
 * refused as a whole, like any reload with a bad plan (daemon_reload): the
 * daemon keeps its configuration, databases and plans until the plans
 * that name the database go or change too, in the same reload or before.
 * A job running when a reload drops its plan and the database together
 * keeps its plan (catalog_ref), and a copy step it starts from then on
 * fails: its source is no longer a [database NAME] (step_copy.c).
 */
static int
refuse_unknown_sources(struct plan_set *set, const struct config *cfg)
{
	const char **names = calloc(cfg->ndatabases + 1, sizeof(*names));
	char msg[1024];
	int r = 0;

	if (names == NULL)
		return -1;
	for (size_t i = 0; i < cfg->ndatabases; i++)
		names[i] = cfg->databases[i].name;
	for (size_t i = set->nplans; i-- > 0 && r == 0;)
		if (plan_check_sources(set->plans[i], names, cfg->ndatabases,
		                       msg, sizeof(msg)) < 0)
			r = plan_set_refuse(set, i, msg);
	free(names);
	return r;
}

struct catalog *
catalog_load(const struct config *cfg, FILE *report, int *nbad, char *err,
             size_t errlen)
{
	struct catalog *cat = calloc(1, sizeof(*cat));

	*nbad = 0;
	if (cat == NULL) {
		snprintf(err, errlen, "%s: out of memory", cfg->plan_dir);
		return NULL;
	}
	cat->set = plan_dir_load(cfg->plan_dir, err, errlen);
	if (cat->set == NULL) {
		free(cat);
		return NULL;
	}
	cat->refs = 1;
	if (refuse_unknown_sources(cat->set, cfg) < 0) {
		snprintf(err, errlen, "%s: out of memory", cfg->plan_dir);
		catalog_unref(cat);
		return NULL;
	}
	for (size_t i = 0; i < cat->set->nerrors; i++) {
		if (report != NULL)
			fprintf(report, "%s\n", cat->set->errors[i]);
		else
			log_error("plan not loaded: %s", cat->set->errors[i]);
	}
	*nbad = (int)cat->set->nerrors;
	return cat;
}

struct catalog *
catalog_ref(struct catalog *cat)
{
	if (cat != NULL)
		cat->refs++;
	return cat;
}

void
catalog_unref(struct catalog *cat)
{
	if (cat == NULL || --cat->refs > 0)
		return;
	plan_set_free(cat->set);
	free(cat);
}

int
catalog_count(const struct catalog *cat)
{
	return cat != NULL ? (int)cat->set->nplans : 0;
}

const struct plan *
catalog_at(const struct catalog *cat, int i)
{
	return cat->set->plans[i];
}

const struct plan *
catalog_find(const struct catalog *cat, const char *name)
{
	return cat != NULL ? plan_set_find(cat->set, name) : NULL;
}

static json_t *
names_json(const struct plan_check *checks, size_t n)
{
	json_t *list = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_string(checks[i].name));
	return list;
}

json_t *
catalog_plan_json(const struct plan *plan)
{
	json_t *steps = json_array();
	json_t *params = json_array();

	for (size_t i = 0; i < plan->nsteps; i++) {
		const struct plan_step *s = &plan->steps[i];
		json_t *after = json_array();
		char table[256];
		for (size_t j = 0; j < s->nafter; j++)
			json_array_append_new(after, json_string(s->after[j]));
		snprintf(table, sizeof(table), "%s%s%s",
		         s->schema != NULL ? s->schema : "",
		         s->schema != NULL ? "." : "", s->table);
		json_array_append_new(steps,
		                      json_pack("{s:s, s:s, s:s, s:o, s:I}",
		                                "name", s->name, "table", table,
		                                "key", s->key, "after", after,
		                                "batch", (json_int_t)s->batch));
	}
	json_array_append_new(params, json_string("tenant"));
	for (size_t i = 0; i < plan->nparam_names; i++)
		json_array_append_new(params,
		                      json_string(plan->param_names[i]));
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "name",
	                 plan->name, "description", plan->description, "file",
	                 plan->file, "steps", steps, "checks",
	                 names_json(plan->checks, plan->nchecks), "verifies",
	                 names_json(plan->verifies, plan->nverifies), "params",
	                 params);
}

int
catalog_bind(const struct sql_stmt *stmt, const char *tenant, const char *lo,
             const char *hi, json_t *params, const char **values)
{
	if (stmt->nparams > CATALOG_MAX_PARAMS)
		return -1;
	for (size_t i = 0; i < stmt->nparams; i++) {
		const char *name = stmt->names[i];
		json_t *v;
		if (strcmp(name, "tenant") == 0)
			values[i] = tenant;
		else if (strcmp(name, "lo") == 0)
			values[i] = lo;
		else if (strcmp(name, "hi") == 0)
			values[i] = hi;
		else if ((v = json_object_get(params, name)) != NULL)
			values[i] = json_string_value(v);
		else
			return -1;
	}
	return 0;
}

json_t *
catalog_run_order(const struct plan *plan, json_t *steps, const char **bad)
{
	size_t n = steps != NULL ? json_array_size(steps) : 0;
	const char **names = calloc(n + 1, sizeof(*names));
	bool *selected = calloc(plan->nsteps + 1, sizeof(*selected));
	json_t *order = NULL;
	char err[256];

	if (names == NULL || selected == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		names[i] = json_string_value(json_array_get(steps, i));
	if (plan_select_steps(plan, names, n, selected, err, sizeof(err)) < 0) {
		for (size_t i = 0; i < n && *bad == NULL; i++)
			if (plan_step_find(plan, names[i]) == NULL)
				*bad = names[i];
		goto out;
	}
	order = json_array();
	for (size_t i = 0; i < plan->nsteps; i++)
		if (selected[i])
			json_array_append_new(order,
			                      json_string(plan->steps[i].name));
out:
	free(names);
	free(selected);
	return order;
}
