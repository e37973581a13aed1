/*
 * One file of a schema run (schema_apply.c) on the set's database: in a
 * transaction of its own together with its history row, or, marked
 * "-- migrated: no-transaction", statement by statement outside one and
 * recorded after its last statement; in a dry run, statement by statement
 * (for the command tags) inside the run's transaction, a no-transaction
 * file not at all. A failing statement is reported as
 * "file:line:column: message (SQLSTATE xxxxx)" and recorded in the history
 * (not in a dry run). The run hands in the connection and is told how the
 * file ended; it never hears of the file after a cancel.
 */
#ifndef SCHEMA_APPLY_FILE_H
#define SCHEMA_APPLY_FILE_H

#include <stdbool.h>

#include "log.h"
#include "pg.h"
#include "schema_apply_plan.h"

struct schema_file_run;

/* A statement with its parameters; the strings are the caller's. */
struct schema_file_stmt {
	const char *sql;
	int n;
	const char *const *values;
};

/*
 * What the history rows say of the run; the strings are the run's. also
 * (NULL: none) runs after the file's history row, in the file's
 * transaction: the daemon's own upgrades record their version there too.
 */
struct schema_file_ctx {
	const char *set, *uid, *username, *job;
	bool revert, dry_run;
	const struct schema_file_stmt *also;
};

/* How a file ends; ran may come from within schema_file_run_start. */
struct schema_file_events {
	/* recorded and committed (dry: ran or skipped): its command tags
	 * (NULL when none), the rows it changed and how long it took */
	void (*ran)(void *arg, const char *tags, long long changed,
	            long long ms);
	/* the run fails with msg (the failure is recorded already) */
	void (*failed)(void *arg, const char *msg);
	/* a warning for the job */
	void (*warning)(void *arg, const char *text);
	void *arg;
};

/*
 * For the files of one run on conn; log is the run's (NULL: messages
 * without a job's context). NULL: no memory.
 */
struct schema_file_run *schema_file_run_new(struct pg_conn *conn,
                                            const struct schema_file_ctx *ctx,
                                            const struct schema_file_events *ev,
                                            const struct log_ctx *log)
        __attribute__((warn_unused_result));

/* Runs it (kept until it ends); more: files follow it in the run. */
void schema_file_run_start(struct schema_file_run *fr,
                           const struct schema_item *it, bool more);

/* No event after this: the run has ended or is being freed. */
void schema_file_run_cancel(struct schema_file_run *fr);

/* After the connection is freed (its answers may still come until then). */
void schema_file_run_free(struct schema_file_run *fr);

#endif
