#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

struct batch {
	struct step_ctx ctx;
	const struct step_ops *ops;
	struct step *step;
	struct batch_events ev;
	const char *owner;
	struct pacing pacing;
	struct throttle_job tj;
	long long override, plan_rps;
	long long started_ms; /* of the batch running */
	struct event *wake;   /* stopped while waiting: from the loop */
	bool stop;
	char *lo, *hi;
	long long rows, changed;
	struct timespec began; /* the batch's BEGIN was sent */
	struct step_error error;
};

static void next_batch(struct batch *b);
static void run_batch(struct batch *b);
static void read_settings(struct batch *b);

static long long
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
replace(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? strdup(value) : NULL;
}

static void
query(struct batch *b, const char *sql, int n, const char *const *values,
      pg_result_cb cb)
{
	if (pg_query(b->ctx.target, sql, n, values, cb, b) < 0)
		log_ctx(LOG_DEBUG, b->ctx.log,
		        "query not sent: connection down");
}

/* A statement of the batch's transaction: pipelined with the others, so
 * that BEGIN goes out with the step's statements, and the checkpoint with
 * COMMIT (two round trips a batch). */
static void
in_batch(struct batch *b, const char *sql, int n, const char *const *values,
         pg_result_cb cb)
{
	if (pg_query_pipelined(b->ctx.target, sql, n, values, cb, b) < 0)
		log_ctx(LOG_DEBUG, b->ctx.log,
		        "query not sent: connection down");
}

/* A key for a message: long ones are cut (on a character), so the
 * server's reason after them is never cut off. */
static const char *
short_key(const char *key, char *buf, size_t len)
{
	if (key == NULL)
		return "";
	if (strlen(key) + 4 <= len)
		return key;
	memcpy(buf, key, len - 4);
	buf[len - 4] = '\0';
	step_trim_utf8(buf);
	strcat(buf, "...");
	return buf;
}

static bool
failed(struct batch *b, const PGresult *res, const char *what)
{
	char buf[1024], msg[1200];

	if (res == NULL)
		return true;
	if (pg_result_ok(res))
		return false;
	snprintf(msg, sizeof(msg), "%s: %s", what,
	         pg_result_error(res, buf, sizeof(buf)));
	b->ev.failed(b->ev.arg, msg);
	return true;
}

static void
on_part(void *arg, const PGresult *res, const char *error)
{
	(void)error;
	if (res != NULL)
		step_note_error(&((struct batch *)arg)->error, res, "");
}

static void
batch_failed(struct batch *b, const char *why)
{
	char lo[128], hi[128], msg[2048];

	snprintf(msg, sizeof(msg), "step %s, keys (%s, %s]: %s",
	         b->ctx.step->name, short_key(b->lo, lo, sizeof(lo)),
	         short_key(b->hi, hi, sizeof(hi)), why);
	step_trim_utf8(msg);
	b->ev.failed(b->ev.arg, msg);
}

/* After a batch: the size in effect to the step's row, and the job's
 * batch_size and max_rows_per_second as migratectl set left them. */
static void
on_settings(void *arg, const PGresult *res, const char *error)
{
	struct batch *b = arg;
	long long override;

	(void)error;
	if (res == NULL)
		return;
	if (pg_result_ok(res) && PQntuples(res) == 1) {
		override = atoll(PQgetvalue(res, 0, 0));
		if (override > 0 && override != b->override) {
			log_ctx(LOG_INFO, b->ctx.log,
			        "batch size set to %lld from the next batch",
			        override);
			pacing_set_size(&b->pacing, override);
		}
		b->override = override;
		b->tj.max_rows_per_second = atoll(PQgetvalue(res, 0, 1));
	}
	next_batch(b);
}

static void
read_settings(struct batch *b)
{
	char size[24];
	const char *values[3] = {b->ctx.job, b->ctx.step->name, size};

	b->tj.batch_size = b->pacing.size;
	snprintf(size, sizeof(size), "%lld", b->pacing.size);
	query(b,
	      "WITH s AS (UPDATE migrated.job_steps SET batch_now = $3::integer"
	      " WHERE job_id = $1::bigint AND step = $2),"
	      /* a wait cut short by a stop or crash left its reason */
	      " w AS (UPDATE migrated.jobs SET waiting = NULL,"
	      " waiting_since = NULL WHERE id = $1::bigint"
	      " AND waiting IS NOT NULL)"
	      " SELECT batch_size, max_rows_per_second FROM migrated.jobs"
	      " WHERE id = $1::bigint",
	      3, values, on_settings);
}

static double
seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	       (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* The batch's transaction ended (committed, or rolled back on purpose). */
static void
on_end(void *arg, const PGresult *res, const char *error)
{
	struct batch *b = arg;

	on_part(arg, res, error);
	if (res == NULL)
		return;
	if (b->error.stale) {
		log_ctx(LOG_INFO, b->ctx.log,
		        "job is no longer running here (paused, cancelled or "
		        "taken over); stopping");
		b->ev.stopped(b->ev.arg);
		return;
	}
	if (b->error.msg[0] != '\0') {
		batch_failed(b, b->error.msg);
		return;
	}
	if (!b->ctx.dry_run &&
	    strcmp(PQcmdStatus((PGresult *)res), "COMMIT") != 0) {
		batch_failed(b, "the batch was rolled back");
		return;
	}
	if (!b->ctx.dry_run)
		metrics_batch(b->ctx.plan->name, b->ctx.step->name, b->rows,
		              seconds_since(&b->began));
	b->ev.rows(b->ev.arg, b->rows);
	replace(&b->lo, b->hi);
	pacing_batch_done(&b->pacing, b->rows, clock_ms() - b->started_ms);
	throttle_spent(&b->tj, b->rows, b->plan_rps);
	read_settings(b);
}

/* Records the range as done; in the batch's transaction unless dry run. */
static void
advance(struct batch *b, pg_result_cb cb)
{
	const char *adv[7];
	char rows[24], changed[24];

	snprintf(rows, sizeof(rows), "%lld", b->rows);
	snprintf(changed, sizeof(changed), "%lld", b->changed);
	adv[0] = b->ctx.job;
	adv[1] = b->ctx.step->name;
	adv[2] = b->lo;
	adv[3] = b->hi;
	adv[4] = rows;
	adv[5] = changed;
	adv[6] = b->owner;
	in_batch(b,
	         "SELECT migrated.advance($1::bigint, $2, $3, $4, $5::bigint,"
	         " $6::bigint, $7)",
	         7, adv, cb);
}

static void
on_applied(void *arg, const PGresult *res, const char *error)
{
	struct batch *b = arg;

	(void)error;
	if (res == NULL)
		return;
	step_note_error(&b->error, res, "");
	if (b->error.msg[0] != '\0') {
		in_batch(b, "ROLLBACK", 0, NULL, on_end);
		return;
	}
	b->changed = b->ops->changed(b->step, res);
	if (b->ctx.dry_run) {
		/* undo the change, keep the count and the job's own progress */
		in_batch(b, "ROLLBACK", 0, NULL, on_part);
		advance(b, on_end);
		return;
	}
	advance(b, on_part);
	in_batch(b, "COMMIT", 0, NULL, on_end);
}

static void
on_step_done(void *arg, const PGresult *res, const char *error)
{
	struct batch *b = arg;

	(void)error;
	if (failed(b, res, "recording the step's end"))
		return;
	log_ctx(LOG_INFO, b->ctx.log, "step done");
	b->ev.done(b->ev.arg);
}

/* The step found the next range (rows 0: none is left). */
static void
on_range(void *arg, const char *hi, long long rows)
{
	struct batch *b = arg;
	const char *values[2] = {b->ctx.job, b->ctx.step->name};

	if (rows == 0) {
		query(b,
		      "UPDATE migrated.job_steps SET state = 'done'"
		      " WHERE job_id = $1::bigint AND step = $2",
		      2, values, on_step_done);
		return;
	}
	replace(&b->hi, hi);
	b->rows = rows;
	b->changed = 0;
	b->error.msg[0] = '\0';
	b->error.stale = false;
	/* bind first: a value that lacks fails the job outside the batch's
	 * transaction, never inside it (where the failure would not commit
	 * and the open transaction would hold the job's row) */
	if (b->ops->bind(b->step, b->lo, b->hi) < 0)
		return;
	metrics_batch_size(b->ctx.plan->name, b->ctx.step->name,
	                   b->pacing.size);
	clock_gettime(CLOCK_MONOTONIC, &b->began);
	in_batch(b, "BEGIN", 0, NULL, on_part);
	if (b->ops->apply(b->step, on_part, on_applied, b) < 0)
		log_ctx(LOG_DEBUG, b->ctx.log,
		        "batch not sent: connection down");
}

static void
run_batch(struct batch *b)
{
	if (b->stop) {
		log_ctx(LOG_INFO, b->ctx.log,
		        "stopped after the current batch");
		b->ev.stopped(b->ev.arg);
		return;
	}
	b->started_ms = clock_ms();
	b->ctx.batch = b->pacing.size;
	b->ops->next_range(b->step, b->lo, b->pacing.size);
}

static void
on_waited(void *arg, const PGresult *res, const char *error)
{
	(void)error;
	if (res != NULL)
		run_batch(arg);
}

/* The wait ended: its time to the job's row, then the batch. */
static void
end_wait(struct batch *b, long long waited_ms)
{
	char ms[24];
	const char *values[2] = {b->ctx.job, ms};

	snprintf(ms, sizeof(ms), "%lld", waited_ms);
	log_ctx(LOG_INFO, b->ctx.log, "throttle: waited %lld ms", waited_ms);
	query(b,
	      "UPDATE migrated.jobs SET waiting = NULL, waiting_since = NULL,"
	      " throttled_ms = throttled_ms + $2::bigint WHERE id = $1::bigint",
	      2, values, on_waited);
}

static void
on_gate(void *arg, long long waited_ms)
{
	end_wait(arg, waited_ms);
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct batch *b = arg;
	long long waited = throttle_cancel(&b->tj);

	(void)fd;
	(void)what;
	if (waited >= 0)
		end_wait(b, waited);
}

static void
on_wait_noted(void *arg, const PGresult *res, const char *error)
{
	(void)arg;
	(void)res;
	(void)error;
}

/* Before a batch: wait while a throttle holds the job back. */
static void
next_batch(struct batch *b)
{
	const char *values[2] = {b->ctx.job, b->tj.waiting};

	if (b->stop || !throttle_gate(&b->tj, on_gate, b)) {
		run_batch(b);
		return;
	}
	log_ctx(LOG_INFO, b->ctx.log, "throttle: waiting: %s", b->tj.waiting);
	if (pg_query(b->ctx.target,
	             "UPDATE migrated.jobs SET waiting = $2,"
	             " waiting_since = now() WHERE id = $1::bigint",
	             2, values, on_wait_noted, b) < 0)
		log_ctx(LOG_DEBUG, b->ctx.log,
		        "wait not noted: connection down");
}

static void
on_started(void *arg, const PGresult *res, const char *error)
{
	struct batch *b = arg;

	(void)error;
	if (failed(b, res, "recording the step's start"))
		return;
	next_batch(b);
}

/* The step is ready to run from lo. */
static void
on_ready(void *arg, const char *lo, long long estimated)
{
	struct batch *b = arg;
	const char *values[5];
	char est[24], size[24];

	replace(&b->lo, lo);
	if (estimated < 0) { /* resumed: the step's row is up to date */
		next_batch(b);
		return;
	}
	snprintf(est, sizeof(est), "%lld", estimated);
	values[0] = b->ctx.job;
	values[1] = b->ctx.step->name;
	values[2] = est;
	values[3] = b->lo;
	values[4] = size;
	snprintf(size, sizeof(size), "%lld", b->pacing.size);
	log_ctx(LOG_INFO, b->ctx.log, "step started: about %s rows", est);
	query(b,
	      "UPDATE migrated.job_steps SET state = 'running',"
	      " rows_estimated = $3::bigint, checkpoint = $4,"
	      " batch_now = $5::integer"
	      " WHERE job_id = $1::bigint AND step = $2",
	      5, values, on_started);
}

static void
on_failed(void *arg, const char *msg)
{
	struct batch *b = arg;

	b->ev.failed(b->ev.arg, msg);
}

struct batch *
batch_start(const struct step_ctx *ctx, const struct step_ops *ops,
            const char *owner, const struct batch_pace *pace,
            const char *checkpoint, const struct batch_events *ev)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->ctx = *ctx;
	b->ctx.ev = (struct step_events){on_ready, on_range, on_failed, b};
	b->ctx.batch = pace->size;
	b->ops = ops;
	b->ev = *ev;
	b->owner = owner;
	pacing_init(&b->pacing, pace->size, pace->target_ms, pace->min,
	            pace->max);
	b->override = pace->override;
	b->plan_rps = pace->plan_rows_per_second;
	b->wake = evtimer_new(ctx->base, on_wake, b);
	b->step = b->wake != NULL ? ops->create(&b->ctx) : NULL;
	if (b->step == NULL) {
		if (b->wake != NULL)
			event_free(b->wake);
		free(b);
		return NULL;
	}
	b->tj.job = atoll(ctx->job);
	b->tj.plan = ctx->plan->name;
	b->tj.step = ctx->step->name;
	b->tj.batch_size = b->pacing.size;
	throttle_join(pace->throttle, &b->tj);
	ops->start(b->step, checkpoint);
	return b;
}

void
batch_stop(struct batch *b)
{
	b->stop = true;
	if (b->tj.go != NULL) /* waiting: stop now, from the loop */
		event_active(b->wake, 0, 0);
}

void
batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	throttle_leave(&b->tj);
	event_free(b->wake);
	b->ops->free(b->step);
	free(b->lo);
	free(b->hi);
	free(b);
}
