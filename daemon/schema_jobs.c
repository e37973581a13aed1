#include "schema_jobs.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nss_cache.h"
#include "daemon.h"
#include "dbcall.h"
#include "log.h"
#include "scheduler.h"
#include "schema_files.h"
#include "schema_history.h"
#include "schema_methods.h"
#include "schema_sqlite_call.h"
#include "vl_names.h"

struct schema_job_args {
	const char *set;
	long long to; /* -1 when absent */
	bool dry_run;
};

static const struct vl_field schema_job_fields[] = {
        VL_FIELD_STRING("set", 0, struct schema_job_args, set, 1, 256),
        VL_FIELD_INT("to", 0, struct schema_job_args, to, 0, INT64_MAX, -1),
        VL_FIELD_BOOL("dry_run", 0, struct schema_job_args, dry_run),
        VL_FIELDS_END,
};
const struct vl_params schema_jobs_params =
        VL_PARAMS(struct schema_job_args, schema_job_fields);

/*
 * The job, unless the set has an unfinished one (of either op): the dup
 * lookup names it, and ON CONFLICT covers a submit racing this one.
 */
static const char insert_sql[] =
        "WITH dup AS (SELECT id FROM migrated.jobs"
        "  WHERE plan = $1 AND tenant = $2 AND pair IS NULL"
        "  AND state IN ('queued', 'running', 'paused') ORDER BY id LIMIT 1),"
        " ins AS (INSERT INTO migrated.jobs (plan, tenant, kind, dry_run, args)"
        "  SELECT $1, $2, 'schema', $3::boolean, $4::jsonb"
        "  WHERE NOT EXISTS (SELECT 1 FROM dup)"
        "  ON CONFLICT DO NOTHING RETURNING id)"
        "SELECT (SELECT id FROM ins), (SELECT id FROM dup)";

static void
inserted(struct dbcall *call, const PGresult *res)
{
	const char *plan =
	        json_string_value(json_object_get(call->ctx, "plan"));
	const char *db = json_string_value(json_object_get(call->ctx, "db"));
	const char *op = json_string_value(json_object_get(call->ctx, "op"));

	if (PQgetisnull(res, 0, 0)) {
		control_error(
		        call->req, VL_ERROR_JOB_EXISTS,
		        json_pack("{s:s, s:s, s:I}", "plan", plan, "tenant", db,
		                  "id",
		                  (json_int_t)(PQgetisnull(res, 0, 1)
		                                       ? 0
		                                       : atoll(PQgetvalue(
		                                                 res, 0, 1)))));
		return;
	}
	log_info("queued schema job %s (%s of %s)", PQgetvalue(res, 0, 0), op,
	         plan);
	scheduler_kick(call->d->sched);
	control_reply(call->req,
	              json_pack("{s:I}", "job",
	                        (json_int_t)atoll(PQgetvalue(res, 0, 0))));
}

/* A submit between its history check and its insert. */
struct submit {
	struct control_req *req;
	struct daemon *d;
	char *set, *database, *args;
	char plan[300];
	bool revert, dry_run;
	long long to;
	struct schema_dir *dir;
	struct schema_sqlite_rows sq; /* a set on a SQLite file */
};

static void
submit_free(struct submit *c)
{
	schema_dir_free(c->dir);
	free(c->set);
	free(c->database);
	free(c->args);
	json_decref(c->sq.rows);
	free(c);
}

static void conflict(struct submit *c, long long version, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void
conflict(struct submit *c, long long version, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	control_error(c->req, VL_ERROR_SCHEMA_CONFLICT,
	              json_pack("{s:s, s:I, s:s}", "set", c->set, "version",
	                        (json_int_t)version, "message", msg));
}

/*
 * What the job would refuse anyway, said at once: an apply while a
 * version was edited or lost its file, a revert of a version without a
 * down file. 0 when none; -1 after the SchemaConflict reply. The job
 * checks again (and the down files' checksums) under its lock.
 */
static int
precheck(struct submit *c, const json_t *set)
{
	const json_t *files = json_object_get(set, "files");
	size_t i, n = json_array_size(files), reverting = 0;

	for (i = n; i-- > 0;) {
		const json_t *f = json_array_get(files, i);
		const char *state =
		        json_string_value(json_object_get(f, "state"));
		const char *name =
		        json_string_value(json_object_get(f, "name"));
		const char *kind =
		        json_string_value(json_object_get(f, "kind"));
		long long v = json_integer_value(json_object_get(f, "version"));
		const struct schema_file *sf = schema_dir_find(c->dir, v);

		if (!c->revert && strcmp(state, "edited") == 0) {
			conflict(c, v,
			         "%s was edited since it was applied; undo the "
			         "edit, or accept it with \"migratectl schema "
			         "repair %s %lld accept\"",
			         sf != NULL ? sf->path : name, c->set, v);
			return -1;
		}
		if (!c->revert && strcmp(state, "missing") == 0) {
			conflict(
			        c, v,
			        "version %lld (%s) is recorded as applied but has "
			        "no file in %s any more; put it back, or record "
			        "the decision with \"migratectl schema repair %s "
			        "%lld forget\"",
			        v, name, c->dir->dir, c->set, v);
			return -1;
		}
		if (!c->revert || !schema_history_kind_applied(kind))
			continue;
		if (c->to >= 0 ? v <= c->to : reverting > 0)
			break;
		reverting++;
		if (sf == NULL || sf->down_path == NULL) {
			conflict(
			        c, v,
			        "version %lld (%s) has no down file, so it cannot "
			        "be reverted; write %s/NNN_%s.down.sql, or revert "
			        "to a later version only",
			        v, name, c->dir->dir, name);
			return -1;
		}
	}
	return 0;
}

static void checked(struct submit *c, json_t *set);

static void
on_history(void *arg, const PGresult *res, const char *error)
{
	struct submit *c = arg;
	const char *state =
	        res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	struct schema_history_row *rows = NULL;
	size_t n = 0;

	if (res != NULL && !pg_result_ok(res) && state != NULL &&
	    (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0)) {
		/* no history table yet: nothing applied */
	} else if (res == NULL) {
		dbcall_unavailable(c->req, error);
		submit_free(c);
		return;
	} else if (!pg_result_ok(res)) {
		const char *msg =
		        PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		control_error(c->req, VL_ERROR_DATABASE_ERROR,
		              json_pack("{s:s, s:s}", "message",
		                        msg != NULL ? msg : "?", "sqlstate",
		                        state != NULL ? state : ""));
		submit_free(c);
		return;
	} else if (schema_history_rows(res, &rows, &n) < 0) {
		dbcall_unavailable(c->req, "out of memory");
		submit_free(c);
		return;
	}
	checked(c, schema_history_merge(c->set, c->database, c->dir, rows, n,
	                                true));
	free(rows);
}

/* The set's status (taken; NULL when out of memory): refuse at once, or
 * queue the job. */
static void
checked(struct submit *c, json_t *set)
{
	const char *values[4];

	if (set == NULL) {
		dbcall_unavailable(c->req, "out of memory");
		submit_free(c);
		return;
	}
	if (precheck(c, set) < 0) {
		json_decref(set);
		submit_free(c);
		return;
	}
	json_decref(set);
	values[0] = c->plan;
	values[1] = c->database;
	values[2] = c->dry_run ? "t" : "f";
	values[3] = c->args;
	dbcall(c->req, c->d, insert_sql, 4, values, inserted,
	       json_pack("{s:s, s:s, s:s}", "plan", c->plan, "db", c->database,
	                 "op", c->revert ? "revert" : "apply"));
	submit_free(c);
}

static void
on_sqlite_history(void *arg, enum sqlite_worker_status status,
                  const char *error)
{
	struct submit *c = ((struct schema_sqlite_rows *)arg)->owner;
	json_t *rows = c->sq.rows;
	char buf[1024];

	c->sq.rows = NULL;
	if (status != SQLITE_WORKER_OK) {
		json_decref(rows);
		control_error(
		        c->req, VL_ERROR_DATABASE_ERROR,
		        json_pack("{s:s, s:s}", "message",
		                  schema_sqlite_call_error(status, error, buf,
		                                           sizeof(buf)),
		                  "sqlstate", ""));
		submit_free(c);
		return;
	}
	checked(c, schema_history_merge_json(c->set, c->database, c->dir, rows,
	                                     true));
	json_decref(rows);
}

/* The job's args: strings only, as a job's parameters are [string]string. */
static char *
job_args(struct control_req *req, const struct schema_job_args *a,
         const char *op)
{
	uid_t uid = control_peer_uid(req);
	const char *user = nss_cache_name(uid);
	char uid_s[24], to_s[24];
	json_t *args;
	char *text;

	snprintf(uid_s, sizeof(uid_s), "%d", (int)uid);
	snprintf(to_s, sizeof(to_s), "%lld", a->to);
	args = json_pack("{s:s, s:s, s:s, s:s?}", "op", op, "dry_run",
	                 a->dry_run ? "true" : "false", "uid", uid_s,
	                 "username", user);
	if (args != NULL && a->to >= 0)
		json_object_set_new(args, "to", json_string(to_s));
	text = args != NULL ? json_dumps(args, JSON_COMPACT) : NULL;
	json_decref(args);
	return text;
}

static void
queue(struct control_req *req, struct daemon *d,
      const struct schema_job_args *a, const char *op)
{
	const struct config_schema *cs = schema_set_for_call(req, d, a->set);
	struct submit *c;
	struct pg_conn *conn;
	char err[1024];
	const char *values[1];

	if (cs == NULL)
		return; /* req is gone */
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		dbcall_unavailable(req, "out of memory");
		return;
	}
	c->req = req;
	c->d = d;
	c->revert = strcmp(op, "revert") == 0;
	c->dry_run = a->dry_run;
	c->to = a->to;
	snprintf(c->plan, sizeof(c->plan), "schema:%s", cs->name);
	c->set = strdup(cs->name);
	c->database = strdup(cs->database);
	c->args = job_args(req, a, op);
	if (c->set == NULL || c->database == NULL || c->args == NULL) {
		dbcall_unavailable(req, "out of memory");
		submit_free(c);
		return;
	}
	c->dir = schema_dir_scan(cs->dir, d->sums, err, sizeof(err));
	if (c->dir == NULL) {
		conflict(c, 0, "%s", err);
		submit_free(c);
		return;
	}
	if (schema_sqlite_path(&d->cfg, cs->database) != NULL) {
		snprintf(c->sq.set, sizeof(c->sq.set), "%s", c->set);
		c->sq.owner = c;
		if (schema_sqlite_call(
		            d->base, cs->database,
		            schema_sqlite_path(&d->cfg, cs->database),
		            schema_sqlite_rows_work, on_sqlite_history, &c->sq,
		            err, sizeof(err)) == NULL) {
			dbcall_unavailable(req, err);
			submit_free(c);
		}
		return;
	}
	conn = schema_set_conn(req, d, cs);
	if (conn == NULL) {
		submit_free(c);
		return;
	}
	values[0] = c->set;
	if (pg_query(conn, schema_history_rows_sql, 1, values, on_history, c) <
	    0) {
		dbcall_unavailable(req, pg_conn_error(conn));
		submit_free(c);
	}
}

void
schema_jobs_apply(struct control_req *req, struct daemon *d, const void *args)
{
	queue(req, d, args, "apply");
}

void
schema_jobs_revert(struct control_req *req, struct daemon *d, const void *args)
{
	queue(req, d, args, "revert");
}
