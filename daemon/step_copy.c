/*
 * Copy steps: rows come from a source database ([database NAME]) and are
 * merged into the target.
 *
 * At start the step connects to the source (its own connection, waiting
 * with back-off while the source is down: the job is held, not failed),
 * learns the types of select's parameters (PREPARE, pg_prepared_statements)
 * and of its columns (a LIMIT 0 run), creates the session table staged on
 * the target with those columns, and reads the target table's columns.
 *
 * Each batch reads its range in one REPEATABLE READ READ ONLY transaction
 * on the source: the range query, then COPY (select ...) TO STDOUT into
 * memory. COPY takes no bound parameters, so the values are bound to
 * set_config() first and the COPY's select reads them back with
 * current_setting(), cast to the types PostgreSQL inferred for them:
 * values are never spliced into SQL text. In the batch's transaction on
 * the target: TRUNCATE staged, COPY staged FROM STDIN, and the merge —
 * INSERT ... ON CONFLICT (upsert) DO UPDATE of the shared columns where
 * they differ (or DO NOTHING), or the plan's own apply reading staged.
 * With backup = yes the matched target rows are stored first, and the
 * rows the merge inserted are stored with them, so a rollback can undo
 * both.
 *
 * A SQLite source (sqlite = PATH) replaces the source half: the step's own
 * sqlite_worker (read-only) runs copy_sqlite.c's probe and batches, which
 * convert the values to the target's column types (staged takes them) and
 * hand back the rows in the COPY text format; a locked file waits and is
 * read again. The target half (staged, merge, backups, rejects = keep) is
 * the same.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "copy_sql.h"
#include "copy_sqlite.h"
#include "sqlite_worker.h"
#include "step.h"

/* How long one SQLite read waits for a writer's lock, and the pause before
 * a locked source is tried again (the job waits; it does not fail). */
#define SQLITE_BUSY_MS 200
#define SQLITE_RETRY_US 500000L

enum copy_phase { C_CONNECTING, C_PREPARING, C_READY, C_READING };

struct step {
	struct step_ctx ctx;
	const struct config_database *db;
	struct pg_conn *src;
	enum copy_phase phase;
	bool waiting; /* the source went away: go on when it is back */
	const char *checkpoint;

	char *key;      /* quoted */
	char *table;    /* quoted target table */
	char *key_type; /* format_type of the key on the source */
	json_t *ptypes; /* types of select's $n, as the source infers them */
	json_t *cols;   /* [[name, source type], ...] of select */
	struct copy_shape shape;
	struct copy_sql sql;
	const char *values[STEP_MAX_VALUES];
	int nvalues;
	char batch_s[24];
	char *lo, *hi;
	long long batch, rows;
	struct evbuffer *data;
	char src_error[1024]; /* the first error of the source transaction */

	/* a SQLite source (db->sqlite): its worker and the request in flight */
	struct sqlite_worker *lite;
	struct copy_sqlite_req lreq;
	enum sqlite_conv_class *classes;
	struct event *retry; /* a locked file: try again later */
	bool locked;         /* the wait was logged */
	bool freeing;
	char *rejects;                /* the batch's, as JSON text, or NULL */
	const char *reject_values[3]; /* job, step, rejects */
};

static void read_range(struct step *s);
static void prepare(struct step *s);

static void
src_query(struct step *s, const char *sql, int n, const char *const *v,
          pg_result_cb cb)
{
	if (pg_query(s->src, sql, n, v, cb, s) < 0)
		s->waiting = true; /* on_src_state goes on once it is back */
}

/* A source result: NULL means the source went away (wait for it). */
static bool
src_ok(struct step *s, const PGresult *res, const char *what)
{
	char buf[1024];

	if (res == NULL) {
		s->waiting = true;
		return false;
	}
	if (pg_result_ok(res) && s->src_error[0] == '\0')
		return true;
	step_fail(&s->ctx, "%s on source %s: %s", what, s->db->name,
	          s->src_error[0] != '\0'
	                  ? s->src_error
	                  : pg_result_error(res, buf, sizeof(buf)));
	return false;
}

/* A statement whose result only matters when it failed. */
static void
on_src_part(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;
	char buf[1024];

	(void)error;
	if (res != NULL && !pg_result_ok(res) && s->src_error[0] == '\0')
		snprintf(s->src_error, sizeof(s->src_error), "%s",
		         pg_result_error(res, buf, sizeof(buf)));
}

static void
on_src_state(void *arg, enum pg_state state, const char *error)
{
	struct step *s = arg;

	if (state != PG_READY) {
		if (state == PG_DISCONNECTED)
			log_ctx(LOG_WARNING, s->ctx.log,
			        "source %s unavailable (%s); the job waits for "
			        "it",
			        s->db->name, error != NULL ? error : "?");
		if (s->phase == C_READING)
			s->waiting = true;
		return;
	}
	if (s->phase == C_CONNECTING || s->phase == C_PREPARING) {
		prepare(s);
	} else if (s->waiting && s->phase == C_READING) {
		s->waiting = false;
		read_range(s);
	}
}

/* The select's values, then extra. */
static int
bind_select(struct step *s, const char *const *extra, int nextra)
{
	const char *missing;
	int n = step_bind(&s->ctx, &s->ctx.step->select.stmt, NULL, NULL,
	                  s->values, &missing);

	if (n < 0) {
		step_fail(&s->ctx,
		          "select uses :%s, which the job has no value "
		          "for",
		          missing);
		return -1;
	}
	for (int i = 0; i < nextra; i++)
		s->values[n + i] = extra[i];
	return s->nvalues = n + nextra;
}

/* ---- start ---- */

static void
on_staged(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;

	(void)error;
	if (!step_ok(&s->ctx, res, "creating the staging table"))
		return;
	s->phase = C_READY;
	if (s->checkpoint != NULL) {
		log_ctx(LOG_INFO, s->ctx.log, "resuming after key %s",
		        s->checkpoint);
		s->ctx.ev.ready(s->ctx.ev.arg, s->checkpoint, -1);
		return;
	}
	s->ctx.ev.ready(s->ctx.ev.arg, s->lo, s->rows);
}

/* The target table's columns: [[name, generated, type], ...]. */
static void
on_target_cols(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;
	json_t *target;
	char err[512];
	int rc;

	(void)error;
	if (!step_ok(&s->ctx, res, "reading the target table's columns"))
		return;
	if (PQgetisnull(res, 0, 0)) {
		step_fail(&s->ctx, "there is no table %s on the target",
		          s->table);
		return;
	}
	target = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	if (s->lite != NULL &&
	    (s->lreq.classes =
	             copy_sqlite_types(s->cols, target, &s->classes)) == NULL) {
		json_decref(target);
		step_fail(&s->ctx, "out of memory");
		return;
	}
	s->shape.cols = s->cols;
	rc = copy_sql_write(&s->shape, target, &s->sql, err, sizeof(err));
	json_decref(target);
	if (rc < 0) {
		step_fail(&s->ctx, "%s", err);
		return;
	}
	if (pg_script(s->ctx.target, s->sql.staged, on_staged, s) < 0)
		return;
}

static void
read_target(struct step *s)
{
	const char *values[1] = {s->table};

	if (pg_query(s->ctx.target,
	             "SELECT json_agg(json_build_array(attname,"
	             " attgenerated <> '', format_type(atttypid, atttypmod))"
	             " ORDER BY attnum) FROM pg_attribute"
	             " WHERE attrelid = to_regclass($1) AND attnum > 0"
	             " AND NOT attisdropped",
	             1, values, on_target_cols, s) < 0)
		return;
}

static void
on_estimate(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;

	(void)error;
	if (!src_ok(s, res, "counting the step's rows"))
		return;
	if (atoll(PQgetvalue(res, 0, 1)) > 0) {
		step_fail(&s->ctx,
		          "%s source rows have a NULL key or a key at or below "
		          "%s, the lowest value batches can start after; they "
		          "would be skipped",
		          PQgetvalue(res, 0, 1), s->lo[0] ? s->lo : "''");
		return;
	}
	s->rows = atoll(PQgetvalue(res, 0, 0));
	read_target(s);
}

/* Column names and types of select, and the key's lowest value. */
static void
on_columns(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;
	const char *lowest, *extra[1];
	size_t i;
	json_t *c;

	(void)error;
	if (!src_ok(s, res, "running select"))
		return;
	json_decref(s->cols);
	s->cols = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	json_array_foreach(s->cols, i, c)
	{
		if (strcmp(json_string_value(json_array_get(c, 0)),
		           s->ctx.step->key) == 0) {
			free(s->key_type);
			s->key_type =
			        strdup(json_string_value(json_array_get(c, 1)));
		}
	}
	if (s->key_type == NULL) {
		step_fail(&s->ctx, "select returns no column %s (the key)",
		          s->ctx.step->key);
		return;
	}
	lowest = step_lowest_key(s->key_type);
	if (lowest == NULL) {
		step_fail(&s->ctx,
		          "key %s has type %s on the source; batches "
		          "need " STEP_KEY_TYPES,
		          s->ctx.step->key, s->key_type);
		return;
	}
	free(s->lo);
	s->lo = strdup(lowest);
	copy_sql_clear(&s->sql);
	s->shape = (struct copy_shape){
	        .conn = s->ctx.target,
	        .step = s->ctx.step,
	        .table = s->table,
	        .key = s->key,
	        .key_type = s->key_type,
	        .cols = s->cols,
	        .ptypes = s->ptypes,
	};
	if (s->lo == NULL || copy_sql_read(&s->shape, &s->sql) < 0) {
		step_fail(&s->ctx, "cannot prepare its queries: out of memory");
		return;
	}
	if (s->checkpoint != NULL) {
		read_target(s);
		return;
	}
	extra[0] = s->lo;
	if (bind_select(s, extra, 1) >= 0)
		src_query(s, s->sql.estimate, s->nvalues, s->values,
		          on_estimate);
}

/* select's result columns, as OIDs: named by the source next. */
static void
on_shape(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;
	json_t *shape;
	char *text;
	const char *values[1];

	(void)error;
	if (!src_ok(s, res, "running select"))
		return;
	shape = json_array();
	for (int i = 0; i < PQnfields(res); i++)
		json_array_append_new(shape,
		                      json_pack("[s, I, i]", PQfname(res, i),
		                                (json_int_t)PQftype(res, i),
		                                PQfmod(res, i)));
	text = json_dumps(shape, JSON_COMPACT);
	json_decref(shape);
	values[0] = text;
	/* types the target may not know (the source's own) travel as text */
	src_query(s,
	          "SELECT json_agg(json_build_array(e->>0, CASE WHEN"
	          " (e->>1)::oid < 16384 THEN format_type((e->>1)::oid,"
	          " (e->>2)::int) ELSE 'text' END) ORDER BY i)"
	          " FROM json_array_elements($1::json) WITH ORDINALITY u(e, i)",
	          1, values, on_columns);
	free(text);
}

static void
on_param_types(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;
	char *sql;

	(void)error;
	if (!src_ok(s, res, "preparing select"))
		return;
	json_decref(s->ptypes);
	s->ptypes = PQntuples(res) == 1
	                    ? json_loads(PQgetvalue(res, 0, 0), 0, NULL)
	                    : json_array();
	if (bind_select(s, NULL, 0) < 0 ||
	    asprintf(&sql, "SELECT * FROM (%s) s LIMIT 0",
	             s->ctx.step->select.stmt.text) < 0)
		return;
	src_query(s, sql, s->nvalues, s->values, on_shape);
	free(sql);
}

static void
on_prepared(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;

	(void)error;
	if (!src_ok(s, res, "select"))
		return;
	src_query(
	        s,
	        "SELECT coalesce(array_to_json(parameter_types::text[]), '[]')"
	        " FROM pg_prepared_statements WHERE name = 'migrated_select'",
	        0, NULL, on_param_types);
}

static void
prepare(struct step *s)
{
	char *script;

	s->phase = C_PREPARING;
	/* PREPARE infers the types of $n; the statement is never run */
	if (asprintf(&script, "DEALLOCATE ALL; PREPARE migrated_select AS %s",
	             s->ctx.step->select.stmt.text) < 0)
		return;
	if (pg_script(s->src, script, on_prepared, s) < 0)
		s->waiting = true;
	free(script);
}

static struct step *
copy_create(const struct step_ctx *ctx)
{
	struct step *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->ctx = *ctx;
	s->data = evbuffer_new();
	s->key = pg_escape_ident(ctx->target, ctx->step->key);
	s->table = step_table(ctx->target, ctx->step);
	if (s->data == NULL || s->key == NULL || s->table == NULL) {
		evbuffer_free(s->data);
		free(s->key);
		free(s->table);
		free(s);
		return NULL;
	}
	return s;
}

static void
copy_free(struct step *s)
{
	if (s == NULL)
		return;
	s->freeing = true; /* the worker's cancelled requests end here */
	sqlite_worker_free(s->lite);
	if (s->retry != NULL)
		event_free(s->retry);
	free(s->classes);
	free(s->rejects);
	free(s->lreq.hi);
	json_decref(s->lreq.cols);
	json_decref(s->lreq.rejects);
	pg_conn_free(s->src);
	evbuffer_free(s->data);
	json_decref(s->ptypes);
	json_decref(s->cols);
	free(s->key);
	free(s->table);
	free(s->key_type);
	copy_sql_clear(&s->sql);
	free(s->lo);
	free(s->hi);
	free(s);
}

/* ---- a SQLite source: reads on its worker thread (copy_sqlite.c) ---- */

static void lite_submit(struct step *s, sqlite_work_fn work);

static void
on_lite_retry(evutil_socket_t fd, short what, void *arg)
{
	struct step *s = arg;

	(void)fd;
	(void)what;
	lite_submit(s, s->phase == C_READING ? copy_sqlite_batch
	                                     : copy_sqlite_probe);
}

/* True when the read went well; a locked file waits and is read again. */
static bool
lite_ok(struct step *s, enum sqlite_worker_status status, const char *error,
        const char *what)
{
	struct timeval tv = {0, SQLITE_RETRY_US};

	if (s->freeing || status == SQLITE_WORKER_CANCELLED)
		return false;
	if (status == SQLITE_WORKER_BUSY) {
		if (!s->locked)
			log_ctx(LOG_WARNING, s->ctx.log,
			        "source %s (%s) is locked by a writer; the job "
			        "waits and retries",
			        s->db->name, s->db->sqlite);
		s->locked = true;
		evtimer_add(s->retry, &tv);
		return false;
	}
	if (s->locked)
		log_ctx(LOG_INFO, s->ctx.log, "source %s is no longer locked",
		        s->db->name);
	s->locked = false;
	if (status != SQLITE_WORKER_OK) {
		step_fail(&s->ctx, "%s on source %s: %s", what, s->db->name,
		          error != NULL ? error : "unknown error");
		return false;
	}
	return true;
}

static void
on_lite_probe(void *arg, enum sqlite_worker_status status, const char *error)
{
	struct copy_sqlite_req *r = arg;
	struct step *s = r->owner;
	size_t i;
	json_t *c;

	if (!lite_ok(s, status, error, "running select"))
		return;
	json_decref(s->cols);
	s->cols = json_array();
	json_array_foreach(r->cols, i, c)
	{
		char *name = strdup(json_string_value(c));

		for (char *p = name; p != NULL && *p; p++)
			*p = (char)tolower((unsigned char)*p);
		json_array_append_new(
		        s->cols, json_pack("[s, s]", name ? name : "", "text"));
		free(name);
	}
	free(s->key_type);
	s->key_type = strdup(r->key_int ? "bigint" : "text");
	free(s->lo);
	s->lo = strdup(copy_sqlite_lowest(r->key_int));
	s->rows = s->checkpoint != NULL ? -1 : r->estimate;
	copy_sql_clear(&s->sql);
	s->shape = (struct copy_shape){
	        .conn = s->ctx.target,
	        .step = s->ctx.step,
	        .table = s->table,
	        .key = s->key,
	        .key_type = s->key_type,
	        .cols = s->cols,
	};
	if (s->key_type == NULL || s->lo == NULL) {
		step_fail(&s->ctx, "out of memory");
		return;
	}
	read_target(s);
}

static void
on_lite_batch(void *arg, enum sqlite_worker_status status, const char *error)
{
	struct copy_sqlite_req *r = arg;
	struct step *s = r->owner;

	if (!lite_ok(s, status, error, "reading the range"))
		return;
	s->rows = r->rows;
	free(s->hi);
	s->hi = r->rows > 0 && r->hi != NULL ? strdup(r->hi) : NULL;
	if (s->rows > 0 && s->hi == NULL) {
		step_fail(&s->ctx, "out of memory");
		return;
	}
	free(s->rejects);
	s->rejects = json_array_size(r->rejects) > 0
	                     ? json_dumps(r->rejects, JSON_COMPACT)
	                     : NULL;
	s->ctx.ev.range(s->ctx.ev.arg, s->hi, s->rows);
}

static void
lite_submit(struct step *s, sqlite_work_fn work)
{
	bool batch = work == copy_sqlite_batch;

	if (bind_select(s, NULL, 0) < 0)
		return;
	s->lreq.values = s->values;
	s->lreq.nvalues = s->nvalues;
	s->lreq.lo = s->lo;
	if (batch)
		evbuffer_drain(s->data, evbuffer_get_length(s->data));
	if (sqlite_worker_submit(s->lite, work,
	                         batch ? on_lite_batch : on_lite_probe,
	                         &s->lreq) < 0)
		step_fail(&s->ctx, "cannot read source %s: out of memory",
		          s->db->name);
}

static void
lite_start(struct step *s)
{
	char err[512];

	s->lite = sqlite_worker_new(s->ctx.base, s->db->name, s->db->sqlite,
	                            SQLITE_WORKER_READONLY, SQLITE_BUSY_MS, err,
	                            sizeof(err));
	s->retry = evtimer_new(s->ctx.base, on_lite_retry, s);
	if (s->lite == NULL || s->retry == NULL) {
		step_fail(&s->ctx, "cannot read source %s: %s", s->db->name,
		          s->lite == NULL ? err : "out of memory");
		return;
	}
	s->lreq = (struct copy_sqlite_req){
	        .owner = s,
	        .select = s->ctx.step->select.stmt.text,
	        .key = s->ctx.step->key,
	        .table = s->ctx.step->table,
	        .data = s->data,
	        .keep_rejects = s->ctx.step->keep_rejects,
	};
	s->phase = C_PREPARING;
	lite_submit(s, copy_sqlite_probe);
}

static void
copy_start(struct step *s, const char *checkpoint)
{
	char name[96];

	s->checkpoint = checkpoint;
	s->db = config_database(s->ctx.cfg, s->ctx.step->source);
	if (s->db != NULL && s->db->sqlite != NULL) {
		lite_start(s);
		return;
	}
	if (s->db == NULL || s->db->conninfo == NULL) {
		step_fail(&s->ctx,
		          "source %s is not a [database %s] of the "
		          "configuration",
		          s->ctx.step->source, s->ctx.step->source);
		return;
	}
	snprintf(name, sizeof(name), "migrated-copy-%s", s->db->name);
	s->phase = C_CONNECTING;
	s->src = pg_conn_new(s->ctx.base, s->db->conninfo, name, on_src_state,
	                     s);
	if (s->src == NULL)
		step_fail(&s->ctx, "cannot connect to source %s: out of memory",
		          s->db->name);
	else
		pg_conn_set_backoff_max(s->src, 5000);
}

/* ---- batches ---- */

static void
on_source_end(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;

	(void)error;
	if (!src_ok(s, res, "reading the range"))
		return;
	s->ctx.ev.range(s->ctx.ev.arg, s->hi, s->rows);
}

static void
on_copied(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;

	(void)error;
	if (!src_ok(s, res, "copying the range"))
		return;
	src_query(s, "COMMIT", 0, NULL, on_source_end);
}

static void
on_source_range(void *arg, const PGresult *res, const char *error)
{
	struct step *s = arg;
	const char *extra[2];

	(void)error;
	if (!src_ok(s, res, "finding the next range"))
		return;
	s->rows = atoll(PQgetvalue(res, 0, 1));
	free(s->hi);
	s->hi = s->rows > 0 ? strdup(PQgetvalue(res, 0, 0)) : NULL;
	if (s->rows == 0) {
		src_query(s, "COMMIT", 0, NULL, on_source_end);
		return;
	}
	extra[0] = s->lo;
	extra[1] = s->hi;
	evbuffer_drain(s->data, evbuffer_get_length(s->data));
	if (bind_select(s, extra, 2) < 0)
		return;
	src_query(s, s->sql.set, s->nvalues, s->values, on_src_part);
	if (pg_copy_out(s->src, s->sql.copy, s->data, on_copied, s) < 0)
		s->waiting = true;
}

/* One source transaction: the range, then its rows. */
static void
read_range(struct step *s)
{
	const char *extra[2] = {s->lo, s->batch_s};

	s->phase = C_READING;
	if (bind_select(s, extra, 2) < 0)
		return;
	s->src_error[0] = '\0';
	if (pg_script(s->src, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	              on_src_part, s) < 0) {
		s->waiting = true;
		return;
	}
	src_query(s, s->sql.range, s->nvalues, s->values, on_source_range);
}

static void
copy_next_range(struct step *s, const char *lo, long long batch)
{
	free(s->lo);
	s->lo = strdup(lo);
	snprintf(s->batch_s, sizeof(s->batch_s), "%lld", batch);
	if (s->lo == NULL) {
		step_fail(&s->ctx, "out of memory");
		return;
	}
	if (s->lite != NULL) {
		s->phase = C_READING;
		s->lreq.batch = batch;
		lite_submit(s, copy_sqlite_batch);
		return;
	}
	read_range(s);
}

static int
copy_bind(struct step *s, const char *lo, const char *hi)
{
	const char *missing;

	(void)lo;
	(void)hi;
	s->nvalues = 0;
	if (s->ctx.step->nupsert == 0) {
		s->nvalues = step_bind(&s->ctx, &s->ctx.step->apply.stmt, NULL,
		                       NULL, s->values, &missing);
		if (s->nvalues < 0) {
			step_fail(
			        &s->ctx,
			        "apply uses :%s, which the job has no value for",
			        missing);
			return -1;
		}
	} else if (s->sql.backup != NULL) {
		/* also in a dry run: the batch rolls back, backups and all */
		s->values[0] = s->ctx.job;
		s->values[1] = s->ctx.step->name;
		s->nvalues = 2;
	}
	return 0;
}

/* In the batch's transaction: staged gets the rows, then the merge. */
static int
copy_apply(struct step *s, pg_result_cb part, pg_result_cb done, void *arg)
{
	struct pg_conn *t = s->ctx.target;
	const char *merge = s->ctx.step->nupsert > 0
	                            ? s->sql.merge
	                            : s->ctx.step->apply.stmt.text;
	bool backup = s->sql.backup != NULL && s->ctx.step->nupsert > 0;

	if (s->rejects != NULL) {
		/* rejects = keep: the rows that did not convert, in the batch */
		s->reject_values[0] = s->ctx.job;
		s->reject_values[1] = s->ctx.step->name;
		s->reject_values[2] = s->rejects;
		if (pg_query(t,
		             "INSERT INTO migrated.rejects"
		             " (job_id, step, key, col, value, error)"
		             " SELECT $1::bigint, $2, r->>'key', r->>'column',"
		             " r->>'value', r->>'error'"
		             " FROM json_array_elements($3::json) r",
		             3, s->reject_values, part, arg) < 0)
			return -1;
	}
	if (pg_script(t, "TRUNCATE staged", part, arg) < 0 ||
	    pg_copy_in(t, "COPY staged FROM STDIN", s->data, part, arg) < 0)
		return -1;
	if (backup && pg_query(t, s->sql.backup, 2, s->values, part, arg) < 0)
		return -1;
	if (backup || s->ctx.step->nupsert == 0)
		return pg_query(t, merge, s->nvalues, s->values, done, arg);
	/* without backup the plain merge: its command tag counts */
	return pg_query(t, merge, 0, NULL, done, arg);
}

static long long
copy_changed(struct step *s, const PGresult *res)
{
	bool counted = s->sql.backup != NULL && s->ctx.step->nupsert > 0;

	if (counted && PQntuples(res) == 1)
		return atoll(PQgetvalue(res, 0, 0));
	return atoll(PQcmdTuples((PGresult *)res));
}

const struct step_ops step_copy_ops = {
        .kind = "copy",
        .create = copy_create,
        .start = copy_start,
        .next_range = copy_next_range,
        .bind = copy_bind,
        .apply = copy_apply,
        .changed = copy_changed,
        .free = copy_free,
};
