/*
 * Claiming a job: one call of migrated.claim() (daemon/schema), which
 * picks an orphaned running job or the next queued one and takes its
 * session advisory lock, the job's only ownership token.
 */
#ifndef CLAIM_H
#define CLAIM_H

#include "catalog.h"
#include "config.h"
#include "pg.h"

/*
 * Claims for owner, skipping the jobs in exclude (a JSON array text),
 * plans not in cat and schema jobs (plan "schema:SET") of sets not in
 * cfg. cb gets the claimed migrated.jobs row (no row: nothing to take
 * now; res NULL: the connection is gone). -1 when not sent.
 */
int claim_next(struct pg_conn *conn, const struct catalog *cat,
               const struct config *cfg, const char *exclude, const char *owner,
               pg_result_cb cb, void *arg) __attribute__((warn_unused_result));

/* The columns of the claimed row. */
enum {
	CLAIM_COL_ID,
	CLAIM_COL_PLAN,
	CLAIM_COL_TENANT,
	CLAIM_COL_PAIR,
	CLAIM_COL_PARAMS,
	CLAIM_COL_ARGS,
	CLAIM_COL_BATCH,
	CLAIM_COL_DRY_RUN,
	CLAIM_COL_SKIP_CHECKS,
	CLAIM_COL_FRESH,
	CLAIM_COL_RESTORE,
	CLAIM_COL_SOURCE,
};

/* Lets go of every job lock the session holds. */
int claim_release(struct pg_conn *conn, pg_result_cb cb, void *arg)
        __attribute__((warn_unused_result));

#endif
