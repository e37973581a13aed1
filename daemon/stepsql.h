/*
 * The SQL a runner sends for one step of a job, and the values it binds.
 * A migrate step walks the step's table by key; a restore step (rollback
 * jobs) walks the original job's backups of that step and writes the
 * pre-images back.
 */
#ifndef STEPSQL_H
#define STEPSQL_H

#include <stdbool.h>

#include <jansson.h>

#include "pg.h"
#include "plan.h"

enum stepsql_kind { STEPSQL_MIGRATE, STEPSQL_RESTORE };

enum stepsql_query {
	STEPSQL_ESTIMATE, /* count(*), rows at or below lo (lo: lowest key) */
	STEPSQL_RANGE,    /* max(key)::text, count(*) of the next batch */
	STEPSQL_BACKUP,   /* pre-images of the batch's rows (migrate) */
	STEPSQL_APPLY,    /* the change itself */
};

/* What the values come from. */
struct stepsql_env {
	const char *tenant;
	json_t *params;     /* the plan's params row */
	const char *job;    /* the job writing backups (migrate) */
	const char *source; /* the job whose backups are restored */
	const char *lo, *hi, *batch;
};

struct stepsql {
	enum stepsql_kind kind;
	const struct plan_step *step;
	char *table;   /* quoted [schema.]table */
	char *text[4]; /* by enum stepsql_query; NULL when unused */
};

/* A table's columns for a restore, quoted and comma-separated. */
struct stepsql_cols {
	const char *insert;  /* every stored column (not generated ones) */
	const char *update;  /* those an UPDATE may set (no identity always) */
	const char *rupdate; /* update's, each prefixed with "r." */
};

/* The query that reads a table's stepsql_cols ($1: the quoted table). */
extern const char stepsql_cols_sql[];

/* "schema"."table" as the step names it, quoted by libpq. */
char *stepsql_table(struct pg_conn *conn, const struct plan_step *step);

/*
 * Builds the texts; cols only for STEPSQL_RESTORE. -1 on out of memory.
 */
int stepsql_build(struct stepsql *s, struct pg_conn *conn,
                  const struct plan_step *step, enum stepsql_kind kind,
                  const struct stepsql_cols *cols)
        __attribute__((warn_unused_result));
void stepsql_clear(struct stepsql *s);

/* Fills values for query q; returns their number, or -1. */
int stepsql_bind(const struct stepsql *s, enum stepsql_query q,
                 const struct stepsql_env *env, const char **values)
        __attribute__((warn_unused_result));

#endif
