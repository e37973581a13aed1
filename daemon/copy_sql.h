/*
 * The text of a copy step's statements (step_copy.c), built from what the
 * step learnt of the source and the target. Names are quoted by libpq and
 * type names come from the servers' catalogs; values never appear here:
 * they are bound, or (COPY, which takes no parameters) bound to
 * set_config() and read back with current_setting().
 */
#ifndef COPY_SQL_H
#define COPY_SQL_H

#include <jansson.h>

#include "pg.h"
#include "plan.h"

struct copy_shape {
	struct pg_conn *conn; /* quotes identifiers */
	const struct plan_step *step;
	const char *table;    /* quoted target table */
	const char *key;      /* quoted walk key */
	const char *key_type; /* its type on the source */
	json_t *cols;         /* [[name, type], ...] of select */
	json_t *ptypes;       /* types of select's $n, in order */
};

struct copy_sql {
	/* on the source; $1..$n are select's, then: */
	char *estimate; /* lo: count(*), rows at or below lo */
	char *range;    /* lo, batch: max(key)::text, count(*) */
	char *set;      /* select's, lo, hi: bound into settings */
	char *copy;     /* no parameters: COPY (...) TO STDOUT */
	/* on the target */
	char *staged; /* script: the session table staged */
	char *merge;  /* upsert steps; with backup: $1 job, $2 step */
	char *backup; /* with backup: $1 job, $2 step */
};

/* estimate, range, set and copy. -1 on out of memory. */
int copy_sql_read(const struct copy_shape *in, struct copy_sql *out)
        __attribute__((warn_unused_result));

/*
 * staged, and for upsert steps merge (and backup) given the target
 * table's columns [[name, generated], ...]. -1 with err set when the
 * target cannot take the merge.
 */
int copy_sql_write(const struct copy_shape *in, json_t *target,
                   struct copy_sql *out, char *err, size_t errlen)
        __attribute__((warn_unused_result));

void copy_sql_clear(struct copy_sql *sql);

#endif
