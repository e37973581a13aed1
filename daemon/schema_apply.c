/*
 * The schema job driver. One run is a chain of queries on its own
 * connection to the set's database:
 *
 *   session settings, the history table, pg_advisory_lock on the set,
 *   the history, then per file:
 *     BEGIN; the file (simple query protocol); its history row; COMMIT
 *   and after each COMMIT the job's step on the state connection.
 *
 * A file whose first line is "-- migrated: no-transaction" runs statement
 * by statement outside a transaction and is recorded after its last one.
 * A dry run opens one transaction for all files, runs them statement by
 * statement (for the command tags) and rolls it back.
 *
 * If the set's database goes away, the run starts over once it is back:
 * a file in flight rolled back together with its history row, and the
 * history, read again, says what is still pending.
 *
 * This file is the driver: the connection, the lock, the history, the
 * job's steps and how the run ends. What runs is decided in
 * schema_apply_plan.c, and one file is run by schema_apply_file.c.
 */
#include "schema_apply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "schema_apply_file.h"
#include "schema_apply_plan.h"
#include "schema_apply_sqlite.h"
#include "schema_history.h"
#include "schema_files.h"

enum outcome { O_NONE, O_DONE, O_FAILED, O_STOPPED };

struct ticket;

struct schema_run {
	struct event_base *base;
	struct pg_conn *state;
	struct pg_conn *conn;
	struct schema_run_events ev;
	char *set, *dbname, *conninfo, *dir_path, *owner;
	char *uid, *username;
	char job[24];
	char plan[128];
	bool revert, dry_run;
	long long to; /* -1: none */
	struct log_ctx log;

	struct schema_dir *dir;
	struct schema_item *items;
	size_t nitems, idx;
	struct schema_file_run *file;  /* runs items[idx] */
	struct schema_sqlite_side *sq; /* instead of conn and file on SQLite */

	unsigned gen; /* one per (re)start; older answers are dropped */
	struct ticket *tickets;
	bool stop, freeing, ended;
	enum outcome outcome;
	char *msg;
	struct event *report;
	const char *ensure_sql;
};

static void next_item(struct schema_run *run);

/*
 * A query not sent means the connection is gone: on_state starts over
 * once it is back (the state connection's loss ends the run instead).
 */
static void
sent(int rc)
{
	(void)rc;
}
static void fail(struct schema_run *run, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* ---- ending: reported from the loop ---- */

static void
on_report(evutil_socket_t fd, short what, void *arg)
{
	struct schema_run *run = arg;

	(void)fd;
	(void)what;
	/* the handler may free run: nothing after it */
	switch (run->outcome) {
	case O_DONE:
		run->ev.done(run->ev.arg);
		break;
	case O_FAILED:
		run->ev.failed(run->ev.arg, run->msg != NULL ? run->msg : "?");
		break;
	case O_STOPPED:
		run->ev.stopped(run->ev.arg);
		break;
	case O_NONE:
		break;
	}
}

static void
finish(struct schema_run *run, enum outcome outcome, const char *msg)
{
	if (run->ended)
		return;
	run->ended = true;
	schema_file_run_cancel(run->file);
	run->outcome = outcome;
	run->msg = msg != NULL ? strdup(msg) : NULL;
	event_active(run->report, 0, 0);
}

static void
fail(struct schema_run *run, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	finish(run, O_FAILED, msg);
}

/* ---- queries on the state connection (the runner's) ---- */

typedef void (*ticket_fn)(struct schema_run *run, const PGresult *res);

/* A query on a connection the run does not own: it may end after run. */
struct ticket {
	struct schema_run *run; /* NULL once run is gone */
	unsigned gen;
	ticket_fn fn; /* NULL: only log a failure */
	struct ticket *next;
};

static void
on_ticket(void *arg, const PGresult *res, const char *error)
{
	struct ticket *t = arg;
	struct schema_run *run = t->run;
	unsigned gen = t->gen;
	ticket_fn fn = t->fn;
	char buf[512];

	(void)error;
	if (run != NULL)
		for (struct ticket **p = &run->tickets; *p != NULL;
		     p = &(*p)->next)
			if (*p == t) {
				*p = t->next;
				break;
			}
	free(t);
	if (run == NULL || run->freeing || res == NULL)
		return;
	if (!pg_result_ok(res)) {
		log_ctx(LOG_WARNING, &run->log,
		        "recording the job's progress: %s",
		        pg_result_error(res, buf, sizeof(buf)));
		if (fn != NULL && !run->ended && gen == run->gen)
			fail(run, "recording the job's progress: %s", buf);
		return;
	}
	if (fn != NULL && !run->ended && gen == run->gen)
		fn(run, res);
}

static int
state_query(struct schema_run *run, const char *sql, int n,
            const char *const *values, ticket_fn fn)
{
	struct ticket *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	t->run = run;
	t->gen = run->gen;
	t->fn = fn;
	if (pg_query(run->state, sql, n, values, on_ticket, t) < 0) {
		free(t);
		return -1;
	}
	t->next = run->tickets;
	run->tickets = t;
	return 0;
}

static void
add_warning(struct schema_run *run, const char *text)
{
	const char *values[2] = {run->job, text};

	log_ctx(LOG_NOTICE, &run->log, "%s", text);
	sent(state_query(run,
	                 "UPDATE migrated.jobs SET warnings = warnings ||"
	                 " $2::text WHERE id = $1::bigint",
	                 2, values, NULL));
}

/* ---- a file's end ---- */

static void
on_advanced(struct schema_run *run, const PGresult *res)
{
	if (strcmp(PQcmdTuples((PGresult *)res), "1") != 0) {
		log_ctx(LOG_INFO, &run->log,
		        "the job is no longer running here; stopping");
		finish(run, O_STOPPED, NULL);
		return;
	}
	run->log.step = NULL;
	run->idx++;
	next_item(run);
}

/* The file is done (recorded, committed): its step too. */
static void
on_file_ran(void *arg, const char *tags, long long nchanged, long long ms)
{
	struct schema_run *run = arg;
	const struct schema_item *it = &run->items[run->idx];
	char changed[24];
	const char *values[5];

	log_ctx(LOG_INFO, &run->log, "%s %s in %lld ms%s%s",
	        run->dry_run  ? "ran (dry run)"
	        : run->revert ? "reverted"
	                      : "applied",
	        it->path, ms, tags != NULL ? ": " : "",
	        tags != NULL ? tags : "");
	if (run->dry_run) {
		char note[2048];

		if (!it->no_tx) {
			snprintf(note, sizeof(note),
			         "dry run: %s: %s (rolled back)", it->step,
			         tags != NULL ? tags : "nothing to run");
			add_warning(run, note);
		}
	}
	snprintf(changed, sizeof(changed), "%lld", nchanged);
	values[0] = run->job;
	values[1] = it->step;
	values[2] = changed;
	values[3] = run->dry_run ? tags : NULL;
	values[4] = run->owner;
	if (state_query(run,
	                "UPDATE migrated.job_steps s SET state = 'done',"
	                " rows_done = 1, rows_changed = $3::bigint,"
	                " checkpoint = $4 FROM migrated.jobs j"
	                " WHERE s.job_id = $1::bigint AND s.step = $2"
	                " AND j.id = s.job_id AND j.state = 'running'"
	                " AND j.owner = $5",
	                5, values, on_advanced) < 0)
		fail(run, "cannot record the job's progress: the state "
		          "database is not connected");
}

static void
on_file_failed(void *arg, const char *msg)
{
	fail(arg, "%s", msg);
}

static void
on_file_warning(void *arg, const char *text)
{
	add_warning(arg, text);
}

static void
start_item(struct schema_run *run)
{
	const struct schema_item *it = &run->items[run->idx];
	const char *values[2] = {run->job, it->step};

	run->log.step = it->step;
	sent(state_query(run,
	                 "UPDATE migrated.job_steps SET state = 'running'"
	                 " WHERE job_id = $1::bigint AND step = $2"
	                 " AND state = 'pending'",
	                 2, values, NULL));
	if (run->sq != NULL)
		schema_apply_sqlite_file(run->sq, it, run->idx);
	else
		schema_file_run_start(run->file, it,
		                      run->nitems > run->idx + 1);
}

static void
on_dry_end(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	finish(run, O_DONE, NULL);
}

static void
next_item(struct schema_run *run)
{
	if (run->idx < run->nitems && !run->stop) {
		start_item(run);
		return;
	}
	if (run->dry_run && run->sq != NULL) {
		finish(run, O_DONE, NULL); /* rolled back on the worker */
		return;
	}
	if (run->dry_run) {
		sent(pg_query(run->conn, "ROLLBACK", 0, NULL, on_dry_end, run));
		return;
	}
	if (run->stop) {
		log_ctx(LOG_INFO, &run->log, "stopping as asked");
		finish(run, O_STOPPED, NULL);
		return;
	}
	log_ctx(LOG_INFO, &run->log, "%s %zu version(s)",
	        run->revert ? "reverted" : "applied", run->nitems);
	finish(run, O_DONE, NULL);
}

/* ---- planning: the history against the directory ---- */

static void
on_dry_begun(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;
	char buf[512];

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	if (!pg_result_ok(res)) {
		fail(run, "BEGIN failed: %s",
		     pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	next_item(run);
}

static void
on_steps_synced(struct schema_run *run, const PGresult *res)
{
	(void)res;
	if (run->dry_run && run->sq != NULL) {
		schema_apply_sqlite_dry(run->sq, run->items, run->nitems);
		return;
	}
	if (run->dry_run) {
		sent(pg_query(run->conn, "BEGIN", 0, NULL, on_dry_begun, run));
		return;
	}
	next_item(run);
}

/*
 * One step per file to run, in order after the steps done before (a
 * resumed job); steps not done that are no longer to run were done by an
 * earlier attempt whose progress was not recorded.
 */
static void
sync_steps(struct schema_run *run)
{
	json_t *names = json_array();
	char *text;
	const char *values[2];

	for (size_t i = 0; i < run->nitems; i++)
		json_array_append_new(names, json_string(run->items[i].step));
	text = json_dumps(names, JSON_COMPACT);
	json_decref(names);
	if (text == NULL) {
		fail(run, "out of memory");
		return;
	}
	values[0] = run->job;
	values[1] = text;
	if (state_query(
	            run,
	            "WITH want AS (SELECT s AS step, n::integer AS n"
	            "  FROM json_array_elements_text($2::json)"
	            "  WITH ORDINALITY AS u(s, n)),"
	            " base AS (SELECT coalesce(max(ord), 0) AS b"
	            "  FROM migrated.job_steps WHERE job_id = $1::bigint"
	            "  AND state = 'done'"
	            "  AND step NOT IN (SELECT step FROM want)),"
	            " ins AS (INSERT INTO migrated.job_steps (job_id, step, ord,"
	            "  rows_estimated) SELECT $1::bigint, step, b + n, 1"
	            "  FROM want, base ON CONFLICT (job_id, step) DO UPDATE"
	            "  SET state = 'pending', rows_done = 0, ord = EXCLUDED.ord"
	            "  RETURNING 1),"
	            " old AS (UPDATE migrated.job_steps SET state = 'done',"
	            "  rows_done = 1 WHERE job_id = $1::bigint"
	            "  AND state <> 'done' AND step NOT IN (SELECT step FROM want)"
	            "  RETURNING 1)"
	            "SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM old)",
	            2, values, on_steps_synced) < 0)
		fail(run, "cannot record the job's steps: the state database "
		          "is not connected");
	free(text);
}

static void plan_run(struct schema_run *run, const struct schema_applied *a,
                     size_t na);

static void
on_history(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;
	struct schema_applied *a;
	size_t na = (size_t)0;
	char buf[512];

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	if (!pg_result_ok(res)) {
		fail(run, "reading the schema history of %s: %s", run->dbname,
		     pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	a = calloc((size_t)PQntuples(res) + 1, sizeof(*a));
	if (a == NULL) {
		fail(run, "out of memory");
		return;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		a[na].version = atoll(PQgetvalue(res, i, 0));
		a[na].kind = PQgetvalue(res, i, 1);
		a[na].checksum =
		        PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
		a[na].name = PQgetvalue(res, i, 3);
		a[na].down =
		        PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4);
		na++;
	}
	plan_run(run, a, na);
	free(a);
}

/* The history's applied versions a: what runs, and the job's steps. */
static void
plan_run(struct schema_run *run, const struct schema_applied *a, size_t na)
{
	char err[1024];
	struct schema_plan plan;
	int rc;

	/* the directory as it is now, under the lock */
	schema_dir_free(run->dir);
	run->dir = schema_dir_load(run->dir_path, err, sizeof(err));
	if (run->dir == NULL) {
		fail(run, "%s", err);
		return;
	}
	free(run->items);
	run->nitems = run->idx = 0;
	run->items = calloc(run->dir->n + 1, sizeof(*run->items));
	if (run->items == NULL) {
		fail(run, "out of memory");
		return;
	}
	plan.items = run->items;
	rc = schema_apply_plan(
	        &(struct schema_plan_in){.dir = run->dir,
	                                 .applied = a,
	                                 .napplied = na,
	                                 .set = run->set,
	                                 .dbname = run->dbname,
	                                 .dir_path = run->dir_path,
	                                 .revert = run->revert,
	                                 .to = run->to},
	        &plan);
	run->nitems = plan.nitems;
	if (rc < 0) {
		fail(run, "%s", plan.err);
		return;
	}
	if (plan.note[0] != '\0')
		add_warning(run, plan.note);
	if (run->nitems == 0) {
		log_ctx(LOG_INFO, &run->log, "nothing to %s",
		        run->revert ? "revert" : "apply");
		finish(run, O_DONE, NULL);
		return;
	}
	log_ctx(LOG_INFO, &run->log, "%s %zu version(s) on %s%s",
	        run->revert ? "reverting" : "applying", run->nitems,
	        run->dbname, run->dry_run ? " (dry run)" : "");
	sync_steps(run);
}

static void
on_locked(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;
	const char *values[1] = {run->set};
	char buf[512];

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	if (!pg_result_ok(res)) {
		fail(run, "taking the lock on schema set %s: %s", run->set,
		     pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	/* a version's state: its newest succeeded row */
	sent(pg_query(run->conn,
	              "SELECT version, kind, checksum, name, adopted_from FROM"
	              " (SELECT DISTINCT ON (version) version, kind, checksum,"
	              "  name, adopted_from FROM migrated.schema_history"
	              "  WHERE set_name = $1 AND outcome = 'succeeded'"
	              "  ORDER BY version, id DESC) h"
	              " WHERE kind IN ('applied', 'baseline', 'adopted',"
	              "  'repaired') ORDER BY version",
	              1, values, on_history, run));
}

static void
on_ensured(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;
	const char *values[1] = {run->set};
	char buf[512];

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	if (!pg_result_ok(res)) {
		fail(run, "creating the schema history table on %s: %s",
		     run->dbname, pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	log_ctx(LOG_DEBUG, &run->log, "waiting for the lock on schema set %s",
	        run->set);
	/* the key every writer of the set's history locks (schema_history.h):
	 * baseline and repair wait for a run, and a run for them */
	sent(pg_query(run->conn,
	              "SELECT pg_advisory_lock(" SCHEMA_HISTORY_LOCK_KEY ")", 1,
	              values, on_locked, run));
}

static void
on_ignored(void *arg, const PGresult *res, const char *error)
{
	(void)arg;
	(void)res;
	(void)error;
}

static void
on_state(void *arg, enum pg_state state, const char *error)
{
	struct schema_run *run = arg;

	if (run->freeing || run->ended)
		return;
	if (state != PG_READY) {
		if (state == PG_DISCONNECTED && run->gen > 0)
			log_ctx(LOG_WARNING, &run->log,
			        "connection to %s lost (%s); the file running "
			        "then rolled back, and the job goes on from the "
			        "history once the database is back",
			        run->dbname, error != NULL ? error : "?");
		return;
	}
	run->gen++;
	/* a dead daemon's session ends soon, and so does its lock */
	sent(pg_query(run->conn,
	              "SELECT set_config('client_connection_check_interval',"
	              " '1000', false)",
	              0, NULL, on_ignored, run));
	sent(pg_script(run->conn, run->ensure_sql, on_ensured, run));
}

/* ---- on a SQLite file ---- */

/* The history (a version's newest state), as the PostgreSQL query. */
static void
on_sq_history(void *arg, const json_t *rows)
{
	struct schema_run *run = arg;
	size_t n = json_array_size(rows), na = 0;
	struct schema_applied *a;

	if (run->freeing || run->ended)
		return;
	a = calloc(n + 1, sizeof(*a));
	if (a == NULL) {
		fail(run, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *r = json_array_get(rows, i);
		const char *kind =
		        json_string_value(json_object_get(r, "kind"));

		if (!schema_history_kind_applied(kind))
			continue;
		a[na].version = (long long)json_integer_value(
		        json_object_get(r, "version"));
		a[na].kind = kind;
		a[na].checksum =
		        json_string_value(json_object_get(r, "checksum"));
		a[na].name = json_string_value(json_object_get(r, "name"));
		a[na].down =
		        json_string_value(json_object_get(r, "adopted_from"));
		na++;
	}
	plan_run(run, a, na);
	free(a);
}

static void
on_sq_dry_done(void *arg)
{
	struct schema_run *run = arg;

	if (!run->freeing && !run->ended)
		next_item(run);
}

static void
on_sq_ran(void *arg, const char *tags, long long changed, long long ms)
{
	struct schema_run *run = arg;

	if (!run->freeing && !run->ended)
		on_file_ran(arg, tags, changed, ms);
}

static void
on_sq_failed(void *arg, const char *msg)
{
	struct schema_run *run = arg;

	if (!run->freeing && !run->ended)
		fail(run, "%s", msg);
}

static void
on_sq_warning(void *arg, const char *text)
{
	struct schema_run *run = arg;

	if (!run->freeing && !run->ended)
		add_warning(run, text);
}

/* The run on [database NAME]'s SQLite file path. */
static int
start_sqlite(struct schema_run *run, struct event_base *base, const char *path)
{
	run->sq = schema_apply_sqlite_new(
	        base, run->dbname, path,
	        &(struct schema_file_ctx){.set = run->set,
	                                  .uid = run->uid,
	                                  .username = run->username,
	                                  .job = run->job,
	                                  .revert = run->revert,
	                                  .dry_run = run->dry_run},
	        &(struct schema_sqlite_side_events){
	                .history = on_sq_history,
	                .dry_done = on_sq_dry_done,
	                .file = {.ran = on_sq_ran,
	                         .failed = on_sq_failed,
	                         .warning = on_sq_warning,
	                         .arg = run}},
	        &run->log);
	if (run->sq == NULL)
		return -1;
	log_ctx(LOG_INFO, &run->log, "%s%s of schema set %s on %s (SQLite %s)",
	        run->revert ? "revert" : "apply",
	        run->dry_run ? " (dry run)" : "", run->set, run->dbname, path);
	run->gen++;
	schema_apply_sqlite_history(run->sq);
	return 0;
}

/* ---- the run ---- */

static char *
arg_string(json_t *args, const char *key)
{
	const char *s = json_string_value(json_object_get(args, key));

	return s != NULL ? strdup(s) : NULL;
}

struct schema_run *
schema_run_start(const struct schema_run_ctx *ctx,
                 const struct schema_run_events *ev)
{
	struct schema_run *run = calloc(1, sizeof(*run));
	const struct config_schema *cs;
	const char *op, *to;
	char name[160];

	if (run == NULL)
		return NULL;
	run->base = ctx->base;
	run->state = ctx->state;
	run->ev = *ev;
	run->ensure_sql = schema_history_ensure_sql;
	snprintf(run->job, sizeof(run->job), "%s", ctx->job);
	snprintf(run->plan, sizeof(run->plan), "schema:%s", ctx->set);
	run->set = strdup(ctx->set);
	run->owner = strdup(ctx->owner);
	run->uid = arg_string(ctx->args, "uid");
	run->username = arg_string(ctx->args, "username");
	op = json_string_value(json_object_get(ctx->args, "op"));
	to = json_string_value(json_object_get(ctx->args, "to"));
	run->revert = op != NULL && strcmp(op, "revert") == 0;
	run->to = to != NULL ? atoll(to) : -1;
	run->dry_run = json_is_true(json_object_get(ctx->args, "dry_run")) ||
	               (json_string_value(json_object_get(ctx->args,
	                                                  "dry_run")) != NULL &&
	                strcmp(json_string_value(
	                               json_object_get(ctx->args, "dry_run")),
	                       "true") == 0);
	run->report = event_new(ctx->base, -1, 0, on_report, run);
	run->log.job = atoll(ctx->job);
	run->log.plan = run->plan;
	if (run->set == NULL || run->owner == NULL || run->report == NULL) {
		schema_run_free(run);
		return NULL;
	}
	cs = config_schema(ctx->cfg, ctx->set);
	if (cs == NULL) {
		fail(run, "schema set %s is not configured here any more",
		     ctx->set);
		return run;
	}
	run->dbname = strdup(cs->database);
	run->dir_path = strdup(cs->dir);
	run->log.tenant = run->dbname;
	if (strcmp(cs->database, "target") == 0) {
		run->conninfo = strdup(ctx->cfg->target_conninfo);
	} else {
		const struct config_database *db =
		        config_database(ctx->cfg, cs->database);
		if (db != NULL && db->sqlite != NULL) {
			if (run->dbname == NULL || run->dir_path == NULL ||
			    start_sqlite(run, ctx->base, db->sqlite) < 0) {
				schema_run_free(run);
				return NULL;
			}
			return run;
		}
		if (db == NULL || db->conninfo == NULL) {
			fail(run,
			     "schema set %s: database %s is not a PostgreSQL "
			     "[database NAME] of this daemon",
			     ctx->set, cs->database);
			return run;
		}
		run->conninfo = strdup(db->conninfo);
	}
	if (run->dbname == NULL || run->dir_path == NULL ||
	    run->conninfo == NULL) {
		schema_run_free(run);
		return NULL;
	}
	log_ctx(LOG_INFO, &run->log, "%s%s of schema set %s on %s",
	        run->revert ? "revert" : "apply",
	        run->dry_run ? " (dry run)" : "", run->set, run->dbname);
	/* what a baseline or repair refused meanwhile names (schema_methods.c) */
	snprintf(name, sizeof(name), "migrated job %s (schema %s)", run->job,
	         run->set);
	run->conn = pg_conn_new(ctx->base, run->conninfo, name, on_state, run);
	run->file = schema_file_run_new(
	        run->conn,
	        &(struct schema_file_ctx){.set = run->set,
	                                  .uid = run->uid,
	                                  .username = run->username,
	                                  .job = run->job,
	                                  .revert = run->revert,
	                                  .dry_run = run->dry_run},
	        &(struct schema_file_events){.ran = on_file_ran,
	                                     .failed = on_file_failed,
	                                     .warning = on_file_warning,
	                                     .arg = run},
	        &run->log);
	if (run->conn == NULL || run->file == NULL) {
		schema_run_free(run);
		return NULL;
	}
	return run;
}

void
schema_run_stop(struct schema_run *run)
{
	run->stop = true;
}

void
schema_run_free(struct schema_run *run)
{
	if (run == NULL)
		return;
	run->freeing = true;
	for (struct ticket *t = run->tickets; t != NULL; t = t->next)
		t->run = NULL; /* they free themselves when answered */
	schema_file_run_cancel(run->file);
	schema_apply_sqlite_free(run->sq);
	pg_conn_free(run->conn);
	schema_file_run_free(run->file);
	if (run->report != NULL)
		event_free(run->report);
	schema_dir_free(run->dir);
	free(run->items);
	free(run->msg);
	free(run->set);
	free(run->dbname);
	free(run->conninfo);
	free(run->dir_path);
	free(run->owner);
	free(run->uid);
	free(run->username);
	free(run);
}
