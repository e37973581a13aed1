/*
 * The job driver: a runner holds one connection to the target and runs one
 * job at a time on it — claim (claim.c), the params row, the pre-checks,
 * the fresh clears, each step through batch.c with the step's kind
 * (step_*.c), the verifications, and the job's end. A job of kind
 * "schema" is handed to schema_apply.c instead of the plan's steps.
 */
#include "runner.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "batch.h"
#include "catalog.h"
#include "checks.h"
#include "claim.h"
#include "jobrow.h"
#include "clear.h"
#include "compare.h"
#include "daemon.h"
#include "log.h"
#include "pg.h"
#include "schema_apply.h"

#define MAX_PARAMS CATALOG_MAX_PARAMS

enum phase { R_DISCONNECTED, R_IDLE, R_CLAIMING, R_RUNNING };

struct runner {
	struct daemon *d;
	struct runner_events ev;
	struct pg_conn *conn;
	char name[64];
	char owner[128];
	enum phase phase;
	bool stop;
	bool freeing;

	/* the job */
	long long job;
	char job_s[24];
	struct catalog *plans; /* reference kept while the job runs */
	const struct plan *plan;
	char *tenant;
	char *pair;
	json_t *params; /* the params row: column -> text or null */
	json_t *args;   /* submit-time parameters */
	json_t *values; /* params, args and the pair: what steps bind */
	long long batch_override;
	bool dry_run; /* batches roll back; progress is kept */
	bool skip_checks;
	bool restore;      /* a rollback job */
	bool fresh;        /* clear first */
	char source_s[24]; /* rollback: the job whose backups it uses */
	json_t *steps;     /* [[name, state, checkpoint, cleared], ...] */
	size_t step_idx;
	struct log_ctx ctx;

	struct batch *batch;      /* the step running */
	struct batch *done_batch; /* the step that just ended, freed later */
	struct clear *clear;
	struct compare *compare; /* [plan] compare = yes, after the steps */
	struct event *next;      /* goes on with the next step, from the loop */
	struct schema_run *schema; /* a schema job's driver */
	char *schema_plan;         /* its plan, "schema:SET" */
};

static void next_step(struct runner *r);
static void job_failed(struct runner *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static int query(struct runner *r, const char *sql, int n,
                 const char *const *values, pg_result_cb cb);
static void verify(struct runner *r);

/* ---- helpers ---- */

static void
replace(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? strdup(value) : NULL;
}

static int
query(struct runner *r, const char *sql, int n, const char *const *values,
      pg_result_cb cb)
{
	if (pg_query(r->conn, sql, n, values, cb, r) < 0) {
		/* only when the connection is gone: on_state handles it */
		log_ctx(LOG_DEBUG, &r->ctx, "query not sent: connection down");
		return -1;
	}
	return 0;
}

static void
clear_step(struct runner *r)
{
	batch_free(r->batch);
	batch_free(r->done_batch);
	r->batch = r->done_batch = NULL;
	r->ctx.step = NULL;
}

static void
clear_job(struct runner *r)
{
	clear_step(r);
	clear_free(r->clear);
	r->clear = NULL;
	if (r->compare != NULL)
		compare_cancel(r->compare);
	r->compare = NULL;
	schema_run_free(r->schema);
	r->schema = NULL;
	replace(&r->schema_plan, NULL);
	replace(&r->tenant, NULL);
	replace(&r->pair, NULL);
	json_decref(r->params);
	json_decref(r->args);
	json_decref(r->values);
	json_decref(r->steps);
	r->params = r->steps = r->args = r->values = NULL;
	catalog_unref(r->plans);
	r->plans = NULL;
	r->plan = NULL;
	r->job = 0;
	r->step_idx = 0;
	r->batch_override = 0;
	r->dry_run = r->skip_checks = r->restore = r->fresh = false;
	r->source_s[0] = '\0';
	r->stop = false;
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

static void job_failed(struct runner *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
job_failed(struct runner *r, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	step_trim_utf8(msg);
	log_ctx(LOG_ERR, &r->ctx, "job failed: %s", msg);
	if (jobrow_fail(r->conn, r->job_s, r->owner, msg, on_job_ended, r) < 0)
		clear_job(r);
}

/* ---- finishing ---- */

static void
job_succeeded(struct runner *r)
{
	log_ctx(LOG_INFO, &r->ctx, "job succeeded");
	if (jobrow_succeed(r->conn, r->job_s, r->owner, on_job_ended, r) < 0)
		clear_job(r);
}

static void
on_warnings_saved(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	char buf[512];

	if (res == NULL)
		log_ctx(LOG_WARNING, &r->ctx, "cannot record the warnings: %s",
		        error != NULL ? error : "connection lost");
	else if (!pg_result_ok(res))
		log_ctx(LOG_WARNING, &r->ctx, "cannot record the warnings: %s",
		        pg_result_error(res, buf, sizeof(buf)));
	else if (strcmp(PQcmdTuples((PGresult *)res), "1") != 0)
		log_ctx(LOG_WARNING, &r->ctx,
		        "cannot record the warnings: the job's row was not "
		        "updated");
}

/* ---- steps ---- */

static void
on_next(evutil_socket_t fd, short what, void *arg)
{
	struct runner *r = arg;

	(void)fd;
	(void)what;
	batch_free(r->done_batch);
	r->done_batch = NULL;
	next_step(r);
}

/* The step is recorded done: go on from the loop, where its batch can go. */
static void
on_batch_done(void *arg)
{
	struct runner *r = arg;

	r->done_batch = r->batch;
	r->batch = NULL;
	r->step_idx++;
	event_active(r->next, 0, 0);
}

static void
on_batch_failed(void *arg, const char *msg)
{
	job_failed(arg, "%s", msg);
}

static void
on_batch_stopped(void *arg)
{
	release(arg);
}

static void
on_batch_rows(void *arg, long long rows)
{
	struct runner *r = arg;

	r->ev.rows(r->ev.arg, rows);
}

static void
step_context(struct runner *r, const struct plan_step *step,
             struct step_ctx *ctx)
{
	*ctx = (struct step_ctx){
	        .base = r->d->base,
	        .target = r->conn,
	        .cfg = &r->d->cfg,
	        .plan = r->plan,
	        .step = step,
	        .tenant = r->tenant,
	        .values = r->values,
	        .job = r->job_s,
	        .source_job = r->source_s,
	        .dry_run = r->dry_run,
	        .log = &r->ctx,
	};
}

static void
next_step(struct runner *r)
{
	struct batch_events bev = {on_batch_done, on_batch_failed,
	                           on_batch_stopped, on_batch_rows, r};
	struct step_ctx ctx;
	json_t *entry;
	const char *name, *state, *checkpoint;
	const struct plan_step *step;
	long long size;

	if (r->stop) {
		release(r);
		return;
	}
	entry = json_array_get(r->steps, r->step_idx);
	if (entry == NULL) {
		verify(r);
		return;
	}
	name = json_string_value(json_array_get(entry, 0));
	state = json_string_value(json_array_get(entry, 1));
	checkpoint = json_string_value(json_array_get(entry, 2));
	step = plan_step_find(r->plan, name);
	r->ctx.step = name;
	if (step == NULL) {
		job_failed(r, "plan %s has no step %s any more", r->plan->name,
		           name);
		return;
	}
	if (strcmp(state, "done") == 0) {
		r->step_idx++;
		next_step(r);
		return;
	}
	size = plan_batch_size(step, r->batch_override, r->d->cfg.batch_size);
	step_context(r, step, &ctx);
	r->batch = batch_start(
	        &ctx, step_ops_for(step, r->restore), r->owner, size,
	        strcmp(state, "running") == 0 ? checkpoint : NULL, &bev);
	if (r->batch == NULL)
		job_failed(r,
		           "step %s: cannot prepare its queries: out of "
		           "memory",
		           name);
}

/* ---- fresh: the selected steps' clear SQL, before any of them ---- */

static void
on_cleared(void *arg, const char *error, bool stale)
{
	struct runner *r = arg;

	if (stale) {
		log_ctx(LOG_INFO, &r->ctx,
		        "job is no longer running here; stopping");
		release(r);
	} else if (error != NULL) {
		job_failed(r, "%s", error);
	} else {
		event_active(r->next, 0, 0);
	}
}

/* Runs the clears not done yet, in reverse step order, then the steps. */
static void
start_steps(struct runner *r)
{
	struct step_ctx ctx;

	if (!r->fresh || r->restore || r->dry_run) {
		next_step(r);
		return;
	}
	step_context(r, NULL, &ctx);
	r->clear = clear_start(&ctx, r->steps, r->owner, on_cleared, r);
	if (r->clear == NULL)
		job_failed(r, "cannot run the steps' clear SQL: out of memory");
}

/* ---- claiming ---- */

/* Appends the warnings of results to the job; the flow goes on at once. */
static void
record_warnings(struct runner *r, json_t *results)
{
	char *text = checks_describe(results, true);
	if (text != NULL && text[0] != '\0') {
		log_ctx(LOG_WARNING, &r->ctx, "warning: %s", text);
		if (jobrow_warn(r->conn, r->job_s, text, on_warnings_saved, r) <
		    0)
			log_ctx(LOG_WARNING, &r->ctx,
			        "cannot record the warnings: %s",
			        pg_conn_error(r->conn) != NULL
			                ? pg_conn_error(r->conn)
			                : "connection down");
	}
	free(text);
}

/*
 * The outcome of a checks run: records its warnings, and fails the job
 * (with failure before the findings) unless every error-level check held.
 * A lost connection is left to on_state: the job resumes later.
 */
static bool
checks_passed(struct runner *r, const struct checks_outcome *out,
              const char *what, const char *failure)
{
	char *text;

	if (r->freeing || r->job == 0 || out->unavailable)
		return false;
	if (out->error != NULL) {
		job_failed(r, "%s could not run: %s", what, out->error);
		return false;
	}
	record_warnings(r, out->results);
	if (!out->failed)
		return true;
	text = checks_describe(out->results, false);
	job_failed(r, "%s: %s", failure, text != NULL ? text : "?");
	free(text);
	return false;
}

static void
on_compared(void *arg, const struct compare_outcome *out)
{
	struct runner *r = arg;

	r->compare = NULL; /* frees itself after this */
	if (out->ok) {
		log_ctx(LOG_INFO, &r->ctx, "compare: %s", out->summary);
		job_succeeded(r);
	} else if (out->unavailable) {
		/* like a lost connection: the job compares again later */
		log_ctx(LOG_WARNING, &r->ctx,
		        "compare could not reach a database (%s); the job "
		        "compares again once it is back",
		        out->error != NULL ? out->error : "?");
		release(r);
	} else {
		job_failed(r, "%s", out->summary);
	}
}

/* [plan] compare = yes: the copy steps' rows against the source's. */
static void
compare_or_succeed(struct runner *r)
{
	json_t *names;
	size_t i;
	json_t *entry;

	if (!r->plan->compare || r->dry_run || r->restore) {
		job_succeeded(r);
		return;
	}
	names = json_array();
	json_array_foreach(r->steps, i, entry)
	        json_array_append(names, json_array_get(entry, 0));
	struct compare_job cj = {.id = r->job,
	                         .plan = r->plan,
	                         .tenant = r->tenant,
	                         .pair = r->pair,
	                         .params = r->params,
	                         .args = r->args,
	                         .steps = names};
	r->compare = compare_job(r->d->base, &r->d->cfg, &cj, on_compared, r);
	json_decref(names);
	if (r->compare == NULL)
		job_failed(r, "cannot compare: out of memory");
}

static void
on_verified(void *arg, const struct checks_outcome *out)
{
	struct runner *r = arg;

	if (checks_passed(r, out, "verification", "verification failed"))
		compare_or_succeed(r);
}

/* Runs list for the job; an out-of-memory refusal fails the job. */
static void
run_checks(struct runner *r, const struct plan_check *list, size_t n,
           checks_done_cb cb)
{
	if (checks_run(r->conn, r->plan, list, n, r->tenant, r->values, cb,
	               r) == 0)
		return;
	if (pg_conn_state(r->conn) == PG_READY)
		job_failed(r, "cannot run the plan's checks: out of memory");
	/* otherwise on_state drops the job; it resumes once reconnected */
}

/* After the last step: the [verify] sections (not for dry runs). */
static void
verify(struct runner *r)
{
	if (r->dry_run || r->restore || r->plan->nverifies == 0) {
		compare_or_succeed(r);
		return;
	}
	run_checks(r, r->plan->verifies, r->plan->nverifies, on_verified);
}

static void
on_prechecked(void *arg, const struct checks_outcome *out)
{
	struct runner *r = arg;

	if (checks_passed(r, out, "pre-check",
	                  "pre-check failed, nothing was changed"))
		start_steps(r);
}

/* Before the first batch of a job: its [check] sections. */
static void
precheck(struct runner *r)
{
	bool started = false;
	size_t i;
	json_t *entry;

	json_array_foreach(r->steps, i, entry)
	{
		if (strcmp(json_string_value(json_array_get(entry, 1)),
		           "pending") != 0)
			started = true;
	}
	if (started || r->skip_checks || r->restore || r->plan->nchecks == 0) {
		start_steps(r);
		return;
	}
	run_checks(r, r->plan->checks, r->plan->nchecks, on_prechecked);
}

/* The values steps bind: the params row, the parameters and the pair. */
static int
merge_values(struct runner *r)
{
	r->values = json_deep_copy(r->params);
	if (r->values == NULL ||
	    (r->args != NULL && json_object_update(r->values, r->args) < 0) ||
	    (r->pair != NULL && r->plan->pair != NULL &&
	     json_object_set_new(r->values, r->plan->pair,
	                         json_string(r->pair)) < 0))
		return -1;
	return 0;
}

static void
with_params(struct runner *r)
{
	if (merge_values(r) < 0) {
		job_failed(r, "cannot bind the job's values: out of memory");
		return;
	}
	precheck(r);
}

static void
on_params_saved(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	char buf[1024];

	(void)error;
	if (r->freeing || res == NULL)
		return;
	if (!pg_result_ok(res)) {
		job_failed(r, "saving the job's parameters: %s",
		           pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	with_params(r);
}

static void
on_params(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	char err[512], buf[1024];
	char *text;

	(void)error;
	if (r->freeing || res == NULL)
		return;
	if (!pg_result_ok(res)) {
		job_failed(r, "running the plan's params query: %s",
		           pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	r->params = checks_params_row(r->plan, res, err, sizeof(err));
	if (r->params == NULL) {
		job_failed(r, "tenant %s: %s", r->tenant, err);
		return;
	}
	/* kept with the job, so a resumed job binds the same values */
	text = json_dumps(r->params, JSON_COMPACT);
	if (text == NULL ||
	    jobrow_save_params(r->conn, r->job_s, text, on_params_saved, r) < 0)
		log_ctx(LOG_DEBUG, &r->ctx,
		        "params not saved: connection down");
	free(text);
}

static void
on_steps(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	const char *values[MAX_PARAMS];
	char buf[1024];

	(void)error;
	if (r->freeing || res == NULL)
		return;
	if (!pg_result_ok(res)) {
		job_failed(r, "loading the job's steps: %s",
		           pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	r->steps = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	if (r->steps == NULL) {
		job_failed(r, "cannot read the job's steps");
		return;
	}
	if (r->params != NULL || !r->plan->has_params) {
		if (r->params == NULL)
			r->params = json_object();
		with_params(r);
		return;
	}
	if (catalog_bind(&r->plan->params.stmt, r->tenant, NULL, NULL, NULL,
	                 values) < 0) {
		job_failed(r,
		           "the params query has a parameter without a value");
		return;
	}
	query(r, r->plan->params.stmt.text, (int)r->plan->params.stmt.nparams,
	      values, on_params);
}

/* ---- schema jobs: schema_apply.c runs the set's files ---- */

static void
on_schema_done(void *arg)
{
	job_succeeded(arg);
}

static void
on_schema_failed(void *arg, const char *msg)
{
	job_failed(arg, "%s", msg);
}

static void
on_schema_stopped(void *arg)
{
	release(arg);
}

static void
start_schema(struct runner *r, const PGresult *res)
{
	struct schema_run_events ev = {on_schema_done, on_schema_failed,
	                               on_schema_stopped, r};
	json_t *args = json_loads(PQgetvalue(res, 0, 5), 0, NULL);

	r->phase = R_RUNNING;
	replace(&r->schema_plan, PQgetvalue(res, 0, 1));
	replace(&r->tenant, PQgetvalue(res, 0, 2));
	r->ctx.job = r->job;
	r->ctx.plan = r->schema_plan;
	r->ctx.tenant = r->tenant;
	log_ctx(LOG_INFO, &r->ctx, "job started on %s", r->name);
	r->ev.claimed(r->ev.arg, r, true);
	struct schema_run_ctx sc = {.base = r->d->base,
	                            .cfg = &r->d->cfg,
	                            .state = r->conn,
	                            .set = r->schema_plan + strlen("schema:"),
	                            .job = r->job_s,
	                            .owner = r->owner,
	                            .args = args};
	r->schema = args != NULL && r->schema_plan != NULL
	                    ? schema_run_start(&sc, &ev)
	                    : NULL;
	json_decref(args);
	if (r->schema == NULL)
		job_failed(r, "cannot start the schema job: out of memory");
}

static const char *
cell(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : PQgetvalue(res, 0, col);
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
	r->job = atoll(PQgetvalue(res, 0, 0));
	snprintf(r->job_s, sizeof(r->job_s), "%lld", r->job);
	if (strncmp(PQgetvalue(res, 0, 1), "schema:", strlen("schema:")) == 0) {
		start_schema(r, res);
		return;
	}
	r->plans = catalog_ref(r->d->plans);
	r->plan = catalog_find(r->plans, PQgetvalue(res, 0, 1));
	if (r->plan == NULL) { /* claim only takes plans we have */
		release(r);
		return;
	}
	r->phase = R_RUNNING;
	r->tenant = strdup(PQgetvalue(res, 0, 2));
	replace(&r->pair, cell(res, 3));
	r->params = cell(res, 4) ? json_loads(cell(res, 4), 0, NULL) : NULL;
	r->args = json_loads(PQgetvalue(res, 0, 5), 0, NULL);
	r->batch_override = atoll(PQgetvalue(res, 0, 6));
	r->dry_run = strcmp(PQgetvalue(res, 0, 7), "t") == 0;
	r->skip_checks = strcmp(PQgetvalue(res, 0, 8), "t") == 0;
	r->fresh = strcmp(PQgetvalue(res, 0, 9), "t") == 0;
	r->restore = strcmp(PQgetvalue(res, 0, 10), "t") == 0;
	snprintf(r->source_s, sizeof(r->source_s), "%s",
	         PQgetvalue(res, 0, 11));
	r->ctx.job = r->job;
	r->ctx.plan = r->plan->name;
	r->ctx.tenant = r->tenant;
	log_ctx(LOG_INFO, &r->ctx, "job started on %s%s", r->name,
	        r->dry_run ? " (dry run)" : "");
	r->ev.claimed(r->ev.arg, r, true);
	if (jobrow_steps(r->conn, r->job_s, on_steps, r) < 0)
		log_ctx(LOG_DEBUG, &r->ctx, "steps not read: connection down");
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
	r->next = event_new(d->base, -1, 0, on_next, r);
	if (r->next == NULL) {
		runner_free(r);
		return NULL;
	}
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
	if (r->next != NULL)
		event_free(r->next);
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
	r->stop = true;
	if (r->batch != NULL)
		batch_stop(r->batch);
	if (r->schema != NULL)
		schema_run_stop(r->schema);
}
