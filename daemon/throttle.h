/*
 * Throttling: why jobs wait between batches. Reasons come from the manual
 * throttles (migrated.throttles, read from the state database every
 * second, so every daemon sharing it and a restarted one agree), the load
 * query ([throttle] query, run on its own connection to the target every
 * interval: above max jobs wait, above critical running jobs are paused
 * and the audit log says why, a failing query makes them wait too) and
 * the rows-per-second budgets (daemon-wide, per plan, per job).
 *
 * A batch (batch.c) joins with a struct throttle_job of its own and asks
 * throttle_gate before each batch; the gate calls back when the job may
 * go on. A job waits with no transaction open: the gate sits between the
 * COMMIT of one batch and the next range. throttle_report and
 * throttle_jobs are the read-only view for status and metrics.
 */
#ifndef THROTTLE_H
#define THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "pacing.h"

struct daemon;
struct throttle;

/* One active reason. */
struct throttle_reason {
	char scope[72]; /* "*": every plan; else a plan's name */
	char kind[24];  /* manual, load, critical, load_failed */
	char text[320]; /* what a person reads */
	time_t since;
	time_t until; /* manual with --for; 0: none */
};

#define THROTTLE_MAX_REASONS 64

struct throttle_report {
	size_t nreasons;
	struct throttle_reason reasons[THROTTLE_MAX_REASONS];
	bool load_query; /* [throttle] query is set */
	bool load_ok;    /* the last run gave a value */
	double load_value;
	char load_error[256];
};

/* A running step's pacing, owned by its batch; read-only for others. */
struct throttle_job {
	long long job;
	const char *plan;
	const char *step;
	long long batch_size;   /* in effect, never 0 */
	long long throttled_ms; /* waited in this run */
	long long batches;      /* done in this run */
	char waiting[320];      /* why it waits now; "" when it does not */
	time_t waiting_since;
	long long max_rows_per_second; /* the job's own cap; 0: none */

	/* the gate's own */
	struct throttle *t;
	struct throttle_job *prev, *next;
	void (*go)(void *arg, long long waited_ms);
	void *go_arg;
	long long wait_start_ms;
	struct pacing_budget budget;
};

/* Starts the load query's connection and the timers; NULL on failure. */
struct throttle *throttle_new(struct daemon *d)
        __attribute__((warn_unused_result));
void throttle_free(struct throttle *t);

/*
 * The manual throttles as they are now (after ThrottleOn, ThrottleOff):
 * rows of THROTTLE_MANUAL_COLUMNS of the live rows of migrated.throttles.
 */
void throttle_set_manual(struct throttle *t, const PGresult *res);
#define THROTTLE_MANUAL_COLUMNS                                                \
	"scope, reason, extract(epoch FROM since)::bigint,"                    \
	" extract(epoch FROM until)::bigint"
#define THROTTLE_MANUAL_LIVE "(until IS NULL OR until > now())"

/* j->job, plan, step, batch_size filled; t may be NULL (never waits). */
void throttle_join(struct throttle *t, struct throttle_job *j);
/* Drops any wait; no callback follows. */
void throttle_leave(struct throttle_job *j);

/*
 * Before a batch: false when j may go now; true when it waits (j->waiting
 * says why), and go(arg, waited_ms) is called from the loop once it may.
 */
bool throttle_gate(struct throttle_job *j,
                   void (*go)(void *arg, long long waited_ms), void *arg);
/* Ends a wait with no callback (the job stops): the ms it waited, or -1
 * when it was not waiting. */
long long throttle_cancel(struct throttle_job *j);
/* rows were done by j: charges the rows/s budgets. */
void throttle_spent(struct throttle_job *j, long long rows, long long plan_cap);

/* What throttles now, for status and metrics. */
const struct throttle_report *throttle_report(const struct throttle *t);
/* The reason a job of plan waits for now (not the budgets), or NULL. */
const char *throttle_why(const struct throttle *t, const char *plan);
/* Running steps: fills out with up to max of them; returns how many. */
size_t throttle_jobs(const struct throttle *t, const struct throttle_job **out,
                     size_t max);

/* The SQL of query = replication_lag. */
#define THROTTLE_REPLICATION_LAG_SQL                                           \
	"SELECT coalesce(max(extract(epoch FROM replay_lag)), 0)"              \
	" FROM pg_stat_replication"

#endif
