/*
 * In-place steps: apply runs on the target for each range of the step's
 * table, walked by key among the rows matching where; with backup = yes
 * the range's rows are stored first, in the batch's own transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "step.h"

struct step {
	struct step_ctx ctx;
	char *table; /* quoted */
	char *estimate_sql, *range_sql, *backup_sql;
	char lowest[64]; /* the key type's lowest value */
	char batch_s[24];
	const char *values[STEP_MAX_VALUES]; /* where's, then extra ones */
	const char *apply_values[STEP_MAX_VALUES];
	int nbackup, napply; /* bound for the batch, by inplace_bind */
};

static int
build(struct step *s)
{
	const struct plan_step *st = s->ctx.step;
	const char *where = st->where.stmt.text;
	size_t n = st->where.stmt.nparams;
	char *key = pg_escape_ident(s->ctx.target, st->key);
	int rc = -1;

	s->table = step_table(s->ctx.target, st);
	if (key == NULL || s->table == NULL)
		goto out;
	if (asprintf(&s->estimate_sql,
	             "SELECT count(*), count(*) FILTER (WHERE %s IS NULL"
	             " OR NOT (%s > $%zu)) FROM %s WHERE (%s)",
	             key, key, n + 1, s->table, where) < 0 ||
	    asprintf(&s->range_sql,
	             "SELECT max(k)::text, count(*) FROM (SELECT %s AS k"
	             " FROM %s WHERE (%s) AND %s > $%zu ORDER BY 1"
	             " LIMIT $%zu::bigint) s",
	             key, s->table, where, key, n + 1, n + 2) < 0)
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
	return rc;
}

static struct step *
inplace_create(const struct step_ctx *ctx)
{
	struct step *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->ctx = *ctx;
	if (build(s) < 0) {
		free(s->table);
		free(s->estimate_sql);
		free(s->range_sql);
		free(s->backup_sql);
		free(s);
		return NULL;
	}
	return s;
}

static void
inplace_free(struct step *s)
{
	if (s == NULL)
		return;
	free(s->table);
	free(s->estimate_sql);
	free(s->range_sql);
	free(s->backup_sql);
	free(s);
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

static void
on_estimate(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;

	(void)error;
	if (!step_ok(&s->ctx, res, "counting the step's rows"))
		return;
	if (atoll(PQgetvalue(res, 0, 1)) > 0) {
		step_fail(
		        &s->ctx,
		        "%s rows have a NULL key or a key at or below %s, the "
		        "lowest value batches can start after; they would be "
		        "skipped",
		        PQgetvalue(res, 0, 1),
		        s->lowest[0] != '\0' ? s->lowest : "''");
		return;
	}
	s->ctx.ev.ready(s->ctx.ev.arg, s->lowest, atoll(PQgetvalue(res, 0, 0)));
}

static void
on_key_type(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;
	const char *lowest, *lo[1];
	int n;

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
	lo[0] = s->lowest;
	n = bind_where(s, lo, 1);
	if (n >= 0 && pg_query(s->ctx.target, s->estimate_sql, n, s->values,
	                       on_estimate, s) < 0)
		return; /* connection lost: the driver drops the job */
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
on_range(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;
	long long rows;

	(void)error;
	if (!step_ok(&s->ctx, res, "finding the next range"))
		return;
	rows = atoll(PQgetvalue(res, 0, 1));
	s->ctx.ev.range(s->ctx.ev.arg, rows > 0 ? PQgetvalue(res, 0, 0) : NULL,
	                rows);
}

static void
inplace_next_range(struct step *s, const char *lo, long long batch)
{
	const char *extra[2] = {lo, s->batch_s};
	int n;

	snprintf(s->batch_s, sizeof(s->batch_s), "%lld", batch);
	n = bind_where(s, extra, 2);
	if (n >= 0 && pg_query(s->ctx.target, s->range_sql, n, s->values,
	                       on_range, s) < 0)
		return;
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
	/* pre-images first, in the same transaction */
	if (s->nbackup > 0 && pg_query(s->ctx.target, s->backup_sql, s->nbackup,
	                               s->values, part, arg) < 0)
		return -1;
	return pg_query(s->ctx.target, s->ctx.step->apply.stmt.text, s->napply,
	                s->apply_values, done, arg);
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
