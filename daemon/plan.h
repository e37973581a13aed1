/*
 * Plans: NAME.plan files that describe one migration (see migrated.plan(5)).
 *
 * A plan is loaded whole or not at all: every SQL text is compiled at load
 * time (named parameters become $1..$n, see sql_params.h), every reference
 * is checked, and the first problem is reported as "file:line: message".
 * Loaded plans are immutable; a reload builds a new plan_set.
 */
#ifndef PLAN_H
#define PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "sql_params.h"

#define PLAN_NAME_MAX 63 /* longest plan, step, check or column name */
#define PLAN_BATCH_MAX 1000000

/* One compiled SQL text of a plan. */
struct plan_sql {
	struct sql_stmt
	        stmt;  /* stmt.text uses $1..$n; stmt.names[i] is $(i+1) */
	unsigned line; /* line of its key in the plan file */
};

/*
 * [step NAME]. The runner walks the relation by key in ranges (lo, hi] of
 * at most batch rows among the rows matching where, and runs apply per
 * range. Parameters of where: tenant and the params columns. Of apply:
 * tenant, lo, hi (apply always uses both) and the params columns. where is
 * a boolean expression meant to be embedded in the runner's own query
 * ("... WHERE (where) AND key > $k ..."): its parameters are $1..$n, so the
 * runner numbers its own from n + 1; its parentheses are balanced.
 */
enum plan_step_kind { PLAN_STEP_INPLACE, PLAN_STEP_COPY };

struct plan_step {
	char *name;
	enum plan_step_kind kind; /* copy: source is set */
	char *schema; /* NULL unless table was written schema.table */
	char *table;  /* unqualified, folded to lower case; into of a copy */
	char *key;    /* unique ordered column, folded to lower case */
	struct plan_sql
	        where; /* "true" (at the section's line) when not given */
	struct plan_sql apply;
	long batch;   /* 1..PLAN_BATCH_MAX, or 0: daemon's batch_size */
	char **after; /* names of steps that must run before this one */
	size_t nafter;
	bool backup; /* record pre-images for rollback */
	/* rejects = keep: a SQLite value that does not convert sends its row
	 * to migrated.rejects (the job goes on); fail (default): the job fails */
	bool keep_rejects;
	unsigned line; /* of the [step NAME] header */

	/*
	 * Copy steps. select runs on source (parameters: tenant, the params
	 * columns, the plan's parameters and pair); key is one of its
	 * columns. The batch's rows land in the temporary table staged on the
	 * target; then either apply (free SQL reading staged) or the upsert
	 * merge into table runs. upsert: the natural key, ON CONFLICT of these
	 * columns; upsert_nothing for DO NOTHING. defaults: extra columns of
	 * new rows, default_exprs[i] an SQL expression over staged's columns.
	 */
	char *source;         /* [database NAME]; NULL for in-place steps */
	unsigned source_line; /* of the source key */
	struct plan_sql select;
	char **columns; /* select's output columns, in order */
	size_t ncolumns;
	char **upsert;
	size_t nupsert;
	bool upsert_nothing;
	char **default_cols;
	char **default_exprs;
	size_t ndefaults;
	/* clear: SQL run first by a fresh job (parameters as apply's, without
	 * lo and hi); has_clear false when not given */
	bool has_clear;
	struct plan_sql clear;
	/* with backup: what clear's DELETE calls its table (alias or name),
	 * for the RETURNING that backs the deleted rows up */
	char *clear_ref;
};

enum plan_severity { PLAN_SEVERITY_ERROR, PLAN_SEVERITY_WARNING };

/*
 * [check NAME] (before the steps) and [verify NAME] (after them): the first
 * column of the first row of sql, as text, must equal expect. Parameters:
 * tenant and the params columns.
 */
struct plan_check {
	char *name;
	struct plan_sql sql;
	char *expect;
	enum plan_severity severity;
	unsigned line; /* of the section header */
};

struct plan {
	char *name;        /* file name without .plan */
	char *file;        /* path it was read from */
	char *description; /* "" when not given */
	struct plan_sql
	        tenants; /* lists tenant names (first column); no params */
	bool has_params;
	struct plan_sql
	        params;     /* when has_params: one row; parameter: tenant */
	char **param_names; /* its column names, usable as :name elsewhere */
	size_t nparam_names;
	struct plan_step
	        *steps; /* in dependency order (stable by file order) */
	size_t nsteps;
	struct plan_check *checks; /* in file order */
	size_t nchecks;
	struct plan_check *verifies; /* in file order */
	size_t nverifies;
	char *source; /* [database NAME] the tenants query runs on, or NULL */
	unsigned source_line; /* of the source key */
	/* parameters = a, b: values given at submit, usable as :a and :b */
	char **args;
	size_t nargs;
	char *pair;   /* pair = NAME: the parameter a pair's NEW binds */
	bool compare; /* compare = yes: source-vs-target compare at the end */
	/* pacing; 0: the daemon's default */
	long long batch_target_ms; /* batch_target = 500ms */
	long batch_min, batch_max;
	long max_rows_per_second; /* the plan's jobs together */
};

/*
 * Reads path, whose file name must be NAME.plan with NAME made of 1 to
 * PLAN_NAME_MAX letters, digits, '_' and '-'. Returns NULL and writes
 * "file:line: message" (or "file: message" for problems with the whole
 * file) to err on failure.
 */
struct plan *plan_load(const char *path, char *err, size_t errlen)
        __attribute__((warn_unused_result));

void plan_free(struct plan *plan);

/* The step called name, or NULL. */
const struct plan_step *plan_step_find(const struct plan *plan,
                                       const char *name);

/*
 * The batch size a job runs step with: asked (the job's, at submit) when
 * above 0, else the step's batch, else config (the daemon's batch_size).
 */
long long plan_batch_size(const struct plan_step *step, long long asked,
                          long long config);

/*
 * Marks the steps to run: selected[i] (an array of plan->nsteps) tells
 * whether plan->steps[i] is named in names; nnames == 0 selects all steps.
 * Steps are not added for dependencies: a selected step whose `after`
 * steps are not selected runs without them (the operator asked for exactly
 * these steps). Returns -1 and names the first unknown step in err.
 */
int plan_select_steps(const struct plan *plan, const char *const *names,
                      size_t nnames, bool *selected, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/*
 * Checks that every source the plan names ([plan] source, the copy steps'
 * source) is one of databases, the [database NAME] sections of the
 * configuration; a plan file cannot know them, so plan_load() leaves this
 * to its caller. Returns -1 with "file:line: unknown source NAME
 * (databases: a, b)" ("databases: none" when there are none) in err, for
 * the unknown source on the first line.
 */
int plan_check_sources(const struct plan *plan, const char *const *databases,
                       size_t ndatabases, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* All plans of a directory. */
struct plan_set {
	struct plan **plans; /* the plans that loaded, sorted by name */
	size_t nplans;
	char **errors; /* one "file:line: message" per bad file, by name */
	size_t nerrors;
};

/*
 * Loads every NAME.plan in dir (files starting with '.' are skipped). A bad
 * file adds its error and leaves the other plans alone. Returns NULL with
 * err set only when dir itself cannot be read.
 */
struct plan_set *plan_dir_load(const char *dir, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/*
 * Refuses set->plans[i] after the fact, as if its file had not loaded: the
 * plan is freed and msg joins the errors, which stay sorted. -1 when out
 * of memory (the plan is gone all the same, msg is lost).
 */
int plan_set_refuse(struct plan_set *set, size_t i, const char *msg)
        __attribute__((warn_unused_result));

const struct plan *plan_set_find(const struct plan_set *set, const char *name);

void plan_set_free(struct plan_set *set);

#endif
