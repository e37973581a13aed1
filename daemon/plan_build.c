/*
 * The builders of [plan], [check] and [verify] (plan_read.h): the plan's
 * tenants and params queries and the names every other section may use as
 * parameters (params columns, parameters, pair), its source and compare;
 * the checks run before the steps and after them.
 */
#include "plan_read.h"

#include "duration.h"

#include <stdlib.h>
#include <string.h>

enum {
	K_DESCRIPTION,
	K_TENANTS,
	K_PARAMS,
	K_SOURCE,
	K_PARAMETERS,
	K_PAIR,
	K_COMPARE,
	K_BATCH_TARGET,
	K_BATCH_MIN,
	K_BATCH_MAX,
	K_MAX_ROWS_PER_SECOND,
	K_PLAN_KEYS
};
static const char *const plan_keys[] = {"description",
                                        "tenants",
                                        "params",
                                        "source",
                                        "parameters",
                                        "pair",
                                        "compare",
                                        "batch_target",
                                        "batch_min",
                                        "batch_max",
                                        "max_rows_per_second",
                                        NULL};

enum { K_SQL, K_EXPECT, K_SEVERITY, K_CHECK_KEYS };
static const char *const check_keys[] = {"sql", "expect", "severity", NULL};

_Static_assert(sizeof plan_keys / sizeof plan_keys[0] == K_PLAN_KEYS + 1 &&
                       K_PLAN_KEYS <= PLAN_KEYS_MAX,
               "one name per [plan] key");
_Static_assert(sizeof check_keys / sizeof check_keys[0] == K_CHECK_KEYS + 1 &&
                       K_CHECK_KEYS <= PLAN_KEYS_MAX,
               "one name per [check] key");

/* Built-in parameters: where has the first, apply all three. */
static const char *const builtin_params[] = {"tenant", "lo", "hi"};
#define NBUILTINS (sizeof builtin_params / sizeof builtin_params[0])

/* --- [plan] --------------------------------------------------------------- */

/* The first nfirst built-ins, then the plan's params columns, parameters
 * and pair. */
static int
names_make(struct loader *ld, struct names *out, size_t nfirst,
           const struct plan *plan)
{
	out->n = 0;
	out->v = malloc((nfirst + plan->nparam_names + plan->nargs + 2) *
	                sizeof *out->v);
	if (out->v == NULL)
		return oom(ld);
	for (size_t i = 0; i < nfirst; i++)
		out->v[out->n++] = builtin_params[i];
	for (size_t i = 0; i < plan->nparam_names; i++)
		out->v[out->n++] = plan->param_names[i];
	for (size_t i = 0; i < plan->nargs; i++)
		out->v[out->n++] = plan->args[i];
	if (plan->pair != NULL)
		out->v[out->n++] = plan->pair;
	return 0;
}

static int
check_param_names(struct loader *ld, unsigned line, char **names, size_t n)
{
	char shown_buf[64];

	for (size_t i = 0; i < n; i++) {
		const char *name = names[i];

		if (!plan_is_ident(name, strlen(name)))
			return fail(
			        ld, line,
			        "params column \"%s\" cannot be a parameter "
			        "name; rename it with AS (letters, digits, _)",
			        plan_shown(name, shown_buf, sizeof shown_buf));
		for (size_t b = 0; b < NBUILTINS; b++)
			if (strcmp(name, builtin_params[b]) == 0)
				return fail(
				        ld, line,
				        "params column %s hides the built-in "
				        "parameter :%s; rename it with AS",
				        name, name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(name, names[j]) == 0)
				return fail(ld, line,
				            "params column %s appears twice",
				            name);
	}
	return 0;
}

static int
build_params(struct loader *ld, const struct value *v, struct plan *plan)
{
	static const char *tenant[] = {"tenant"};
	const struct names tenant_only = {tenant, 1};
	char msg[512];
	unsigned line = 0;

	if (plan_compile(ld, v, &tenant_only, &plan->params) == -1)
		return -1;
	plan->has_params = true;
	if (sql_select_columns(v->text, &plan->param_names, &plan->nparam_names,
	                       &line, msg, sizeof msg) == -1)
		return fail(ld, plan_value_line(v, line), "params: %s", msg);
	return check_param_names(ld, v->lines[0], plan->param_names,
	                         plan->nparam_names);
}

/* description, tenants and params. */
static int
build_header(struct loader *ld, const struct section *sec, struct plan *plan)
{
	const struct names none = {NULL, 0};
	const struct value *v = &sec->values[K_DESCRIPTION];

	plan->description = strdup(v->text ? v->text : "");
	if (plan->description == NULL)
		return oom(ld);
	if (plan_required(ld, sec, K_TENANTS, &v) == -1 ||
	    plan_compile(ld, v, &none, &plan->tenants) == -1 ||
	    plan_optional(ld, sec, K_PARAMS, &v) == -1)
		return -1;
	return v != NULL ? build_params(ld, v, plan) : 0;
}

/* A plan-wide name (a parameter or the pair) that no other name hides. */
static int
check_new_name(struct loader *ld, unsigned line, const struct plan *plan,
               const char *name, const char *what)
{
	for (size_t b = 0; b < NBUILTINS; b++)
		if (strcmp(name, builtin_params[b]) == 0)
			return fail(ld, line,
			            "%s %s hides the built-in parameter :%s",
			            what, name, name);
	for (size_t i = 0; i < plan->nparam_names; i++)
		if (strcmp(name, plan->param_names[i]) == 0)
			return fail(ld, line, "%s %s is also a params column",
			            what, name);
	for (size_t i = 0; plan->pair != NULL && i < plan->nargs; i++)
		if (strcmp(plan->pair, plan->args[i]) == 0)
			return fail(ld, line,
			            "pair %s is also one of the parameters",
			            plan->pair);
	return 0;
}

/* source = NAME: whether a [database NAME] has it is catalog.c's check. */
static int
build_source(struct loader *ld, const struct value *v, struct plan *plan)
{
	char shown_buf[64];

	if (!plan_valid_name(v->text, strlen(v->text)))
		return fail(ld, v->lines[0],
		            "bad source \"%s\": name a [database NAME]",
		            plan_shown(v->text, shown_buf, sizeof shown_buf));
	if ((plan->source = strdup(v->text)) == NULL)
		return oom(ld);
	plan->source_line = v->lines[0];
	return 0;
}

static int
build_parameters(struct loader *ld, const struct value *v, struct plan *plan)
{
	if (plan_list(ld, v, "parameters", "parameter", true, &plan->args,
	              &plan->nargs) == -1)
		return -1;
	for (size_t i = 0; i < plan->nargs; i++)
		if (check_new_name(ld, v->lines[0], plan, plan->args[i],
		                   "parameter") == -1)
			return -1;
	return 0;
}

static int
build_pair(struct loader *ld, const struct value *v, struct plan *plan)
{
	char shown_buf[64];

	if (plan_ident(v->text, strlen(v->text), &plan->pair) == -1)
		return fail(ld, v->lines[0],
		            "bad pair \"%s\": expected a parameter name "
		            "(letters, digits, _)",
		            plan_shown(v->text, shown_buf, sizeof shown_buf));
	return check_new_name(ld, v->lines[0], plan, plan->pair, "pair");
}

static int
build_compare(struct loader *ld, const struct value *v, struct plan *plan)
{
	return plan_choice(ld, v, "compare", "no", "yes", &plan->compare);
}

/* A whole number from 1 to max for key. */
static int
build_count(struct loader *ld, const struct value *v, const char *key, long max,
            long *out)
{
	char shown_buf[64];
	long n = 0;
	size_t i;

	for (i = 0; v->text[i] >= '0' && v->text[i] <= '9' && i < 10; i++)
		n = n * 10 + (v->text[i] - '0');
	if (i == 0 || v->text[i] != '\0' || n < 1 || n > max)
		return fail(
		        ld, v->lines[0],
		        "bad %s \"%s\": expected a number from 1 to %ld", key,
		        plan_shown(v->text, shown_buf, sizeof shown_buf), max);
	*out = n;
	return 0;
}

static int
build_batch_target(struct loader *ld, const struct value *v, struct plan *plan)
{
	char shown_buf[64];

	if (duration_parse(v->text, &plan->batch_target_ms) < 0)
		return fail(ld, v->lines[0],
		            "bad batch_target \"%s\": expected a duration like "
		            "500ms or 2s",
		            plan_shown(v->text, shown_buf, sizeof shown_buf));
	return 0;
}

static int
build_batch_min(struct loader *ld, const struct value *v, struct plan *plan)
{
	return build_count(ld, v, "batch_min", PLAN_BATCH_MAX,
	                   &plan->batch_min);
}

static int
build_batch_max(struct loader *ld, const struct value *v, struct plan *plan)
{
	if (build_count(ld, v, "batch_max", PLAN_BATCH_MAX, &plan->batch_max) <
	    0)
		return -1;
	if (plan->batch_min > plan->batch_max)
		return fail(ld, v->lines[0],
		            "batch_max %ld is below batch_min %ld",
		            plan->batch_max, plan->batch_min);
	return 0;
}

static int
build_max_rows(struct loader *ld, const struct value *v, struct plan *plan)
{
	return build_count(ld, v, "max_rows_per_second", 1000000000,
	                   &plan->max_rows_per_second);
}

/* The optional keys of [plan] after params, in the order they are built
 * (pair after parameters: check_new_name() compares them). */
static const struct {
	int key;
	int (*build)(struct loader *ld, const struct value *v,
	             struct plan *plan);
} import_keys[] = {
        {K_SOURCE, build_source},
        {K_PARAMETERS, build_parameters},
        {K_PAIR, build_pair},
        {K_COMPARE, build_compare},
        {K_BATCH_TARGET, build_batch_target},
        {K_BATCH_MIN, build_batch_min},
        {K_BATCH_MAX, build_batch_max},
        {K_MAX_ROWS_PER_SECOND, build_max_rows},
};

static int
build_header_import(struct loader *ld, const struct section *sec,
                    struct plan *plan)
{
	const struct value *v;

	for (size_t i = 0; i < sizeof import_keys / sizeof import_keys[0]; i++)
		if (plan_optional(ld, sec, import_keys[i].key, &v) == -1 ||
		    (v != NULL && import_keys[i].build(ld, v, plan) == -1))
			return -1;
	return 0;
}

static int
begin_plan(struct plan_build *b, size_t n)
{
	return n == 0 ? fail(b->ld, 1, "missing [plan] section") : 0;
}

/* The one [plan] (plan_read.c refuses a second), and the names the other
 * sections may use as parameters. */
static int
build_plan_section(struct plan_build *b, const struct section *sec)
{
	b->plan_line = sec->line;
	if (build_header(b->ld, sec, b->plan) == -1 ||
	    build_header_import(b->ld, sec, b->plan) == -1)
		return -1;
	if (names_make(b->ld, &b->where, 1, b->plan) == -1 ||
	    names_make(b->ld, &b->apply, NBUILTINS, b->plan) == -1)
		return -1;
	return 0;
}

/* word, named, keys, begin, build, end */
const struct section_type plan_section_plan = {
        "plan", false, plan_keys, begin_plan, build_plan_section, NULL};

/* --- [check NAME] and [verify NAME] -------------------------------------- */

static int
build_check(struct loader *ld, const struct section *sec,
            const struct names *allowed, struct plan_check *check)
{
	const struct value *v;
	bool warning = false;

	check->line = sec->line;
	if ((check->name = strdup(sec->name)) == NULL)
		return oom(ld);
	if (plan_required(ld, sec, K_SQL, &v) == -1 ||
	    plan_compile(ld, v, allowed, &check->sql) == -1)
		return -1;
	if (plan_required(ld, sec, K_EXPECT, &v) == -1)
		return -1;
	if ((check->expect = strdup(v->text)) == NULL)
		return oom(ld);
	if (plan_optional(ld, sec, K_SEVERITY, &v) == -1 ||
	    (v != NULL && plan_choice(ld, v, "severity", "error", "warning",
	                              &warning) == -1))
		return -1;
	check->severity = warning ? PLAN_SEVERITY_WARNING : PLAN_SEVERITY_ERROR;
	return 0;
}

static int
alloc_checks(struct loader *ld, size_t n, struct plan_check **out, size_t *nout)
{
	if (n == 0)
		return 0;
	if ((*out = calloc(n, sizeof **out)) == NULL)
		return oom(ld);
	*nout = n;
	return 0;
}

static int
begin_checks(struct plan_build *b, size_t n)
{
	return alloc_checks(b->ld, n, &b->plan->checks, &b->plan->nchecks);
}

static int
build_one_check(struct plan_build *b, const struct section *sec)
{
	return build_check(b->ld, sec, &b->where, &b->plan->checks[b->done++]);
}

static int
begin_verifies(struct plan_build *b, size_t n)
{
	return alloc_checks(b->ld, n, &b->plan->verifies, &b->plan->nverifies);
}

static int
build_one_verify(struct plan_build *b, const struct section *sec)
{
	return build_check(b->ld, sec, &b->where,
	                   &b->plan->verifies[b->done++]);
}

/* word, named, keys, begin, build, end */
const struct section_type plan_section_check = {
        "check", true, check_keys, begin_checks, build_one_check, NULL};

/* word, named, keys, begin, build, end */
const struct section_type plan_section_verify = {
        "verify", true, check_keys, begin_verifies, build_one_verify, NULL};
