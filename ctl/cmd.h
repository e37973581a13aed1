/*
 * The handlers of migratectl's verbs, one file per group of verbs. When a
 * handler runs, verbs.c has parsed the verb's options into a and checked
 * the number of its positional arguments against its row of the table.
 * Each returns an exit status (enum ctl_exit) and has printed the problem
 * when it is not CTL_EXIT_OK.
 */
#ifndef CMD_H
#define CMD_H

#include "args.h"
#include "session.h"

struct cmd_ctx {
	struct session session;
	/* From the verb's row, for a handler that serves several verbs: */
	const char *method; /* the method it calls */
	const char *done;   /* what it did to the jobs: "paused" */
};

/* cmd_daemon.c: the daemon and its plans. */
int cmd_status(struct cmd_ctx *ctx, struct args *a);
int cmd_plans(struct cmd_ctx *ctx, struct args *a);
int cmd_log(struct cmd_ctx *ctx, struct args *a);

/* cmd_jobs.c: queueing, listing, following and changing jobs. */
int cmd_submit(struct cmd_ctx *ctx, struct args *a);
int cmd_list(struct cmd_ctx *ctx, struct args *a);
int cmd_show(struct cmd_ctx *ctx, struct args *a);
int cmd_watch(struct cmd_ctx *ctx, struct args *a);
/* pause, resume, cancel, retry: ctx->method on (JOB ... | --all). */
int cmd_change_jobs(struct cmd_ctx *ctx, struct args *a);

/* cmd_checks.c: pre-checks and post-verifications. */
int cmd_validate(struct cmd_ctx *ctx, struct args *a);
int cmd_verify(struct cmd_ctx *ctx, struct args *a);

/* cmd_rejects.c: rows of SQLite sources that did not convert. */
int cmd_rejects(struct cmd_ctx *ctx, struct args *a);

/* cmd_backups.c: rollbacks and the backups they restore. */
int cmd_rollback(struct cmd_ctx *ctx, struct args *a);
int cmd_backups(struct cmd_ctx *ctx, struct args *a);

/* cmd_throttle.c: throttles and a running job's pacing. */
int cmd_throttle(struct cmd_ctx *ctx, struct args *a);
int cmd_set(struct cmd_ctx *ctx, struct args *a);

/* cmd_schema.c: schema sets (migratectl schema VERB). */
int cmd_schema_status(struct cmd_ctx *ctx, struct args *a);
/* apply, revert: ctx->method, ctx->done the job's word ("apply"). */
int cmd_schema_job(struct cmd_ctx *ctx, struct args *a);
int cmd_schema_baseline(struct cmd_ctx *ctx, struct args *a);
int cmd_schema_repair(struct cmd_ctx *ctx, struct args *a);
int cmd_schema_adopt(struct cmd_ctx *ctx, struct args *a);
int cmd_schema_diff(struct cmd_ctx *ctx, struct args *a);
int cmd_schema_drift(struct cmd_ctx *ctx, struct args *a);
int cmd_schema_dump(struct cmd_ctx *ctx, struct args *a);
int cmd_schema_squash(struct cmd_ctx *ctx, struct args *a);

#endif
