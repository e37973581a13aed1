/*
 * A thread for calls that may block (name service, files), in the shape of
 * redis's bio.c: the loop queues jobs, the thread runs them in order, and
 * each job's done callback runs back on the loop, through a socket pair
 * the loop watches. Owners: nss_cache.c, audit_spool.c.
 */
#ifndef WORKER_H
#define WORKER_H

#include <stdbool.h>

#include <event2/event.h>

/* Runs on the thread. */
typedef void (*worker_fn)(void *arg);
/* Runs on the loop, never inside worker_run; ran is false when the job
 * was dropped unrun (worker_free without finishing). */
typedef void (*worker_done_fn)(void *arg, bool ran);

struct worker;

struct worker *worker_new(struct event_base *base);
/* Queues work(arg), then done(arg, true) on the loop; -1 when it cannot
 * (out of memory), and then neither is called. */
int worker_run(struct worker *w, worker_fn work, worker_done_fn done, void *arg)
        __attribute__((warn_unused_result));
/*
 * Stops the thread. finish: every queued job runs first (the caller
 * waits). Otherwise queued jobs are dropped (done with ran false), and a
 * job stuck in a call is left to its thread, detached: its done never
 * runs. Every other done runs before this returns.
 */
void worker_free(struct worker *w, bool finish);

#endif
