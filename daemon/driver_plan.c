/*
 * The driver of a plan's job: the params row, the pre-checks, the fresh
 * clears, each step through batch.c with the step's kind (step_*.c), the
 * verifications, the source-vs-target compare ([plan] compare = yes), and
 * the job's end, reported to the runner through driver_events.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "batch.h"
#include "catalog.h"
#include "checks.h"
#include "claim.h"
#include "clear.h"
#include "compare.h"
#include "driver.h"
#include "jobrow.h"
#include "log.h"
#include "pg.h"

#define MAX_PARAMS CATALOG_MAX_PARAMS

struct driver {
	struct driver_ctx c; /* the runner's world; c.ev reports to it */
	bool stop;

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

	struct batch *batch;      /* the step running */
	struct batch *done_batch; /* the step that just ended, freed later */
	struct clear *clear;
	struct compare *compare; /* [plan] compare = yes, after the steps */
	struct event *next;      /* goes on with the next step, from the loop */
};

static void next_step(struct driver *r);
static void verify(struct driver *r);
static void job_failed(struct driver *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
job_failed(struct driver *r, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->c.ev.failed(r->c.ev.arg, msg);
}

static void
job_succeeded(struct driver *r)
{
	r->c.ev.succeeded(r->c.ev.arg);
}

static void
release(struct driver *r)
{
	r->c.ev.stopped(r->c.ev.arg);
}

static void
on_warnings_saved(void *arg, const PGresult *res, const char *error)
{
	struct driver *r = arg;
	char buf[512];

	if (res == NULL)
		log_ctx(LOG_WARNING, r->c.log, "cannot record the warnings: %s",
		        error != NULL ? error : "connection lost");
	else if (!pg_result_ok(res))
		log_ctx(LOG_WARNING, r->c.log, "cannot record the warnings: %s",
		        pg_result_error(res, buf, sizeof(buf)));
	else if (strcmp(PQcmdTuples((PGresult *)res), "1") != 0)
		log_ctx(LOG_WARNING, r->c.log,
		        "cannot record the warnings: the job's row was not "
		        "updated");
}

/* ---- steps ---- */

/* The step is recorded done: go on from the loop, where its batch can go. */
static void
on_batch_done(void *arg)
{
	struct driver *r = arg;

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
	struct driver *r = arg;

	r->c.ev.rows(r->c.ev.arg, rows);
}

static void
step_context(struct driver *r, const struct plan_step *step,
             struct step_ctx *ctx)
{
	*ctx = (struct step_ctx){
	        .base = r->c.base,
	        .target = r->c.conn,
	        .cfg = r->c.cfg,
	        .plan = r->plan,
	        .step = step,
	        .tenant = r->tenant,
	        .values = r->values,
	        .job = r->c.job_s,
	        .source_job = r->source_s,
	        .dry_run = r->dry_run,
	        .log = r->c.log,
	};
}

static void
next_step(struct driver *r)
{
	struct batch_events bev = {on_batch_done, on_batch_failed,
	                           on_batch_stopped, on_batch_rows, r};
	struct step_ctx ctx;
	json_t *entry;
	const char *name, *state, *checkpoint;
	const struct plan_step *step;
	struct batch_pace pace;

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
	r->c.log->step = name;
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
	pace.throttle = r->c.throttle;
	pace.override = r->batch_override;
	pace.size =
	        plan_batch_size(step, r->batch_override, r->c.cfg->batch_size);
	pace.target_ms = r->plan->batch_target_ms > 0
	                         ? r->plan->batch_target_ms
	                         : r->c.cfg->batch_target_ms;
	pace.min = r->plan->batch_min > 0 ? r->plan->batch_min
	                                  : r->c.cfg->batch_min;
	pace.max = r->plan->batch_max > 0 ? r->plan->batch_max
	                                  : r->c.cfg->batch_max;
	pace.plan_rows_per_second = r->plan->max_rows_per_second;
	step_context(r, step, &ctx);
	r->batch = batch_start(
	        &ctx, step_ops_for(step, r->restore), r->c.owner, &pace,
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
	struct driver *r = arg;

	if (stale) {
		log_ctx(LOG_INFO, r->c.log,
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
start_steps(struct driver *r)
{
	struct step_ctx ctx;

	if (!r->fresh || r->restore || r->dry_run) {
		next_step(r);
		return;
	}
	step_context(r, NULL, &ctx);
	r->clear = clear_start(&ctx, r->steps, r->c.owner, on_cleared, r);
	if (r->clear == NULL)
		job_failed(r, "cannot run the steps' clear SQL: out of memory");
}

/* ---- claiming ---- */

/* Appends the warnings of results to the job; the flow goes on at once. */
static void
record_warnings(struct driver *r, json_t *results)
{
	char *text = checks_describe(results, true);
	if (text != NULL && text[0] != '\0') {
		log_ctx(LOG_WARNING, r->c.log, "warning: %s", text);
		if (jobrow_warn(r->c.conn, r->c.job_s, text, on_warnings_saved,
		                r) < 0)
			log_ctx(LOG_WARNING, r->c.log,
			        "cannot record the warnings: %s",
			        pg_conn_error(r->c.conn) != NULL
			                ? pg_conn_error(r->c.conn)
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
checks_passed(struct driver *r, const struct checks_outcome *out,
              const char *what, const char *failure)
{
	char *text;

	if (out->unavailable)
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
	struct driver *r = arg;

	r->compare = NULL; /* frees itself after this */
	if (out->ok) {
		log_ctx(LOG_INFO, r->c.log, "compare: %s", out->summary);
		job_succeeded(r);
	} else if (out->unavailable) {
		/* like a lost connection: the job compares again later */
		log_ctx(LOG_WARNING, r->c.log,
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
compare_or_succeed(struct driver *r)
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
	struct compare_job cj = {.id = r->c.job,
	                         .plan = r->plan,
	                         .tenant = r->tenant,
	                         .pair = r->pair,
	                         .params = r->params,
	                         .args = r->args,
	                         .steps = names};
	r->compare = compare_job(r->c.base, r->c.cfg, &cj, on_compared, r);
	json_decref(names);
	if (r->compare == NULL)
		job_failed(r, "cannot compare: out of memory");
}

static void
on_verified(void *arg, const struct checks_outcome *out)
{
	struct driver *r = arg;

	if (checks_passed(r, out, "verification", "verification failed"))
		compare_or_succeed(r);
}

/* Runs list for the job; an out-of-memory refusal fails the job. */
static void
run_checks(struct driver *r, const struct plan_check *list, size_t n,
           checks_done_cb cb)
{
	if (checks_run(r->c.conn, r->plan, list, n, r->tenant, r->values, cb,
	               r) == 0)
		return;
	if (pg_conn_state(r->c.conn) == PG_READY)
		job_failed(r, "cannot run the plan's checks: out of memory");
	/* otherwise on_state drops the job; it resumes once reconnected */
}

/* After the last step: the [verify] sections (not for dry runs). */
static void
verify(struct driver *r)
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
	struct driver *r = arg;

	if (checks_passed(r, out, "pre-check",
	                  "pre-check failed, nothing was changed"))
		start_steps(r);
}

/* Before the first batch of a job: its [check] sections. */
static void
precheck(struct driver *r)
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
merge_values(struct driver *r)
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
with_params(struct driver *r)
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
	struct driver *r = arg;
	char buf[1024];

	(void)error;
	if (res == NULL)
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
	struct driver *r = arg;
	char err[512], buf[1024];
	char *text;

	(void)error;
	if (res == NULL)
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
	if (text == NULL || jobrow_save_params(r->c.conn, r->c.job_s, text,
	                                       on_params_saved, r) < 0)
		log_ctx(LOG_DEBUG, r->c.log,
		        "params not saved: connection down");
	free(text);
}

static void
on_steps(void *arg, const PGresult *res, const char *error)
{
	struct driver *r = arg;
	const char *values[MAX_PARAMS];
	char buf[1024];

	(void)error;
	if (res == NULL)
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
	if (pg_query(r->c.conn, r->plan->params.stmt.text,
	             (int)r->plan->params.stmt.nparams, values, on_params,
	             r) < 0)
		log_ctx(LOG_DEBUG, r->c.log, "query not sent: connection down");
}

/* ---- the driver's table row ---- */

static void
on_next(evutil_socket_t fd, short what, void *arg)
{
	struct driver *r = arg;

	(void)fd;
	(void)what;
	batch_free(r->done_batch);
	r->done_batch = NULL;
	next_step(r);
}

static void
drive_free(struct driver *r)
{
	if (r == NULL)
		return;
	batch_free(r->batch);
	batch_free(r->done_batch);
	clear_free(r->clear);
	if (r->compare != NULL)
		compare_cancel(r->compare);
	if (r->next != NULL)
		event_free(r->next);
	free(r->tenant);
	free(r->pair);
	json_decref(r->params);
	json_decref(r->args);
	json_decref(r->values);
	json_decref(r->steps);
	catalog_unref(r->plans);
	free(r);
}

static enum driver_start
drive_start(const struct driver_ctx *ctx, const PGresult *res,
            struct driver **out)
{
	struct driver *r;
	const char *params = driver_cell(res, CLAIM_COL_PARAMS);
	const char *pair = driver_cell(res, CLAIM_COL_PAIR);
	const struct plan *plan;

	*out = NULL;
	plan = catalog_find(ctx->plans, PQgetvalue(res, 0, CLAIM_COL_PLAN));
	if (plan == NULL) /* claim only takes plans we have */
		return DRIVER_SKIP;
	r = calloc(1, sizeof(*r));
	*out = r;
	if (r == NULL)
		return DRIVER_NOMEM;
	r->c = *ctx;
	r->plans = catalog_ref(ctx->plans);
	r->plan = plan;
	r->tenant = strdup(PQgetvalue(res, 0, CLAIM_COL_TENANT));
	r->pair = pair != NULL ? strdup(pair) : NULL;
	r->params = params != NULL ? json_loads(params, 0, NULL) : NULL;
	r->args = json_loads(PQgetvalue(res, 0, CLAIM_COL_ARGS), 0, NULL);
	r->batch_override = atoll(PQgetvalue(res, 0, CLAIM_COL_BATCH));
	r->dry_run = strcmp(PQgetvalue(res, 0, CLAIM_COL_DRY_RUN), "t") == 0;
	r->skip_checks =
	        strcmp(PQgetvalue(res, 0, CLAIM_COL_SKIP_CHECKS), "t") == 0;
	r->fresh = strcmp(PQgetvalue(res, 0, CLAIM_COL_FRESH), "t") == 0;
	r->restore = strcmp(PQgetvalue(res, 0, CLAIM_COL_RESTORE), "t") == 0;
	snprintf(r->source_s, sizeof(r->source_s), "%s",
	         PQgetvalue(res, 0, CLAIM_COL_SOURCE));
	ctx->log->plan = r->plan->name;
	ctx->log->tenant = r->tenant;
	r->next = event_new(ctx->base, -1, 0, on_next, r);
	if (r->tenant == NULL || r->next == NULL)
		return DRIVER_NOMEM;
	if (jobrow_steps(r->c.conn, r->c.job_s, on_steps, r) < 0)
		log_ctx(LOG_DEBUG, r->c.log, "steps not read: connection down");
	return DRIVER_STARTED;
}

static void
drive_stop(struct driver *r)
{
	r->stop = true;
	if (r->batch != NULL)
		batch_stop(r->batch);
}

const struct driver_ops driver_plan_ops = {
        .kind = "plan",
        .start = drive_start,
        .stop = drive_stop,
        .free = drive_free,
};
