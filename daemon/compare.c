#include "compare.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "compare_rows.h"
#include "compare_sqlite.h"
#include "daemon.h"
#include "dbcall.h"
#include "log.h"
#include "pg.h"
#include "vl_names.h"

#define APP_NAME "migrated compare"

/* The database a step reads, as the configuration said at the start. */
struct source_db {
	const char *name; /* the step's source (the plan outlives us) */
	char *conninfo;   /* NULL: not configured, or a SQLite file */
	bool sqlite;
	char *path; /* of the SQLite file */
};

struct compare {
	struct event_base *base;
	const struct plan *plan;
	long long id;
	char *tenant;
	json_t *env; /* values the selects bind: params row, args, pair */
	bool need_params;
	size_t *todo; /* indexes into plan->steps of the steps to compare */
	struct source_db *dbs; /* dbs[i] for todo[i] */
	size_t ntodo, next;
	char *target_conninfo;
	struct pg_conn *target, *source;
	const char *source_name; /* the database source is connected to */
	bool target_ready, source_ready;
	struct event *kick; /* the next move, on a loop turn of its own */
	struct compare_sqlite *lite; /* a SQLite step's source rows */

	/* the step being compared: plan->steps[todo[next]] */
	const struct plan_step *step;
	struct compare_cols cols;
	char *target_sql;
	struct compare_side src, tgt;
	size_t *distinct; /* first source row of each natural key */
	size_t ndistinct, sent;

	json_t *results; /* []StepCompare */
	bool differs;
	char *error;
	char sqlstate[6];
	bool unavailable;
	bool done;
	bool closing; /* freeing: connection callbacks do nothing */
	compare_done_cb cb;
	void *arg;
};

static void log_step(const struct compare *c, int prio, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void
log_step(const struct compare *c, int prio, const char *fmt, ...)
{
	struct log_ctx ctx = {
	        .job = c->id,
	        .plan = c->plan->name,
	        .tenant = c->tenant,
	        .step = c->step != NULL ? c->step->name : NULL,
	};
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_ctx(prio, &ctx, "compare: %s", msg);
}

/* Records the first error; the compare ends on the next loop turn. */
static void fail(struct compare *c, bool unavailable, const char *sqlstate,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
fail(struct compare *c, bool unavailable, const char *sqlstate, const char *fmt,
     ...)
{
	char msg[1024];
	va_list ap;

	if (c->error != NULL || c->closing)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* libpq's messages end with a newline */
	for (size_t n = strlen(msg); n > 0 && msg[n - 1] == '\n'; n--)
		msg[n - 1] = '\0';
	c->error = strdup(msg);
	c->unavailable = unavailable;
	snprintf(c->sqlstate, sizeof(c->sqlstate), "%s",
	         sqlstate != NULL ? sqlstate : "");
	event_active(c->kick, 0, 0);
}

static void
fail_oom(struct compare *c)
{
	fail(c, false, NULL, "out of memory");
}

/* "[target]" or "[database NAME]", as the configuration names them. */
static const char *
label(const char *db, char *buf, size_t len)
{
	if (strcmp(db, "target") == 0)
		snprintf(buf, len, "[target]");
	else
		snprintf(buf, len, "[database %s]", db);
	return buf;
}

/* Database db cannot be reached (any more, when it was_ready). */
static void
unreachable(struct compare *c, const char *db, bool was_ready, const char *why)
{
	char name[PLAN_NAME_MAX + 16];

	fail(c, true, NULL, "%s: %s: %s", label(db, name, sizeof(name)),
	     was_ready ? "connection lost" : "cannot connect",
	     why != NULL ? why : "not connected");
}

/*
 * True when res is a good result of a query on database db; otherwise
 * records why and returns false (also while freeing).
 */
static bool
result_ok(struct compare *c, const PGresult *res, const char *error,
          const char *db)
{
	if (c->closing || c->error != NULL)
		return false;
	if (res == NULL) {
		unreachable(c, db, true, error);
		return false;
	}
	if (!pg_result_ok(res)) {
		const char *msg =
		        PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		char name[PLAN_NAME_MAX + 16];
		fail(c, false, PQresultErrorField(res, PG_DIAG_SQLSTATE),
		     "%s%s%son %s: %s", c->step != NULL ? "step " : "",
		     c->step != NULL ? c->step->name : "",
		     c->step != NULL ? ": " : "", label(db, name, sizeof(name)),
		     msg != NULL ? msg : PQresultErrorMessage(res));
		return false;
	}
	return true;
}

static void
step_reset(struct compare *c)
{
	compare_sqlite_free(c->lite);
	c->lite = NULL;
	compare_cols_free(&c->cols);
	free(c->target_sql);
	c->target_sql = NULL;
	compare_side_free(&c->src);
	compare_side_free(&c->tgt);
	free(c->distinct);
	c->distinct = NULL;
	c->ndistinct = c->sent = 0;
}

static void
compare_free(struct compare *c)
{
	c->closing = true;
	pg_conn_free(c->source);
	pg_conn_free(c->target);
	step_reset(c); /* after the target: its copy's callback sees closing */
	if (c->kick != NULL)
		event_free(c->kick);
	for (size_t i = 0; c->dbs != NULL && i < c->ntodo; i++) {
		free(c->dbs[i].conninfo);
		free(c->dbs[i].path);
	}
	free(c->dbs);
	free(c->todo);
	free(c->target_conninfo);
	free(c->tenant);
	free(c->error);
	json_decref(c->env);
	json_decref(c->results);
	free(c);
}

void
compare_cancel(struct compare *c)
{
	if (c != NULL)
		compare_free(c);
}

/* ---- the outcome ---- */

/* "users 120 rows match" or "users: source 120 rows, target 119, ...". */
static void
describe(FILE *f, json_t *r)
{
	json_t *keys = json_object_get(r, "differing");
	size_t i;
	json_t *k;

	if (json_is_true(json_object_get(r, "ok"))) {
		fprintf(f, "%s %" JSON_INTEGER_FORMAT " rows match",
		        json_string_value(json_object_get(r, "step")),
		        json_integer_value(json_object_get(r, "source_rows")));
		return;
	}
	fprintf(f,
	        "%s: source %" JSON_INTEGER_FORMAT
	        " rows, target %" JSON_INTEGER_FORMAT,
	        json_string_value(json_object_get(r, "step")),
	        json_integer_value(json_object_get(r, "source_rows")),
	        json_integer_value(json_object_get(r, "target_rows")));
	json_array_foreach(keys, i, k)
	{
		fprintf(f, "%s%s", i == 0 ? ", differing keys " : ", ",
		        json_string_value(k));
	}
	if (json_array_size(keys) == COMPARE_MAX_DIFFERING)
		fputs(", ...", f);
}

static char *
summary(const struct compare *c)
{
	char *text = NULL;
	size_t len = 0, i, n = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *r;

	if (f == NULL)
		return NULL;
	if (c->error != NULL)
		fprintf(f, "compare could not run: %s", c->error);
	else if (json_array_size(c->results) == 0)
		fputs("compare: no step to compare (no copy step of the job "
		      "merges by upsert)",
		      f);
	else
		fputs(c->differs ? "compare found differences: " : "compare: ",
		      f);
	json_array_foreach(c->error == NULL ? c->results : NULL, i, r)
	{
		if (c->differs && json_is_true(json_object_get(r, "ok")))
			continue;
		if (n++ > 0)
			fputs("; ", f);
		describe(f, r);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Runs the callback with the outcome, then frees c. Only from on_kick. */
static void
deliver(struct compare *c)
{
	char *text = summary(c);
	struct compare_outcome out = {
	        .steps = c->results,
	        .ok = c->error == NULL && !c->differs,
	        .summary = text != NULL ? text : "compare: out of memory",
	        .error = c->error,
	        .unavailable = c->unavailable,
	        .sqlstate = c->sqlstate,
	};
	struct log_ctx ctx = {
	        .job = c->id, .plan = c->plan->name, .tenant = c->tenant};

	log_ctx(c->error != NULL || c->differs ? LOG_WARNING : LOG_INFO, &ctx,
	        "%s", out.summary);
	c->cb(c->arg, &out);
	free(text);
	compare_free(c);
}

/* ---- one step ---- */

static char *
quote_target(void *arg, const char *name)
{
	struct compare *c = arg;

	return pg_escape_ident(c->target, name);
}

static void
finish_step(struct compare *c)
{
	char src_sum[17], tgt_sum[17];
	bool ok;
	json_t *differing;

	compare_side_sort(&c->tgt);
	ok = c->src.n == c->tgt.n && c->src.sum == c->tgt.sum;
	differing =
	        ok ? json_array()
	           : compare_differing(&c->src, &c->tgt, COMPARE_MAX_DIFFERING);
	if (differing == NULL) {
		fail_oom(c);
		return;
	}
	compare_checksum_hex(c->src.sum, src_sum);
	compare_checksum_hex(c->tgt.sum, tgt_sum);
	json_array_append_new(c->results,
	                      json_pack("{s:s, s:I, s:I, s:s, s:s, s:b, s:o}",
	                                "step", c->step->name, "source_rows",
	                                (json_int_t)c->src.n, "target_rows",
	                                (json_int_t)c->tgt.n, "source_checksum",
	                                src_sum, "target_checksum", tgt_sum,
	                                "ok", ok, "differing", differing));
	if (!ok)
		c->differs = true;
	log_step(c, ok ? LOG_INFO : LOG_WARNING,
	         "source %zu rows (%s), target %zu rows (%s): %s", c->src.n,
	         src_sum, c->tgt.n, tgt_sum, ok ? "match" : "differ");
	c->next++;
	event_active(c->kick, 0, 0);
}

static void lookup_next(struct compare *c);

/* Target rows for a chunk of keys: "n" and the compared columns. */
static void
on_lookup(void *arg, const PGresult *res, const char *error)
{
	struct compare *c = arg;
	const char **vals;

	if (!result_ok(c, res, error, "target"))
		return;
	vals = calloc(c->cols.ncmp + 1, sizeof(*vals));
	if (vals == NULL) {
		fail_oom(c);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		unsigned long long n =
		        strtoull(PQgetvalue(res, i, 0), NULL, 10);
		const struct compare_row *row;
		if (n >= c->src.n) {
			fail(c, false, NULL, "step %s: bad row from the target",
			     c->step->name);
			free(vals);
			return;
		}
		row = &c->src.rows[n];
		for (size_t j = 0; j < c->cols.ncmp; j++)
			vals[j] = PQgetisnull(res, i, (int)j + 1)
			                  ? NULL
			                  : PQgetvalue(res, i, (int)j + 1);
		if (compare_side_add(&c->tgt, row->key, row->keylen,
		                     compare_hash(vals, c->cols.ncmp)) < 0) {
			free(vals);
			fail_oom(c);
			return;
		}
	}
	free(vals);
	lookup_next(c);
}

static void
lookup_next(struct compare *c)
{
	size_t to = c->sent + COMPARE_CHUNK;
	json_t *keys;
	char *text;

	if (c->sent >= c->ndistinct) {
		finish_step(c);
		return;
	}
	if (to > c->ndistinct)
		to = c->ndistinct;
	keys = compare_keys_json(&c->src, c->distinct, c->sent, to,
	                         c->cols.nkey);
	text = keys != NULL ? json_dumps(keys, JSON_COMPACT) : NULL;
	json_decref(keys);
	if (text == NULL) {
		fail(c, false, NULL,
		     "step %s: cannot send the natural keys (out of memory, "
		     "or not UTF-8)",
		     c->step->name);
		return;
	}
	c->sent = to;
	if (pg_query(c->target, c->target_sql, 1, (const char *const *)&text,
	             on_lookup, c) < 0)
		unreachable(c, "target", true, pg_conn_error(c->target));
	free(text);
}

/* The source's rows: natural key and hash of the compared columns. */
static void
on_select(void *arg, const PGresult *res, const char *error)
{
	struct compare *c = arg;
	const char **vals;
	size_t nk, nc;

	if (!result_ok(c, res, error, c->source_name))
		return;
	if ((size_t)PQnfields(res) != c->step->ncolumns) {
		fail(c, false, NULL,
		     "step %s: select returned %d columns, the plan names %zu",
		     c->step->name, PQnfields(res), c->step->ncolumns);
		return;
	}
	nk = c->cols.nkey;
	nc = c->cols.ncmp;
	vals = calloc(nk + nc + 1, sizeof(*vals));
	if (vals == NULL) {
		fail_oom(c);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		size_t keylen;
		char *key;
		int rc;
		for (size_t j = 0; j < nk + nc; j++) {
			int col = (int)(j < nk ? c->cols.key[j]
			                       : c->cols.cmp[j - nk]);
			vals[j] = PQgetisnull(res, i, col)
			                  ? NULL
			                  : PQgetvalue(res, i, col);
		}
		key = compare_key_encode(vals, nk, &keylen);
		rc = key != NULL ? compare_side_add(&c->src, key, keylen,
		                                    compare_hash(vals + nk, nc))
		                 : -1;
		free(key);
		if (rc < 0) {
			free(vals);
			fail_oom(c);
			return;
		}
	}
	free(vals);
	compare_side_sort(&c->src);
	c->distinct = compare_side_distinct(&c->src, &c->ndistinct);
	if (c->distinct == NULL && c->src.n > 0) {
		fail_oom(c);
		return;
	}
	lookup_next(c);
}

/* A SQLite step's rows are in pg_temp.compare_src: read them as text. */
static void
on_lite_rows(void *arg, const char *error)
{
	struct compare *c = arg;
	char *sql;

	if (c->closing)
		return;
	if (error != NULL) {
		fail(c, false, NULL, "step %s: reading SQLite source %s: %s",
		     c->step->name, c->source_name, error);
		return;
	}
	sql = compare_sqlite_rows_sql(c->target, c->step);
	if (sql == NULL) {
		fail_oom(c);
		return;
	}
	if (pg_query(c->target, sql, 0, NULL, on_select, c) < 0)
		unreachable(c, "target", true, pg_conn_error(c->target));
	free(sql);
}

/* The target table's columns: pick the compared ones, run the select. */
static void
on_columns(void *arg, const PGresult *res, const char *error)
{
	struct compare *c = arg;
	const struct plan_step *s = c->step;
	const char *values[CATALOG_MAX_PARAMS];
	const char **names, **types;
	int n;
	char err[512];

	if (!result_ok(c, res, error, "target"))
		return;
	n = PQntuples(res);
	if (n == 0) {
		fail(c, false, "42P01",
		     "step %s: the target has no table %s%s%s", s->name,
		     s->schema != NULL ? s->schema : "",
		     s->schema != NULL ? "." : "", s->table);
		return;
	}
	names = calloc((size_t)n, sizeof(*names));
	types = calloc((size_t)n, sizeof(*types));
	if (names == NULL || types == NULL) {
		free(names);
		free(types);
		fail_oom(c);
		return;
	}
	for (int i = 0; i < n; i++) {
		names[i] = PQgetvalue(res, i, 0);
		types[i] = PQgetvalue(res, i, 1);
	}
	if (compare_cols_make(s, names, types, (size_t)n, &c->cols, err,
	                      sizeof(err)) < 0) {
		free(names);
		free(types);
		fail(c, false, NULL, "step %s: %s", s->name, err);
		return;
	}
	c->target_sql = compare_target_sql(s, &c->cols, quote_target, c);
	if (c->target_sql == NULL) {
		free(names);
		free(types);
		fail_oom(c);
		return;
	}
	if (catalog_bind(&s->select.stmt, c->tenant, NULL, NULL, c->env,
	                 values) < 0) {
		free(names);
		free(types);
		fail(c, false, NULL,
		     "step %s: select has a parameter without a value for "
		     "this job",
		     s->name);
		return;
	}
	if (c->dbs[c->next].sqlite) {
		const struct source_db *db = &c->dbs[c->next];
		c->lite = compare_sqlite_start(
		        c->base, db->name, db->path, s, values,
		        (int)s->select.stmt.nparams, names, types, (size_t)n,
		        c->target, on_lite_rows, c);
		if (c->lite == NULL)
			fail_oom(c);
	} else if (pg_query(c->source, s->select.stmt.text,
	                    (int)s->select.stmt.nparams, values, on_select,
	                    c) < 0) {
		unreachable(c, c->source_name, true, pg_conn_error(c->source));
	}
	free(names);
	free(types);
}

static void
start_step(struct compare *c)
{
	char *rel = compare_relation_sql(c->step, quote_target, c);
	const char *values[1] = {rel};

	if (rel == NULL) {
		fail_oom(c);
		return;
	}
	if (pg_query(c->target, compare_columns_sql, 1, values, on_columns, c) <
	    0)
		unreachable(c, "target", true, pg_conn_error(c->target));
	free(rel);
}

static void
on_source_session(void *arg, const PGresult *res, const char *error)
{
	struct compare *c = arg;

	if (result_ok(c, res, error, c->source_name))
		start_step(c);
}

static void
on_source_state(void *arg, enum pg_state state, const char *error)
{
	struct compare *c = arg;

	if (c->closing)
		return;
	if (state == PG_READY && !c->source_ready) {
		c->source_ready = true;
		if (pg_script(c->source, compare_session_sql, on_source_session,
		              c) < 0)
			unreachable(c, c->source_name, true,
			            pg_conn_error(c->source));
	} else if (state == PG_DISCONNECTED) {
		unreachable(c, c->source_name, c->source_ready, error);
	}
}

/* Connects to the next step's source, or starts the step at once. */
static void
next_step(struct compare *c)
{
	const struct source_db *db;

	step_reset(c);
	if (c->next == c->ntodo) {
		c->step = NULL;
		c->done = true;
		deliver(c);
		return;
	}
	c->step = &c->plan->steps[c->todo[c->next]];
	db = &c->dbs[c->next];
	if (db->sqlite) {
		/* read on the file's worker, loaded into the target session */
		c->source_name = db->name;
		start_step(c);
		return;
	}
	if (db->conninfo == NULL) {
		fail(c, true, NULL,
		     "[database %s]: not in the configuration (step %s reads "
		     "it)",
		     db->name, c->step->name);
		return;
	}
	if (c->source != NULL && c->source_ready &&
	    strcmp(c->source_name, db->name) == 0) {
		start_step(c);
		return;
	}
	/* not inside any of its callbacks: on_kick runs on its own */
	pg_conn_free(c->source);
	c->source_ready = false;
	c->source_name = db->name;
	c->source = pg_conn_new(c->base, db->conninfo, APP_NAME,
	                        on_source_state, c);
	if (c->source == NULL)
		fail_oom(c);
}

static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct compare *c = arg;

	(void)fd;
	(void)what;
	if (c->error != NULL || c->done) {
		deliver(c);
		return;
	}
	next_step(c);
}

/* ---- the target ---- */

static void
on_params(void *arg, const PGresult *res, const char *error)
{
	struct compare *c = arg;
	char err[512];
	json_t *row;

	if (!result_ok(c, res, error, "target"))
		return;
	row = checks_params_row(c->plan, res, err, sizeof(err));
	if (row == NULL) {
		fail(c, false, NULL, "%s", err);
		return;
	}
	json_object_update(c->env, row);
	json_decref(row);
	event_active(c->kick, 0, 0);
}

static void
on_target_session(void *arg, const PGresult *res, const char *error)
{
	struct compare *c = arg;
	const char *values[CATALOG_MAX_PARAMS];
	const struct sql_stmt *st = &c->plan->params.stmt;

	if (!result_ok(c, res, error, "target"))
		return;
	if (!c->need_params) {
		event_active(c->kick, 0, 0);
		return;
	}
	if (catalog_bind(st, c->tenant, NULL, NULL, c->env, values) < 0) {
		fail(c, false, NULL,
		     "the params query has a parameter without a value");
		return;
	}
	if (pg_query(c->target, st->text, (int)st->nparams, values, on_params,
	             c) < 0)
		unreachable(c, "target", true, pg_conn_error(c->target));
}

static void
on_target_state(void *arg, enum pg_state state, const char *error)
{
	struct compare *c = arg;

	if (c->closing)
		return;
	if (state == PG_READY && !c->target_ready) {
		c->target_ready = true;
		if (pg_script(c->target, compare_session_sql, on_target_session,
		              c) < 0)
			unreachable(c, "target", true,
			            pg_conn_error(c->target));
	} else if (state == PG_DISCONNECTED) {
		unreachable(c, "target", c->target_ready, error);
	}
}

/* ---- start ---- */

static bool
job_has_step(json_t *steps, const char *name)
{
	size_t i;
	json_t *s;

	if (!json_is_array(steps))
		return true;
	json_array_foreach(steps, i, s)
	{
		if (json_is_string(s) &&
		    strcmp(json_string_value(s), name) == 0)
			return true;
	}
	return false;
}

/* The values select binds, besides tenant: params row, args, pair. */
static json_t *
job_env(const struct compare_job *job)
{
	json_t *env = json_object();

	if (env == NULL)
		return NULL;
	if (json_is_object(job->params))
		json_object_update(env, job->params);
	if (json_is_object(job->args))
		json_object_update(env, job->args);
	if (job->pair != NULL && job->plan->pair != NULL)
		json_object_set_new(env, job->plan->pair,
		                    json_string(job->pair));
	return env;
}

/* Picks the steps and copies the conninfo of their sources. */
static int
plan_todo(struct compare *c, const struct config *cfg, json_t *steps)
{
	const struct plan *plan = c->plan;

	c->todo = calloc(plan->nsteps + 1, sizeof(*c->todo));
	c->dbs = calloc(plan->nsteps + 1, sizeof(*c->dbs));
	if (c->todo == NULL || c->dbs == NULL)
		return -1;
	for (size_t i = 0; i < plan->nsteps; i++) {
		const struct plan_step *s = &plan->steps[i];
		const struct config_database *db;
		struct source_db *sd = &c->dbs[c->ntodo];
		const char *why = compare_step_skip(s);

		if (!job_has_step(steps, s->name))
			continue;
		if (why != NULL) {
			if (s->kind == PLAN_STEP_COPY) {
				c->step = s;
				log_step(c, LOG_INFO, "not compared: %s", why);
				c->step = NULL;
			}
			continue;
		}
		c->todo[c->ntodo++] = i;
		sd->name = s->source;
		db = config_database(cfg, s->source);
		if (db == NULL)
			continue;
		sd->sqlite = db->conninfo == NULL;
		if (db->conninfo != NULL &&
		    (sd->conninfo = strdup(db->conninfo)) == NULL)
			return -1;
		if (db->sqlite != NULL &&
		    (sd->path = strdup(db->sqlite)) == NULL)
			return -1;
	}
	return 0;
}

struct compare *
compare_job(struct event_base *base, const struct config *cfg,
            const struct compare_job *job, compare_done_cb cb, void *arg)
{
	struct compare *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->base = base;
	c->plan = job->plan;
	c->id = job->id;
	c->cb = cb;
	c->arg = arg;
	c->tenant = strdup(job->tenant);
	c->env = job_env(job);
	c->need_params = !json_is_object(job->params) && job->plan->has_params;
	c->results = json_array();
	c->kick = event_new(base, -1, 0, on_kick, c);
	c->target_conninfo = strdup(cfg->target_conninfo);
	if (c->tenant == NULL || c->env == NULL || c->results == NULL ||
	    c->kick == NULL || c->target_conninfo == NULL ||
	    plan_todo(c, cfg, job->steps) < 0) {
		compare_free(c);
		return NULL;
	}
	if (c->ntodo == 0) {
		c->done = true;
		event_active(c->kick, 0, 0);
		return c;
	}
	/* may report a failure at once: fail() waits for the loop anyway */
	c->target = pg_conn_new(base, c->target_conninfo, APP_NAME,
	                        on_target_state, c);
	if (c->target == NULL) {
		compare_free(c);
		return NULL;
	}
	return c;
}
