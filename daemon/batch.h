/*
 * One step of a job as a protocol on the target: the step starts (its
 * estimate and first key recorded), then batch after batch — the step
 * finds the next range, BEGIN, the step's statements, migrated.advance()
 * of the checkpoint, COMMIT (ROLLBACK for a dry run, with the progress
 * recorded after it) — until no rows are left and the step is recorded
 * done. A batch whose checkpoint went stale (the job was paused,
 * cancelled or taken over) rolls back and stops the run.
 */
#ifndef BATCH_H
#define BATCH_H

#include "pacing.h"
#include "step.h"
#include "throttle.h"

struct batch;

/* How batches are paced: their size and the throttles they wait on. */
struct batch_pace {
	struct throttle *throttle;     /* NULL: never waits */
	long long size;                /* the first batch's size */
	long long override;            /* the job's batch_size column now (0) */
	long long target_ms, min, max; /* adaptive size (target 0: fixed) */
	long long plan_rows_per_second; /* the plan's jobs together; 0 */
};

struct batch_events {
	void (*done)(void *arg); /* the step is recorded done */
	void (*failed)(void *arg, const char *msg); /* the job fails */
	void (*stopped)(void *arg); /* stale, or stopped after a batch */
	void (*rows)(void *arg, long long rows); /* a batch committed */
	void *arg;
};

/*
 * Runs ctx's step with ops from checkpoint (NULL: from its start) in
 * batches paced by pace; owner is the runner's name in migrated.jobs.
 * ctx->ev is the batch's own. Before each batch it waits on the
 * throttles with no transaction open; after each it reads the job's
 * batch_size and max_rows_per_second again (migratectl set). NULL on out
 * of memory.
 */
struct batch *batch_start(const struct step_ctx *ctx,
                          const struct step_ops *ops, const char *owner,
                          const struct batch_pace *pace, const char *checkpoint,
                          const struct batch_events *ev)
        __attribute__((warn_unused_result));
/* Stop after the current batch (ev.stopped follows). */
void batch_stop(struct batch *b);
/* Frees, with no event after it (the driver drops the job). */
void batch_free(struct batch *b);

#endif
