/*
 * Source-vs-target compare of a job's copy steps (Verify with compare =
 * true, and the runner after a job's last step when its plan says compare
 * = yes).
 *
 * For each copy step the job ran that merges by a natural key (upsert),
 * the step's select runs on its source with the job's values bound (its
 * tenant, params row, submit-time parameters and pair) and every row is
 * reduced to its natural key and a 64-bit hash of the compared columns'
 * text forms (compare_rows.h says which columns); then the target rows
 * with those natural keys (bound as one JSON parameter, COMPARE_CHUNK keys
 * per query) are reduced the same way, so other tenants' rows never count.
 * A step matches when both sides have as many rows and the same checksum
 * (the sum of the row hashes, as 16 hex digits); otherwise the two sorted
 * lists are walked for the first COMPARE_MAX_DIFFERING keys that are on one
 * side only or differ. Steps that cannot be compared (compare_step_skip())
 * are left out of the report.
 *
 * Each compare opens its own connections (the target, and each source in
 * turn), asynchronous on the loop, read-only, closed when it ends: it never
 * waits for or holds up the store's connection or a runner's.
 */
#ifndef COMPARE_H
#define COMPARE_H

#include <stdbool.h>

#include <event2/event.h>
#include <jansson.h>

#include "catalog.h"
#include "config.h"
#include "control.h"

struct daemon;
struct compare;

/* The job to compare. compare_job() copies what it keeps. */
struct compare_job {
	long long id;            /* for the log; 0 if none */
	const struct plan *plan; /* kept alive by the caller until the end */
	const char *tenant;
	const char *pair; /* NEW of a pair job, bound as plan->pair; or NULL */
	json_t *params;   /* the params row (jobs.params), or NULL: the
	                    * plan's params query runs first, on the target */
	json_t *args;     /* submit-time parameters (jobs.args), or NULL */
	json_t *steps;    /* names of the job's steps (jobs.steps), or NULL:
	                    * every step of the plan */
};

/* What a compare found. */
struct compare_outcome {
	json_t *steps; /* []StepCompare of io.migrated.varlink, plan order */
	bool ok;       /* no step differs, and the compare ran */
	/* "users: 120 rows match" or "compare found differences: users:
	 * source 120 rows, target 119, differing keys a, b, c" (one line, for
	 * a job's error or the log); or the error */
	const char *summary;
	const char *error;    /* why the compare could not run, or NULL */
	bool unavailable;     /* ... because a database cannot be reached: error
	                    * names it */
	const char *sqlstate; /* of an SQL error, or "" */
};

typedef void (*compare_done_cb)(void *arg, const struct compare_outcome *out);

/*
 * Starts comparing job, with the conninfo of the target and of the
 * [database NAME] sections in cfg (copied now: a reload does not disturb
 * it). cb runs exactly once, later, never from inside this call; the
 * compare is freed after cb returns. NULL only when out of memory.
 */
struct compare *compare_job(struct event_base *base, const struct config *cfg,
                            const struct compare_job *job, compare_done_cb cb,
                            void *arg) __attribute__((warn_unused_result));

/*
 * The runner, after the last step of a job whose plan says compare = yes:
 *
 *	struct compare_job cj = {.id = id, .plan = plan, .tenant = tenant,
 *	                         .pair = pair, .params = params,
 *	                         .args = args, .steps = steps};
 *	r->compare = compare_job(base, &d->cfg, &cj, on_compared, r);
 *
 * then in on_compared: out->ok, the job succeeds; out->unavailable, a
 * database is away (like a lost connection: try again later); otherwise
 * the job fails with out->summary as its error ("compare found
 * differences: users: source 120 rows, target 119, differing keys ..." or
 * "compare could not run: ..."). A job paused or cancelled meanwhile, or a
 * daemon stopping, calls compare_cancel() instead.
 */

/* Stops a compare before its callback ran (cb never runs) and frees it. */
void compare_cancel(struct compare *c);

/*
 * Verify's compare: reply is the Verify reply built from the [verify]
 * sections (stolen); job the job's {id, tenant, pair, params, args,
 * steps}. Adds compare (the steps' report) to reply, clears its ok when a
 * step differs, and ends req with it; or with DatabaseUnavailable (a
 * database cannot be reached, named in the message) or DatabaseError.
 * Holds a reference to cat (whose plan it is) until then.
 */
void compare_verify(struct control_req *req, struct daemon *d,
                    struct catalog *cat, const struct plan *plan, json_t *job,
                    json_t *reply);

#endif
