/*
 * The clear SQL of a fresh job's steps: each selected step with clear runs
 * it once, in reverse step order, before the job's first batch, in a
 * transaction of its own that records it (migrated.cleared()), so a
 * resumed job never clears twice. With backup = yes the deleted rows are
 * stored as the step's first backup, so a rollback brings them back.
 */
#ifndef CLEAR_H
#define CLEAR_H

#include <jansson.h>

#include "step.h"

struct clear;

/* error NULL: every clear ran (or had run before); stale: the job is no
 * longer ours (error says so) */
typedef void (*clear_done_cb)(void *arg, const char *error, bool stale);

/*
 * ctx gives the job (its step is unused); steps is the job's
 * [[name, state, checkpoint, cleared], ...] in run order.
 */
struct clear *clear_start(const struct step_ctx *ctx, json_t *steps,
                          const char *owner, clear_done_cb cb, void *arg)
        __attribute__((warn_unused_result));
void clear_free(struct clear *c);

#endif
