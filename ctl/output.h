/* migratectl output: tables, summaries, JSON, errors and progress lines. */
#ifndef OUTPUT_H
#define OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Prints v as stable pretty JSON (sorted keys, 2-space indent). */
int out_json(FILE *f, const json_t *v) __attribute__((warn_unused_result));
/* Prints v as one line of compact JSON with sorted keys. */
int out_json_line(FILE *f, const json_t *v)
    __attribute__((warn_unused_result));

/*
 * Writes a readable text for a Varlink error and its parameters to buf:
 * io.migrated.NoSuchJob {id: 42} becomes "no job 42".
 */
void out_error_text(const char *error, const json_t *parameters, char *buf,
                    size_t len);

/*
 * Human renderings of reply values. Each returns 0, or -1 if out of
 * memory. Missing or null fields show as "-".
 */
int out_status(FILE *f, const json_t *status)
    __attribute__((warn_unused_result));
int out_plans(FILE *f, const json_t *plans)
    __attribute__((warn_unused_result));
int out_plan(FILE *f, const json_t *plan) __attribute__((warn_unused_result));
int out_jobs(FILE *f, const json_t *jobs) __attribute__((warn_unused_result));
int out_job(FILE *f, const json_t *job) __attribute__((warn_unused_result));
/* "Paused 2 jobs: 4, 5." or "No job paused." */
void out_job_ids(FILE *f, const char *verb, const json_t *ids);

/* Live progress lines, one per job, redrawn in place on a terminal. */
struct out_progress;

struct out_progress *out_progress_new(FILE *f)
    __attribute__((warn_unused_result));
/* Records a new state of a job (a Job object). Returns 0, or -1. */
int out_progress_update(struct out_progress *p, const json_t *job)
    __attribute__((warn_unused_result));
/*
 * Redraws the lines; unless force, at most ten times a second. Returns 0,
 * or -1 if out of memory.
 */
int out_progress_draw(struct out_progress *p, bool force)
    __attribute__((warn_unused_result));
void out_progress_free(struct out_progress *p);

/* The i-th job state ("queued", ...), or NULL past the last one. */
const char *out_job_state(size_t i);
/* True for the states a job does not leave by itself. */
bool out_state_ended(const char *state);

#endif
