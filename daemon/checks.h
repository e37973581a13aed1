/*
 * Runs a plan's [check] or [verify] sections for one tenant on a
 * connection, one query after another, and reports every result. Used by
 * the runner (before the first batch and after the last) and by the
 * Validate and Verify methods.
 */
#ifndef CHECKS_H
#define CHECKS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "catalog.h"
#include "pg.h"

/* What a checks run found. */
struct checks_outcome {
	/* [{name, severity, ok, found, expected}] in plan order; found is the
	 * first column of the first row as text, null for SQL NULL or no row */
	json_t *results;
	bool failed;       /* some error-severity check did not hold */
	const char *error; /* a query failed or could not run, or NULL */
	bool unavailable;  /* ... because the connection is gone */
};

typedef void (*checks_done_cb)(void *arg, const struct checks_outcome *out);

/*
 * Runs list[0..n) for tenant. params is the plan's params row (a JSON
 * object); when NULL and the plan has a params query, it runs first. The
 * callback runs once, later, unless the connection is not ready (-1). The
 * caller keeps plan (and its catalog) alive until then.
 */
int checks_run(struct pg_conn *conn, const struct plan *plan,
               const struct plan_check *list, size_t n, const char *tenant,
               json_t *params, checks_done_cb cb, void *arg)
        __attribute__((warn_unused_result));

/* "check mapped: found 0, expected 1; ..." of the failed results. */
char *checks_describe(json_t *results, bool warnings_only);

/* Reads the params row of a params-query result (one row) into a JSON
 * object; NULL with err set when it is not exactly one row with the
 * plan's columns. */
json_t *checks_params_row(const struct plan *plan, const PGresult *res,
                          char *err, size_t errlen);

#endif
