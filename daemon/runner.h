/*
 * A runner runs one job at a time on its own database connection: claims
 * it (advisory lock on plan + tenant), then walks its steps in key ranges,
 * one transaction per batch that applies the range and advances the
 * checkpoint together.
 */
#ifndef RUNNER_H
#define RUNNER_H

#include <stdbool.h>

struct daemon;
struct runner;

/* What a runner tells the scheduler. */
struct runner_events {
	void (*idle)(void *arg, struct runner *r); /* free for a job */
	/* a runner_claim ended; got_job false: nothing to take now */
	void (*claimed)(void *arg, struct runner *r, bool got_job);
	void (*rows)(void *arg, long long rows); /* a batch committed */
	void *arg;
};

struct runner *runner_new(struct daemon *d, int slot,
                          const struct runner_events *ev)
        __attribute__((warn_unused_result));
void runner_free(struct runner *r);

/* Connected and without a job. */
bool runner_idle(const struct runner *r);
/* The job it runs, or 0. */
long long runner_job(const struct runner *r);
/*
 * Claims the next job, skipping the ids in exclude (a JSON array text of
 * the jobs other local runners hold). Ends with the claimed event.
 */
void runner_claim(struct runner *r, const char *exclude);
void runner_set_backoff_max(struct runner *r, long long ms);
/* Stops after the current batch (the job's state was changed elsewhere). */
void runner_stop(struct runner *r);

#endif
