/*
 * Job ends as they happen, from PostgreSQL's LISTEN/NOTIFY: whoever ends a
 * job (this daemon's runner, another daemon's, a Cancel) sends
 * NOTIFY JOBENDS_CHANNEL with the job's id in the transaction that ends
 * it (jobrow.c, jobs.c), so the notification arrives exactly when the end
 * is visible. jobends LISTENs on a connection of its own and tells every
 * subscriber; a Watch then looks at its jobs at once instead of at its
 * next poll.
 */
#ifndef JOBENDS_H
#define JOBENDS_H

#include <event2/event.h>

/* The channel, also in the SQL that ends jobs. */
#define JOBENDS_CHANNEL "migrated_job_end"

struct jobends;
struct jobends_sub;

/*
 * job: the id of the job that ended; 0 after the connection came back,
 * when ends may have been missed (look again at every job).
 */
typedef void (*jobends_cb)(void *arg, long long job);

/* Connects to conninfo (the target) and LISTENs; NULL on out of memory. */
struct jobends *jobends_new(struct event_base *base, const char *conninfo)
        __attribute__((warn_unused_result));
void jobends_free(struct jobends *je);
void jobends_set_backoff_max(struct jobends *je, long long ms);

/* cb is called from the loop for every end until the subscription goes. */
struct jobends_sub *jobends_subscribe(struct jobends *je, jobends_cb cb,
                                      void *arg)
        __attribute__((warn_unused_result));
void jobends_unsubscribe(struct jobends *je, struct jobends_sub *sub);

#endif
