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
	long long size;
	bool stop;
	char *lo, *hi;
	long long rows, changed;
	struct timespec began; /* the batch's BEGIN was sent */
	struct step_error error;
};

static void next_batch(struct batch *b);

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
	next_batch(b);
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
	metrics_batch_size(b->ctx.plan->name, b->ctx.step->name, b->size);
	clock_gettime(CLOCK_MONOTONIC, &b->began);
	in_batch(b, "BEGIN", 0, NULL, on_part);
	if (b->ops->apply(b->step, on_part, on_applied, b) < 0)
		log_ctx(LOG_DEBUG, b->ctx.log,
		        "batch not sent: connection down");
}

static void
next_batch(struct batch *b)
{
	if (b->stop) {
		log_ctx(LOG_INFO, b->ctx.log,
		        "stopped after the current batch");
		b->ev.stopped(b->ev.arg);
		return;
	}
	b->ops->next_range(b->step, b->lo, b->size);
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
	const char *values[4];
	char est[24];

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
	log_ctx(LOG_INFO, b->ctx.log, "step started: about %s rows", est);
	query(b,
	      "UPDATE migrated.job_steps SET state = 'running',"
	      " rows_estimated = $3::bigint, checkpoint = $4"
	      " WHERE job_id = $1::bigint AND step = $2",
	      4, values, on_started);
}

static void
on_failed(void *arg, const char *msg)
{
	struct batch *b = arg;

	b->ev.failed(b->ev.arg, msg);
}

struct batch *
batch_start(const struct step_ctx *ctx, const struct step_ops *ops,
            const char *owner, long long size, const char *checkpoint,
            const struct batch_events *ev)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->ctx = *ctx;
	b->ctx.ev = (struct step_events){on_ready, on_range, on_failed, b};
	b->ctx.batch = size;
	b->ops = ops;
	b->ev = *ev;
	b->owner = owner;
	b->size = size;
	b->step = ops->create(&b->ctx);
	if (b->step == NULL) {
		free(b);
		return NULL;
	}
	ops->start(b->step, checkpoint);
	return b;
}

void
batch_stop(struct batch *b)
{
	b->stop = true;
}

void
batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	b->ops->free(b->step);
	free(b->lo);
	free(b->hi);
	free(b);
}
