/*
 * The scheduler: `workers` runners, each with its own connection, claiming
 * queued jobs in priority order; job totals and throughput for status.
 */
#ifndef SCHEDULER_H
#define SCHEDULER_H

#include <stdbool.h>

struct daemon;
struct scheduler;

struct job_counts {
	long long queued, running, paused, succeeded, failed, cancelled;
	long long rolled_back;
};

struct scheduler *scheduler_new(struct daemon *d)
        __attribute__((warn_unused_result));
/* Stops the runners (an open batch is rolled back by the server). */
void scheduler_free(struct scheduler *s);
/* The database became usable, or not. */
void scheduler_set_ready(struct scheduler *s, bool ready);
/* Applies a reloaded reconnect_max_ms to the runners' connections. */
void scheduler_set_backoff_max(struct scheduler *s, long long ms);
/* Look for work now (after a submit, resume, retry). */
void scheduler_kick(struct scheduler *s);
/* Stop the local run of these jobs after their current batch. */
void scheduler_stop_jobs(struct scheduler *s, const long long *ids, int n);

const struct job_counts *scheduler_counts(const struct scheduler *s);
int scheduler_busy(const struct scheduler *s);
long long scheduler_rows_done(const struct scheduler *s);
/* Rows per second over the last 10 seconds. */
double scheduler_rate(const struct scheduler *s);

#endif
