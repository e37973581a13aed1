/*
 * The daemon's metrics: one registry of counters that only grow, gauges
 * and a histogram, owned here. Other modules push values through the
 * functions below (they never read the registry back, and nothing here
 * calls them); metrics_http.c serves the registry as the Prometheus text
 * exposition format (metrics_render). Names start with migrated_, values
 * are in base units (seconds, rows).
 *
 * Label values are any text (escaped when rendered). A family holds at
 * most METRICS_MAX_SERIES label sets; values for more are dropped and
 * counted in migrated_metrics_dropped_total, so that no client can grow
 * the registry without bound.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdbool.h>

#include <event2/buffer.h>

#define METRICS_MAX_SERIES 1000

/* Jobs in state (of the whole queue, every daemon's; scheduler.c). */
void metrics_jobs(const char *state, long long n);

/*
 * One batch of plan's step committed (batch.c): rows walked, how long it
 * took from BEGIN to the end of COMMIT, and the progress time (now).
 */
void metrics_batch(const char *plan, const char *step, long long rows,
                   double seconds);

/* The batch size in effect for plan's step (rows). */
void metrics_batch_size(const char *plan, const char *step, long long size);

/*
 * The connection to database ("target", or a [database NAME]) is now in
 * state: "connected", "connecting" or "disconnected".
 */
void metrics_db_state(const char *database, const char *state);

/* One control call of method ended; error is NULL for a good reply. */
void metrics_control_call(const char *method, const char *error);

/*
 * Throttling (throttle.c): whether reason holds jobs back now, and the
 * seconds jobs waited for it. A reason never set has no series.
 */
void metrics_throttle_active(const char *reason, bool active);
void metrics_throttled_add(const char *reason, double seconds);

/* Appends the registry in the Prometheus text format (version 0.0.4). */
int metrics_render(struct evbuffer *out) __attribute__((warn_unused_result));

/* Empties the registry (at stop, and between unit tests). */
void metrics_reset(void);

#endif
