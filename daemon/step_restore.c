/*
 * Restore steps (rollback jobs): walk the original job's backups of a step,
 * newest first, one stored batch per range, and undo it: rows the batch
 * inserted are deleted, and the pre-images it stored are written back
 * (updated where the row is still there, inserted where it is gone).
 * Rows are matched by the step's key, or by its natural key (upsert) for a
 * copy step. Ranges count down: lo is the id below which backups are left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "step.h"

#define ABOVE_EVERY_ID "9223372036854775807"

struct step {
	struct step_ctx ctx;
	char *table;
	char *apply_sql;
	const char *values[4];
};

/* A table's columns: all stored ones, and those an UPDATE may set. */
static const char cols_sql[] =
        "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),"
        " string_agg(quote_ident(attname), ', ' ORDER BY attnum)"
        "  FILTER (WHERE attidentity <> 'a'),"
        " string_agg('r.' || quote_ident(attname), ', ' ORDER BY attnum)"
        "  FILTER (WHERE attidentity <> 'a')"
        " FROM pg_attribute WHERE attrelid = to_regclass($1)"
        " AND attnum > 0 AND NOT attisdropped AND attgenerated = ''";

static struct step *
restore_create(const struct step_ctx *ctx)
{
	struct step *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->ctx = *ctx;
	s->table = step_table(ctx->target, ctx->step);
	if (s->table == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

static void
restore_free(struct step *s)
{
	if (s == NULL)
		return;
	free(s->table);
	free(s->apply_sql);
	free(s);
}

/* "t.a = r.a AND t.b = r.b" over the columns rows are matched by. */
static char *
match_condition(struct step *s)
{
	const struct plan_step *st = s->ctx.step;
	char *const *cols = st->kind == PLAN_STEP_COPY ? st->upsert : &st->key;
	size_t n = st->kind == PLAN_STEP_COPY ? st->nupsert : 1;
	char *out = strdup(""), *next;

	for (size_t i = 0; out != NULL && i < n; i++) {
		char *c = pg_escape_ident(s->ctx.target, cols[i]);

		if (c == NULL || asprintf(&next, "%s%st.%s = r.%s", out,
		                          i ? " AND " : "", c, c) < 0)
			next = NULL;
		free(c);
		free(out);
		out = next;
	}
	return out;
}

static int
build(struct step *s, const char *insert, const char *update,
      const char *rupdate)
{
	char *match = match_condition(s);
	int rc;

	/* one stored batch: its inserted rows go, its pre-images come back;
	 * the statement's result counts both */
	rc = match == NULL
	             ? -1
	             : asprintf(
	                       &s->apply_sql,
	                       "WITH b AS (SELECT rows, inserted"
	                       "  FROM migrated.backups WHERE job_id = $1::bigint"
	                       "  AND step = $2 AND id = $4::bigint),"
	                       " gone AS (DELETE FROM %s t USING (SELECT (x::%s).*"
	                       "  FROM b, unnest(b.inserted) x) r WHERE %s"
	                       "  RETURNING 1),"
	                       " r AS (SELECT (x::%s).* FROM b, unnest(b.rows) x),"
	                       " u AS (UPDATE %s t SET (%s) = ROW(%s) FROM r"
	                       "  WHERE %s RETURNING 1),"
	                       " i AS (INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE"
	                       "  SELECT %s FROM r WHERE NOT EXISTS"
	                       "  (SELECT 1 FROM %s t WHERE %s) RETURNING 1)"
	                       "SELECT (SELECT count(*) FROM gone)"
	                       " + (SELECT count(*) FROM u)"
	                       " + (SELECT count(*) FROM i), $3::text",
	                       s->table, s->table, match, s->table, s->table,
	                       update, rupdate, match, s->table, insert, insert,
	                       s->table, match);
	free(match);
	return rc < 0 ? -1 : 0;
}

static void
on_estimate(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;

	(void)error;
	if (!step_ok(&s->ctx, res, "counting the backups"))
		return;
	s->ctx.ev.ready(s->ctx.ev.arg, ABOVE_EVERY_ID,
	                atoll(PQgetvalue(res, 0, 0)));
}

static void
on_columns(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;
	const char *values[2] = {s->ctx.source_job, s->ctx.step->name};
	const char *checkpoint = s->values[0];

	(void)error;
	if (!step_ok(&s->ctx, res, "reading the table's columns"))
		return;
	if (PQgetisnull(res, 0, 0)) {
		step_fail(&s->ctx, "there is no table %s to restore",
		          s->ctx.step->table);
		return;
	}
	if (PQgetisnull(res, 0, 1)) {
		step_fail(&s->ctx, "table %s has no column a restore can set",
		          s->ctx.step->table);
		return;
	}
	if (build(s, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
	          PQgetvalue(res, 0, 2)) < 0) {
		step_fail(&s->ctx, "cannot prepare its queries");
		return;
	}
	if (checkpoint != NULL) {
		log_ctx(LOG_INFO, s->ctx.log, "resuming below backup %s",
		        checkpoint);
		s->ctx.ev.ready(s->ctx.ev.arg, checkpoint, -1);
		return;
	}
	if (pg_query(s->ctx.target,
	             "SELECT coalesce(sum(cardinality(rows)"
	             " + cardinality(inserted)), 0) FROM migrated.backups"
	             " WHERE job_id = $1::bigint AND step = $2",
	             2, values, on_estimate, s) < 0)
		return;
}

static void
restore_start(struct step *s, const char *checkpoint)
{
	const char *values[1] = {s->table};

	/* kept until on_columns: the driver's checkpoint outlives the call */
	s->values[0] = checkpoint;
	if (pg_query(s->ctx.target, cols_sql, 1, values, on_columns, s) < 0)
		return;
}

static void
on_range(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;

	(void)error;
	if (!step_ok(&s->ctx, res, "finding the next backup"))
		return;
	if (PQntuples(res) == 0) {
		s->ctx.ev.range(s->ctx.ev.arg, NULL, 0);
		return;
	}
	s->ctx.ev.range(s->ctx.ev.arg, PQgetvalue(res, 0, 0),
	                atoll(PQgetvalue(res, 0, 1)));
}

static void
restore_next_range(struct step *s, const char *lo, long long batch)
{
	const char *values[3] = {s->ctx.source_job, s->ctx.step->name, lo};

	(void)batch; /* one stored batch at a time, newest first */
	if (pg_query(s->ctx.target,
	             "SELECT b.id::text AS below, cardinality(b.rows)"
	             " + cardinality(b.inserted) FROM migrated.backups b"
	             " WHERE b.job_id = $1::bigint AND b.step = $2"
	             " AND b.id < $3::bigint ORDER BY b.id DESC LIMIT 1",
	             3, values, on_range, s) < 0)
		return;
}

static int
restore_bind(struct step *s, const char *lo, const char *hi)
{
	s->values[0] = s->ctx.source_job;
	s->values[1] = s->ctx.step->name;
	s->values[2] = lo;
	s->values[3] = hi;
	return 0;
}

static int
restore_apply(struct step *s, pg_result_cb part, pg_result_cb done, void *arg)
{
	(void)part;
	return pg_query(s->ctx.target, s->apply_sql, 4, s->values, done, arg);
}

static long long
restore_changed(struct step *s, const PGresult *res)
{
	(void)s;
	return PQntuples(res) == 1 ? atoll(PQgetvalue(res, 0, 0)) : 0;
}

const struct step_ops step_restore_ops = {
        .kind = "restore",
        .create = restore_create,
        .start = restore_start,
        .next_range = restore_next_range,
        .bind = restore_bind,
        .apply = restore_apply,
        .changed = restore_changed,
        .free = restore_free,
};
