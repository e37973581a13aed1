/*
 * The step interface: one kind of step per step_*.c file (in place, copy,
 * restore), each a table of functions the batch protocol (batch.c) drives.
 * A step walks its rows by key in ranges (lo, hi]; batch.c opens the
 * batch's transaction on the target, has the step queue its statements in
 * it, then advances the checkpoint and commits.
 *
 * A step gets everything it needs in struct step_ctx and reports through
 * the callbacks there; it never calls the job driver (runner.c) by name.
 * Every callback runs later, from the loop, never inside the call that
 * started the work. A lost target connection is not reported: the query's
 * callback sees res NULL and the step does nothing (runner.c's connection
 * handler drops the job, which resumes from its checkpoint later).
 */
#ifndef STEP_H
#define STEP_H

#include <stdbool.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "log.h"
#include "pg.h"
#include "plan.h"

/* Most values one statement of a step binds. */
#define STEP_MAX_VALUES 136

struct step;

/* What a step reports. */
struct step_events {
	/* ready: the step can run its batches from lo (the checkpoint, or
	 * the lowest key); estimated is its row estimate (-1: keep the one
	 * recorded, when resuming). */
	void (*ready)(void *arg, const char *lo, long long estimated);
	/* range: the next range ends at hi with rows rows; rows == 0: no
	 * rows are left (hi NULL). */
	void (*range)(void *arg, const char *hi, long long rows);
	/* the job fails with msg; nothing more is reported */
	void (*failed)(void *arg, const char *msg);
	void *arg;
};

/* The job's values and the world a step runs in, owned by the driver. */
struct step_ctx {
	struct event_base *base;
	struct pg_conn *target;
	const struct config *cfg; /* [database NAME] sections */
	const struct plan *plan;
	const struct plan_step *step;
	const char *tenant;
	json_t *values;         /* :NAME -> text or null (params, args, pair) */
	const char *job;        /* the job's id, as text */
	const char *source_job; /* rollback: the job whose backups it uses */
	bool dry_run;
	const struct log_ctx *log;
	struct step_events ev;
	long long batch; /* the batch size next_range will be asked for */
};

struct step_ops {
	const char *kind;
	/* NULL on out of memory */
	struct step *(*create)(const struct step_ctx *ctx);
	/* checkpoint: where a resumed step continues, or NULL */
	void (*start)(struct step *s, const char *checkpoint);
	/* finds the range after lo of at most batch rows (ev.range) */
	void (*next_range)(struct step *s, const char *lo, long long batch);
	/*
	 * Binds the values of the batch's statements for (lo, hi], before
	 * its transaction opens: -1 (after ev.failed) when one lacks.
	 */
	int (*bind)(struct step *s, const char *lo, const char *hi);
	/*
	 * Queues the batch's statements (bound by bind) on the target,
	 * inside the open transaction: part gets every result but the last,
	 * done the last. -1 when nothing could be queued.
	 */
	int (*apply)(struct step *s, pg_result_cb part, pg_result_cb done,
	             void *arg);
	/* rows the batch changed, from done's result */
	long long (*changed)(struct step *s, const PGresult *res);
	/* the driver stops the job: drop any wait (no event follows) */
	void (*free)(struct step *s);
};

extern const struct step_ops step_inplace_ops;
extern const struct step_ops step_copy_ops;
extern const struct step_ops step_restore_ops;

/* The ops for a step of a job: restore for rollbacks, else by kind. */
const struct step_ops *step_ops_for(const struct plan_step *step, bool restore);

/*
 * Fills values for stmt's parameters from ctx (tenant, lo, hi, the named
 * values); returns their number, or -1 naming the missing one in *missing.
 */
int step_bind(const struct step_ctx *ctx, const struct sql_stmt *stmt,
              const char *lo, const char *hi, const char **values,
              const char **missing) __attribute__((warn_unused_result));

/* The step's table as "schema"."table", quoted by libpq (malloc'd). */
char *step_table(struct pg_conn *conn, const struct plan_step *step);

/* ctx->ev.failed with a formatted message. */
void step_fail(const struct step_ctx *ctx, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/*
 * True when res is a usable result; otherwise reports a failed statement
 * (what: what it was doing) or, for res NULL, nothing (connection lost).
 */
bool step_ok(const struct step_ctx *ctx, const PGresult *res, const char *what);

/*
 * The first error of a transaction's statements, and whether it is the
 * stale-job error of migrated.advance() or migrated.cleared() (SQLSTATE
 * MG002: the job is no longer ours).
 */
struct step_error {
	char msg[1024];
	bool stale;
};

/* Keeps res's error in e unless e holds one already; prefix may be "". */
void step_note_error(struct step_error *e, const PGresult *res,
                     const char *prefix);

/* The value below every key of a column type (as format_type names it),
 * or NULL when batches cannot walk keys of that type. */
const char *step_lowest_key(const char *type);

/* Why a key of that type cannot be walked, for step_fail. */
#define STEP_KEY_TYPES "an integer, numeric, text, uuid, date or timestamp key"

/*
 * Drops a UTF-8 sequence cut short at the end of s (by a truncating
 * snprintf): the server refuses such text, and a job whose failure cannot
 * be recorded stays 'running' and is claimed and run again at once.
 */
void step_trim_utf8(char *s);

#endif
