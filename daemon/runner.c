/*
 * The runner: one connection to the target and one job at a time on it —
 * claim (claim.c), hand the job to its kind's driver (driver_*.c), record
 * the job's end (jobrow.c) and let go of its lock.
 */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "claim.h"
#include "daemon.h"
#include "driver.h"
#include "jobrow.h"
#include "log.h"
#include "pg.h"
#include "step.h"

enum phase { R_DISCONNECTED, R_IDLE, R_CLAIMING, R_RUNNING };

struct runner {
	struct daemon *d;
	struct runner_events ev;
	struct pg_conn *conn;
	char name[64];
	char owner[128];
	enum phase phase;
	bool freeing;

	/* the job */
	long long job;
	char job_s[24];
	const struct driver_ops *ops;
	struct driver *drv;
	struct log_ctx ctx;
};

static void
clear_job(struct runner *r)
{
	if (r->ops != NULL)
		r->ops->free(r->drv);
	r->ops = NULL;
	r->drv = NULL;
	r->job = 0;
	r->job_s[0] = '\0';
	memset(&r->ctx, 0, sizeof(r->ctx));
}

static void
become_idle(struct runner *r)
{
	bool was_claiming = r->phase == R_CLAIMING;

	clear_job(r);
	r->phase = R_IDLE;
	if (was_claiming)
		r->ev.claimed(r->ev.arg, r, false);
	else
		r->ev.idle(r->ev.arg, r);
}

static void
on_unlocked(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;

	(void)error;
	if (r->freeing || res == NULL)
		return;
	become_idle(r);
}

/* Lets go of the job: the lock, then back to idle. */
static void
release(struct runner *r)
{
	if (claim_release(r->conn, on_unlocked, r) < 0)
		clear_job(r);
}

static void
on_job_ended(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	char buf[512];

	if (r->freeing || res == NULL)
		return;
	if (!pg_result_ok(res))
		log_ctx(LOG_ERR, &r->ctx, "cannot record the job's end: %s",
		        error != NULL ? error
		                      : pg_result_error(res, buf, sizeof(buf)));
	release(r);
}

/* ---- what the driver reports ---- */

static void
on_failed(void *arg, const char *text)
{
	struct runner *r = arg;
	char msg[2048];

	snprintf(msg, sizeof(msg), "%s", text);
	step_trim_utf8(msg);
	log_ctx(LOG_ERR, &r->ctx, "job failed: %s", msg);
	if (jobrow_fail(r->conn, r->job_s, r->owner, msg, on_job_ended, r) < 0)
		clear_job(r);
}

static void
on_succeeded(void *arg)
{
	struct runner *r = arg;

	log_ctx(LOG_INFO, &r->ctx, "job succeeded");
	if (jobrow_succeed(r->conn, r->job_s, r->owner, on_job_ended, r) < 0)
		clear_job(r);
}

static void
on_stopped(void *arg)
{
	release(arg);
}

static void
on_rows(void *arg, long long rows)
{
	struct runner *r = arg;

	r->ev.rows(r->ev.arg, rows);
}

/* ---- claiming ---- */

static void
start_job(struct runner *r, const PGresult *res)
{
	struct driver_ctx ctx = {
	        .base = r->d->base,
	        .cfg = &r->d->cfg,
	        .plans = r->d->plans,
	        .conn = r->conn,
	        .throttle = r->d->throttle,
	        .job = r->job,
	        .job_s = r->job_s,
	        .owner = r->owner,
	        .log = &r->ctx,
	        .ev = {on_succeeded, on_failed, on_stopped, on_rows, r},
	};
	enum driver_start started;

	r->ctx.job = r->job;
	r->ops = driver_ops_for(PQgetvalue(res, 0, CLAIM_COL_PLAN));
	started = r->ops->start(&ctx, res, &r->drv);
	if (started == DRIVER_SKIP) {
		release(r);
		return;
	}
	r->phase = R_RUNNING;
	log_ctx(LOG_INFO, &r->ctx, "job started on %s%s", r->name,
	        strcmp(PQgetvalue(res, 0, CLAIM_COL_DRY_RUN), "t") == 0
	                ? " (dry run)"
	                : "");
	r->ev.claimed(r->ev.arg, r, true);
	if (started == DRIVER_NOMEM)
		on_failed(r, "cannot start the job: out of memory");
}

static void
on_claimed(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	char buf[512];

	(void)error;
	if (r->freeing || res == NULL)
		return;
	if (!pg_result_ok(res)) {
		log_warning("%s: cannot look for jobs: %s", r->name,
		            pg_result_error(res, buf, sizeof(buf)));
		release(r);
		return;
	}
	if (PQntuples(res) == 0) {
		become_idle(r);
		return;
	}
	r->job = atoll(PQgetvalue(res, 0, CLAIM_COL_ID));
	snprintf(r->job_s, sizeof(r->job_s), "%lld", r->job);
	start_job(r, res);
}

void
runner_claim(struct runner *r, const char *exclude)
{
	if (r->phase != R_IDLE)
		return;
	r->phase = R_CLAIMING;
	if (claim_next(r->conn, r->d->plans, &r->d->cfg, exclude, r->owner,
	               on_claimed, r) < 0) {
		r->phase = R_DISCONNECTED;
		r->ev.claimed(r->ev.arg, r, false);
	}
}

/* ---- the connection ---- */

static void
on_state(void *arg, enum pg_state state, const char *error)
{
	struct runner *r = arg;

	if (r->freeing)
		return;
	if (state == PG_READY) {
		r->phase = R_IDLE;
		r->ev.idle(r->ev.arg, r);
		return;
	}
	if (r->job != 0)
		log_ctx(LOG_WARNING, &r->ctx,
		        "database connection lost (%s); the job continues from "
		        "its checkpoint once it is back",
		        error != NULL ? error : "?");
	clear_job(r);
	if (r->phase == R_CLAIMING)
		r->ev.claimed(r->ev.arg, r, false);
	r->phase = R_DISCONNECTED;
}

struct runner *
runner_new(struct daemon *d, int slot, const struct runner_events *ev)
{
	struct runner *r = calloc(1, sizeof(*r));
	char host[64] = "localhost";

	if (r == NULL)
		return NULL;
	r->d = d;
	r->ev = *ev;
	snprintf(r->name, sizeof(r->name), "migrated-worker-%d", slot);
	gethostname(host, sizeof(host) - 1);
	snprintf(r->owner, sizeof(r->owner), "%s:%d:%d", host, (int)getpid(),
	         slot);
	r->conn = pg_conn_new(d->base, d->cfg.target_conninfo, r->name,
	                      on_state, r);
	if (r->conn == NULL) {
		free(r);
		return NULL;
	}
	pg_conn_set_backoff_max(r->conn, d->cfg.reconnect_max_ms);
	return r;
}

void
runner_free(struct runner *r)
{
	if (r == NULL)
		return;
	r->freeing = true;
	pg_conn_free(r->conn);
	clear_job(r);
	free(r);
}

bool
runner_idle(const struct runner *r)
{
	return r->phase == R_IDLE;
}

long long
runner_job(const struct runner *r)
{
	return r->job;
}

void
runner_set_backoff_max(struct runner *r, long long ms)
{
	pg_conn_set_backoff_max(r->conn, ms);
}

void
runner_stop(struct runner *r)
{
	if (r->ops != NULL && r->drv != NULL)
		r->ops->stop(r->drv);
}
