/*
 * migratectl output: the daemon's replies as JSON for scripts or as
 * tables and summaries for people (its errors: errors.h).
 */
#ifndef OUTPUT_H
#define OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Prints v as stable pretty JSON (sorted keys, 2-space indent). */
int out_json(FILE *f, const json_t *v) __attribute__((warn_unused_result));
/* Prints v as one line of compact JSON with sorted keys. */
int out_json_line(FILE *f, const json_t *v) __attribute__((warn_unused_result));

/*
 * Human renderings of reply values. Each returns 0, or -1 if out of
 * memory. Missing or null fields show as "-".
 */
int out_status(FILE *f, const json_t *status)
        __attribute__((warn_unused_result));
/*
 * "2 queued, 1 running, 5 succeeded" of a JobCounts: the states the
 * daemon counts ("-" for none); malloc'd.
 */
char *out_counts_text(const json_t *counts) __attribute__((warn_unused_result));
int out_plans(FILE *f, const json_t *plans) __attribute__((warn_unused_result));
int out_plan(FILE *f, const json_t *plan) __attribute__((warn_unused_result));
int out_jobs(FILE *f, const json_t *jobs) __attribute__((warn_unused_result));
int out_job(FILE *f, const json_t *job) __attribute__((warn_unused_result));
/* A ThrottleState: throttled or not, and every active reason. */
int out_throttle(FILE *f, const json_t *throttle)
        __attribute__((warn_unused_result));
/* "Paused 2 jobs: 4, 5." or "No job paused." */
void out_job_ids(FILE *f, const char *verb, const json_t *ids);
/* After a dry run: the rows each step of each dry-run job would change. */
int out_dry_run(FILE *f, const json_t *jobs)
        __attribute__((warn_unused_result));

/* The i-th job state ("queued", ...), or NULL past the last one. */
const char *out_job_state(size_t i);
/* True for the states a job does not leave by itself. */
bool out_state_ended(const char *state);

#endif
