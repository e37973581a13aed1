/*
 * In-place steps: apply runs on the target for each range of the step's
 * table, walked by key among the rows matching where; with backup = yes
 * the range's rows are stored first, in the batch's own transaction.
 *
 * The ranges come from one pass over the step's keys (the bounds query:
 * every batch-th key in order, and the last), which also gives the step's
 * row count; batches then run on those bounds without a query of their
 * own. Rows added meanwhile inside a range are in its batch; those added
 * after the last bound are found by one more bounds query from there,
 * which ends the step when it finds none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "step.h"

/* Most bounds one query returns (more: another query from the last). */
#define MAX_BOUNDS 10000

struct bounds {
	char **keys;     /* ascending; keys[i] ends range i */
	long long *rows; /* rows of range i */
	int n, next;     /* ranges, and the next one to hand out */
	char *from;      /* the key before keys[0] */
	long long batch; /* the batch size they were found for */
	bool complete;   /* keys[n - 1] was the last key then */
};

struct step {
	struct step_ctx ctx;
	char *table; /* quoted */
	char *estimate_sql, *first_sql, *bounds_sql, *backup_sql;
	char lowest[64]; /* the key type's lowest value */
	char batch_s[24], max_s[24];
	const char *values[STEP_MAX_VALUES]; /* where's, then extra ones */
	const char *apply_values[STEP_MAX_VALUES];
	int nbackup, napply; /* bound for the batch, by inplace_bind */
	struct bounds b;
	struct event *answer; /* hands out a known range from the loop */
	long long counted;    /* the first bounds' count, for ev.ready */
};

/*
 * The bounds query on lo ($n+1), batch ($n+2) and MAX_BOUNDS ($n+3): a
 * first row (k NULL, n 0) with bad, then the ranges' last keys with their
 * row numbers, and whether the key was the last one.
 */
static int
bounds_sql(struct step *s, char **sql, const char *key, const char *bad)
{
	const struct plan_step *st = s->ctx.step;
	size_t n = st->where.stmt.nparams;

	return asprintf(
	        sql,
	        "SELECT NULL::text, 0::bigint, NULL::boolean, %s"
	        " UNION ALL (SELECT kk::text, n, last, NULL FROM"
	        " (SELECT %s AS kk, row_number() OVER w AS n,"
	        " lead(true) OVER w IS NULL AS last"
	        " FROM %s WHERE (%s) AND %s > $%zu WINDOW w AS (ORDER BY %s)) w"
	        " WHERE n %% $%zu::bigint = 0 OR last ORDER BY w.kk"
	        " LIMIT $%zu::bigint) ORDER BY 2",
	        bad, key, s->table, st->where.stmt.text, key, n + 1, key, n + 2,
	        n + 3);
}

static int
build(struct step *s)
{
	const struct plan_step *st = s->ctx.step;
	const char *where = st->where.stmt.text;
	size_t n = st->where.stmt.nparams;
	char *key = pg_escape_ident(s->ctx.target, st->key), *bad = NULL;
	int rc = -1;

	s->table = step_table(s->ctx.target, st);
	if (key == NULL || s->table == NULL)
		goto out;
	/* rows no range would reach: each count is one index probe when
	 * (where, key) is indexed */
	if (asprintf(&bad,
	             "(SELECT count(*) FROM %s WHERE (%s) AND %s IS NULL)"
	             " + (SELECT count(*) FROM %s WHERE (%s) AND %s <= $%zu)",
	             s->table, where, key, s->table, where, key, n + 1) < 0 ||
	    bounds_sql(s, &s->first_sql, key, bad) < 0 ||
	    bounds_sql(s, &s->bounds_sql, key, "0::bigint") < 0 ||
	    asprintf(&s->estimate_sql,
	             "SELECT count(*) FROM %s WHERE (%s) AND %s > $%zu",
	             s->table, where, key, n + 1) < 0)
		goto out;
	if (st->backup &&
	    asprintf(&s->backup_sql,
	             "INSERT INTO migrated.backups (job_id, step, rows)"
	             " SELECT $%zu::bigint, $%zu, array_agg(t::text)"
	             " FROM %s t WHERE (%s) AND t.%s > $%zu AND t.%s <= $%zu"
	             " HAVING count(*) > 0",
	             n + 1, n + 2, s->table, where, key, n + 3, key, n + 4) < 0)
		goto out;
	rc = 0;
out:
	free(key);
	free(bad);
	return rc;
}

static void
bounds_clear(struct bounds *b)
{
	for (int i = 0; i < b->n; i++)
		free(b->keys[i]);
	free(b->keys);
	free(b->rows);
	free(b->from);
	*b = (struct bounds){0};
}

static void on_answer(evutil_socket_t fd, short what, void *arg);

static void
inplace_free(struct step *s)
{
	if (s == NULL)
		return;
	if (s->answer != NULL)
		event_free(s->answer);
	bounds_clear(&s->b);
	free(s->table);
	free(s->estimate_sql);
	free(s->first_sql);
	free(s->bounds_sql);
	free(s->backup_sql);
	free(s);
}

static struct step *
inplace_create(const struct step_ctx *ctx)
{
	struct step *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->ctx = *ctx;
	snprintf(s->max_s, sizeof(s->max_s), "%d", MAX_BOUNDS);
	s->answer = event_new(ctx->base, -1, 0, on_answer, s);
	if (s->answer == NULL || build(s) < 0) {
		inplace_free(s);
		return NULL;
	}
	return s;
}

static void
fail_missing(struct step *s, const char *missing)
{
	step_fail(&s->ctx,
	          "the plan uses :%s, which this job's saved params row has no "
	          "value for (the plan changed after the job started); "
	          "restore the plan's previous version to finish the job, or "
	          "cancel it and submit it again",
	          missing);
}

/* where's values, then extra; -1 (job failed) when one lacks. */
static int
bind_where(struct step *s, const char *const *extra, int nextra)
{
	const struct sql_stmt *where = &s->ctx.step->where.stmt;
	const char *missing;
	int n = step_bind(&s->ctx, where, NULL, NULL, s->values, &missing);

	if (n < 0) {
		fail_missing(s, missing);
		return -1;
	}
	for (int i = 0; i < nextra; i++)
		s->values[n + i] = extra[i];
	return n + nextra;
}

/* Hands out the next known range, or none left (after a bounds query
 * that found no keys). */
static void
answer(struct step *s)
{
	struct bounds *b = &s->b;
	int i = b->next;

	if (i >= b->n) {
		s->ctx.ev.range(s->ctx.ev.arg, NULL, 0);
		return;
	}
	b->next++;
	s->ctx.ev.range(s->ctx.ev.arg, b->keys[i], b->rows[i]);
}

static void
on_answer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	answer(arg);
}

/* Keeps the bounds res found after from (malloc'd, taken over); their
 * rows in all, or -1 (job failed) when out of memory. */
static long long
keep_bounds(struct step *s, const PGresult *res, char *from, long long batch)
{
	struct bounds *b = &s->b;
	int n = PQntuples(res) - 1;
	long long total = 0;

	bounds_clear(b);
	b->batch = batch;
	b->complete = true;
	b->from = from;
	b->keys = calloc(n > 0 ? (size_t)n : 1, sizeof(*b->keys));
	b->rows = calloc(n > 0 ? (size_t)n : 1, sizeof(*b->rows));
	if (b->from == NULL || b->keys == NULL || b->rows == NULL)
		goto oom;
	for (; b->n < n; b->n++) {
		long long upto = atoll(PQgetvalue(res, b->n + 1, 1));

		b->keys[b->n] = strdup(PQgetvalue(res, b->n + 1, 0));
		if (b->keys[b->n] == NULL)
			goto oom;
		b->rows[b->n] = upto - total;
		total = upto;
		b->complete = strcmp(PQgetvalue(res, b->n + 1, 2), "t") == 0;
	}
	return total;
oom:
	bounds_clear(b);
	step_fail(&s->ctx, "out of memory keeping the step's ranges");
	return -1;
}

/* Runs sql (first_sql or bounds_sql) from lo in ranges of batch rows. */
static void
find_bounds(struct step *s, const char *sql, const char *lo, long long batch,
            pg_result_cb cb)
{
	const char *extra[3] = {lo, s->batch_s, s->max_s};
	int n;

	snprintf(s->batch_s, sizeof(s->batch_s), "%lld", batch);
	n = bind_where(s, extra, 3);
	if (n >= 0 && pg_query(s->ctx.target, sql, n, s->values, cb, s) < 0)
		return; /* connection lost: the driver drops the job */
}

static void
on_estimate(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;

	(void)error;
	if (!step_ok(&s->ctx, res, "counting the step's rows"))
		return;
	s->ctx.ev.ready(s->ctx.ev.arg, s->lowest, atoll(PQgetvalue(res, 0, 0)));
}

/* The first bounds: no key may be out of reach; their count is the
 * step's estimate unless there were more than MAX_BOUNDS ranges. */
static void
on_first_bounds(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;
	const char *lo[1] = {s->lowest};
	long long total;
	int n;

	(void)error;
	if (!step_ok(&s->ctx, res, "finding the step's ranges"))
		return;
	if (atoll(PQgetvalue(res, 0, 3)) > 0) {
		step_fail(
		        &s->ctx,
		        "%s rows have a NULL key or a key at or below %s, the "
		        "lowest value batches can start after; they would be "
		        "skipped",
		        PQgetvalue(res, 0, 3),
		        s->lowest[0] != '\0' ? s->lowest : "''");
		return;
	}
	total = keep_bounds(s, res, strdup(s->lowest), s->ctx.batch);
	if (total < 0)
		return;
	if (s->b.complete) {
		s->ctx.ev.ready(s->ctx.ev.arg, s->lowest, total);
		return;
	}
	n = bind_where(s, lo, 1);
	if (n >= 0 && pg_query(s->ctx.target, s->estimate_sql, n, s->values,
	                       on_estimate, s) < 0)
		return;
}

static void
on_key_type(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;
	const char *lowest;

	(void)error;
	if (!step_ok(&s->ctx, res, "looking up the key column"))
		return;
	if (strcmp(PQgetvalue(res, 0, 0), "f") == 0) {
		step_fail(&s->ctx, "there is no table %s", s->table);
		return;
	}
	if (PQgetisnull(res, 0, 1)) {
		step_fail(&s->ctx, "table %s has no column %s", s->table,
		          s->ctx.step->key);
		return;
	}
	lowest = step_lowest_key(PQgetvalue(res, 0, 1));
	if (lowest == NULL) {
		step_fail(&s->ctx,
		          "key %s has type %s; batches need an integer, "
		          "numeric, text, uuid, date or timestamp key",
		          s->ctx.step->key, PQgetvalue(res, 0, 1));
		return;
	}
	snprintf(s->lowest, sizeof(s->lowest), "%s", lowest);
	find_bounds(s, s->first_sql, s->lowest, s->ctx.batch, on_first_bounds);
}

static void
inplace_start(struct step *s, const char *checkpoint)
{
	const char *values[2] = {s->table, s->ctx.step->key};

	if (checkpoint != NULL) {
		/* resume exactly after the last committed batch */
		log_ctx(LOG_INFO, s->ctx.log, "resuming after key %s",
		        checkpoint);
		s->ctx.ev.ready(s->ctx.ev.arg, checkpoint, -1);
		return;
	}
	if (pg_query(
	            s->ctx.target,
	            "SELECT to_regclass($1) IS NOT NULL,"
	            /* a domain counts as the type it is over */
	            " (SELECT format_type(CASE t.typtype WHEN 'd'"
	            "   THEN t.typbasetype ELSE a.atttypid END, NULL)"
	            "  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
	            "  WHERE a.attrelid = to_regclass($1)"
	            "  AND a.attname = $2 AND NOT a.attisdropped)",
	            2, values, on_key_type, s) < 0)
		return;
}

static void
on_bounds(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;
	char *from = s->b.from;

	(void)error;
	if (!step_ok(&s->ctx, res, "finding the next ranges"))
		return;
	s->b.from = NULL; /* keep_bounds takes it over */
	if (keep_bounds(s, res, from, s->b.batch) >= 0)
		answer(s);
}

static void
inplace_next_range(struct step *s, const char *lo, long long batch)
{
	struct bounds *b = &s->b;
	const char *last = b->next > 0 ? b->keys[b->next - 1] : b->from;

	/* the range after lo is known: hand it out from the loop */
	if (b->next < b->n && b->batch == batch && strcmp(last, lo) == 0) {
		event_active(s->answer, 0, 0);
		return;
	}
	/* else find the ranges from lo: also after the last known one,
	 * for rows added meanwhile */
	bounds_clear(b);
	b->from = strdup(lo);
	b->batch = batch;
	if (b->from == NULL) {
		step_fail(&s->ctx, "out of memory finding the next ranges");
		return;
	}
	find_bounds(s, s->bounds_sql, lo, batch, on_bounds);
}

static int
inplace_bind(struct step *s, const char *lo, const char *hi)
{
	const char *extra[4] = {s->ctx.job, s->ctx.step->name, lo, hi};
	const char *missing;

	s->nbackup = 0;
	if (s->backup_sql != NULL && !s->ctx.dry_run &&
	    (s->nbackup = bind_where(s, extra, 4)) < 0)
		return -1;
	s->napply = step_bind(&s->ctx, &s->ctx.step->apply.stmt, lo, hi,
	                      s->apply_values, &missing);
	if (s->napply < 0) {
		fail_missing(s, missing);
		return -1;
	}
	return 0;
}

static int
inplace_apply(struct step *s, pg_result_cb part, pg_result_cb done, void *arg)
{
	/* pre-images first, in the same transaction; both pipelined with
	 * the batch's BEGIN */
	if (s->nbackup > 0 &&
	    pg_query_pipelined(s->ctx.target, s->backup_sql, s->nbackup,
	                       s->values, part, arg) < 0)
		return -1;
	return pg_query_pipelined(s->ctx.target, s->ctx.step->apply.stmt.text,
	                          s->napply, s->apply_values, done, arg);
}

static long long
inplace_changed(struct step *s, const PGresult *res)
{
	(void)s;
	return atoll(PQcmdTuples((PGresult *)res));
}

const struct step_ops step_inplace_ops = {
        .kind = "inplace",
        .create = inplace_create,
        .start = inplace_start,
        .next_range = inplace_next_range,
        .bind = inplace_bind,
        .apply = inplace_apply,
        .changed = inplace_changed,
        .free = inplace_free,
};
