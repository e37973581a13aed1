/*
 * A running job's own row in migrated.jobs, as the runner changes it: its
 * end (failed, or succeeded — marking the job a rollback undid), its
 * warnings, its saved params row, and reading its steps. Every change
 * checks that the job still runs under the runner's owner name, so a
 * paused, cancelled or taken-over job is never overwritten.
 */
#ifndef JOBROW_H
#define JOBROW_H

#include "pg.h"

/* Each sends one statement (cb gets its result); -1 when not sent. */
int jobrow_fail(struct pg_conn *conn, const char *job, const char *owner,
                const char *msg, pg_result_cb cb, void *arg)
        __attribute__((warn_unused_result));
int jobrow_succeed(struct pg_conn *conn, const char *job, const char *owner,
                   pg_result_cb cb, void *arg)
        __attribute__((warn_unused_result));
int jobrow_warn(struct pg_conn *conn, const char *job, const char *text,
                pg_result_cb cb, void *arg) __attribute__((warn_unused_result));
/* params: the params row as JSON text, kept so a resumed job binds it */
int jobrow_save_params(struct pg_conn *conn, const char *job,
                       const char *params, pg_result_cb cb, void *arg)
        __attribute__((warn_unused_result));
/* One cell: [[step, state, checkpoint, cleared], ...] in run order. */
int jobrow_steps(struct pg_conn *conn, const char *job, pg_result_cb cb,
                 void *arg) __attribute__((warn_unused_result));

#endif
