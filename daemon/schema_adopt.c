/*
 * SchemaAdopt, the method and its database protocol: one connection to
 * the set's database; the history table made sure of; BEGIN; the set's
 * writers' lock, tried; the tool's table found in the catalog; its rows
 * read (schema_adopt_tools.c says how) and the set's history; the rows
 * matched to the files (schema_adopt_match.c); every version recorded
 * (kind adopted) and COMMIT, or, when a row did not match, the report
 * alone and a rollback.
 */
#include "nss_cache.h"
#include "schema_adopt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "daemon.h"
#include "dbcall.h"
#include "log.h"
#include "pg.h"
#include "schema_adopt_match.h"
#include "schema_adopt_tools.h"
#include "schema_files.h"
#include "schema_history.h"
#include "schema_sqlite_adopt.h"
#include "schema_sqlite_call.h"
#include "vl_names.h"

#define CONNECT_TIMEOUT_SEC 30

#define NAME_MAX_LEN 63

struct adopt_args {
	const char *set;
	const char *from;
	const char *table;
	const char *version_column;
	const char *name_column;
};

static const struct vl_field adopt_fields[] = {
        VL_FIELD_STRING("set", 0, struct adopt_args, set, 1, NAME_MAX_LEN),
        VL_FIELD_STRING("from", VL_REQUIRED, struct adopt_args, from, 1, 64),
        VL_FIELD_STRING("table", 0, struct adopt_args, table, 1,
                        2 * NAME_MAX_LEN + 1),
        VL_FIELD_STRING("version_column", 0, struct adopt_args, version_column,
                        1, NAME_MAX_LEN),
        VL_FIELD_STRING("name_column", 0, struct adopt_args, name_column, 1,
                        NAME_MAX_LEN),
        VL_FIELDS_END,
};
const struct vl_params schema_adopt_params =
        VL_PARAMS(struct adopt_args, adopt_fields);

enum adopt_step {
	STEP_CONNECT,
	STEP_ENSURE,
	STEP_BEGIN,
	STEP_LOCK,
	STEP_RESOLVE,
	STEP_FOREIGN,
	STEP_HISTORY,
	STEP_RECORD,
	STEP_COMMIT,
	STEP_DONE,
};

/* One adopt call, from the connection to the reply. */
struct adopt {
	struct control_req *req;
	struct daemon *d;
	const struct adopt_tool *tool;
	char *set;
	char *database; /* "target" or the [database NAME] */
	char *table;    /* [schema.]table as asked */
	char *version_column, *name_column;
	char *label; /* "Drizzle (drizzle.__drizzle_migrations)" */
	struct schema_dir *dir;
	struct adopt_sha256 *raw; /* sha256 of each file as read */
	struct pg_conn *conn;
	struct event *timer;
	enum adopt_step step;
	PGresult *foreign; /* the tool's rows, kept until the history arrives */
	struct adopt_report report; /* rows, and the versions to record */
	size_t recording;           /* inserts not answered yet */
	bool replied;
	uid_t uid;
	struct adopt *prev, *next; /* in live */
};

/* Every adopt from its start to its free: schema_adopt_stop's list. */
static struct adopt *live;

static void adopt_next(struct adopt *a);

/* ---- teardown ---- */

static void
adopt_free(struct adopt *a)
{
	if (a->prev != NULL)
		a->prev->next = a->next;
	else if (live == a)
		live = a->next;
	if (a->next != NULL)
		a->next->prev = a->prev;
	/* its queries fail as it goes: their callbacks see an ended adopt */
	a->step = STEP_DONE;
	pg_conn_free(a->conn);
	a->conn = NULL;
	if (a->timer != NULL)
		event_free(a->timer);
	PQclear(a->foreign);
	json_decref(a->report.rows);
	json_decref(a->report.insert);
	schema_dir_free(a->dir);
	free(a->raw);
	free(a->set);
	free(a->database);
	free(a->table);
	free(a->version_column);
	free(a->name_column);
	free(a->label);
	free(a);
}

/* Never from inside the connection's own callbacks: on the next loop turn. */
static void
on_free(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	adopt_free(arg);
}

static void
adopt_end(struct adopt *a)
{
	a->step = STEP_DONE;
	if (a->timer != NULL)
		event_del(a->timer);
	if (event_base_once(a->d->base, -1, EV_TIMEOUT, on_free, a, NULL) < 0)
		log_error("adopt: cannot schedule its cleanup; leaking it");
}

/* Replies with error (steals params), rolling back what was begun. */
static void
adopt_fail(struct adopt *a, const char *error, json_t *params)
{
	if (!a->replied) {
		a->replied = true;
		control_error(a->req, error, params);
	} else {
		json_decref(params);
	}
	/* the connection is ours and closed next: an open transaction
	 * rolls back with it */
	adopt_end(a);
}

__attribute__((format(printf, 3, 4))) static void
adopt_conflict(struct adopt *a, long long version, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warning("adopt %s from %s: %s", a->set, a->tool->from, msg);
	adopt_fail(a, VL_ERROR_SCHEMA_CONFLICT,
	           json_pack("{s:s, s:I, s:s}", "set", a->set, "version",
	                     (json_int_t)version, "message", msg));
}

static void
adopt_unavailable(struct adopt *a, const char *why)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), "schema set %s: database %s: %s", a->set,
	         a->database, why != NULL ? why : "not connected");
	adopt_fail(a, VL_ERROR_DATABASE_UNAVAILABLE,
	           json_pack("{s:s}", "message", msg));
}

/* ---- the connection ---- */

static void
on_state(void *arg, enum pg_state state, const char *error)
{
	struct adopt *a = arg;

	if (a->step == STEP_DONE || a->conn == NULL)
		return;
	if (state == PG_READY && a->step == STEP_CONNECT) {
		adopt_next(a);
	} else if (state == PG_DISCONNECTED) {
		/* a query in flight fails with its own callback */
		if (a->step == STEP_CONNECT)
			adopt_unavailable(a, error);
	}
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct adopt *a = arg;

	(void)fd;
	(void)what;
	if (a->step == STEP_CONNECT)
		adopt_unavailable(a, pg_conn_error(a->conn) != NULL
		                             ? pg_conn_error(a->conn)
		                             : "no connection within 30 s");
}

/* The step's result: false (and the reply sent) when it failed. */
static bool
result_ok(struct adopt *a, const PGresult *res, const char *error)
{
	char buf[768];

	if (res == NULL) {
		adopt_unavailable(a, error);
		return false;
	}
	if (pg_result_ok(res))
		return true;
	pg_result_error(res, buf, sizeof(buf));
	if (a->step == STEP_FOREIGN)
		adopt_conflict(a, 0,
		               "%s does not have the layout migrated reads for "
		               "%s: %s",
		               a->label, a->tool->label, buf);
	else
		adopt_fail(a, VL_ERROR_DATABASE_ERROR,
		           json_pack("{s:s, s:s}", "message", buf, "sqlstate",
		                     PQresultErrorField(res, PG_DIAG_SQLSTATE)
		                             ? PQresultErrorField(
		                                       res, PG_DIAG_SQLSTATE)
		                             : ""));
	return false;
}

static void on_result(void *arg, const PGresult *res, const char *error);

static void
query(struct adopt *a, const char *sql, int n, const char *const *values)
{
	if (pg_query(a->conn, sql, n, values, on_result, a) < 0)
		adopt_unavailable(a, pg_conn_error(a->conn));
}

/* ---- SQL text ---- */

/* A quoted identifier, or a quoted schema.table (split at the first dot). */
static char *
quoted_name(struct pg_conn *conn, const char *name)
{
	const char *dot = strchr(name, '.');
	char *schema, *table, *out;

	if (dot == NULL)
		return pg_escape_ident(conn, name);
	schema = strndup(name, (size_t)(dot - name));
	table = pg_escape_ident(conn, dot + 1);
	out = NULL;
	if (schema != NULL && table != NULL) {
		char *qs = pg_escape_ident(conn, schema);
		if (qs != NULL && asprintf(&out, "%s.%s", qs, table) < 0)
			out = NULL;
		free(qs);
	}
	free(schema);
	free(table);
	return out;
}

/* What the matching reads of a (and of the set's history, rec). */
static struct adopt_match_in
match_in(const struct adopt *a, const struct adopt_recorded *rec, size_t nrec)
{
	return (struct adopt_match_in){.tool = a->tool,
	                               .set = a->set,
	                               .label = a->label,
	                               .dir = a->dir,
	                               .raw = a->raw,
	                               .rec = rec,
	                               .nrec = nrec};
}

static void
reply_report(struct adopt *a, int adopted)
{
	struct adopt_match_in in = match_in(a, NULL, 0);
	char *note = schema_adopt_note(&in, &a->report,
	                               (size_t)PQntuples(a->foreign));

	log_info("adopt %s from %s: %d adopted, %d already, %d refused", a->set,
	         a->label, adopted, a->report.already, a->report.blocked);
	a->replied = true;
	control_reply(a->req, json_pack("{s:i, s:O, s:s}", "adopted", adopted,
	                                "rows", a->report.rows, "note",
	                                note != NULL ? note : ""));
	free(note);
}

/* Queues one history row (kind adopted) per version in a->report.insert. */
static void
record_all(struct adopt *a)
{
	const char *user = nss_cache_name(a->uid);
	char uid_s[24], version_s[24];
	const char *values[13];
	size_t i;
	json_t *v;

	snprintf(uid_s, sizeof(uid_s), "%d", (int)a->uid);
	a->step = STEP_RECORD;
	json_array_foreach(a->report.insert, i, v)
	{
		snprintf(version_s, sizeof(version_s), "%lld",
		         (long long)json_integer_value(
		                 json_object_get(v, "version")));
		values[0] = a->set;
		values[1] = version_s;
		values[2] = json_string_value(json_object_get(v, "name"));
		values[3] = json_string_value(json_object_get(v, "checksum"));
		values[4] = "adopted";
		values[5] = a->label;
		values[6] = uid_s;
		values[7] = user;
		values[8] = NULL; /* no job: adopt runs nothing */
		values[9] = NULL; /* started now */
		values[10] = "0";
		values[11] = "succeeded";
		values[12] = NULL;
		if (pg_query(a->conn, schema_history_insert_sql, 13, values,
		             on_result, a) < 0) {
			adopt_unavailable(a, pg_conn_error(a->conn));
			return;
		}
		a->recording++;
	}
}

/* Row i of the tool's rows, as the matching reads it. */
static struct adopt_foreign
foreign_row(const PGresult *res, int i)
{
	return (struct adopt_foreign){
	        .foreign = PQgetvalue(res, i, 0),
	        .version =
	                PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
	        .name = PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2),
	        .hash = PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3),
	        .state = PQgetvalue(res, i, 4),
	        .message =
	                PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5)};
}

/*
 * The set's history arrived (schema_history_status_sql: one JSON array):
 * match every foreign row, then record or report.
 */
static void
match_all(struct adopt *a, const PGresult *hist)
{
	json_t *list = dbcall_json_cell(hist, 0, 0);
	size_t nrec = json_array_size(list);
	struct adopt_recorded *rec = calloc(nrec + 1, sizeof(*rec));
	size_t nforeign = (size_t)PQntuples(a->foreign);
	struct adopt_foreign *rows = calloc(nforeign + 1, sizeof(*rows));
	struct adopt_match_in in = match_in(a, rec, nrec);
	size_t i;
	json_t *r;

	if (rec == NULL || rows == NULL) {
		free(rec);
		free(rows);
		json_decref(list);
		adopt_unavailable(a, "out of memory");
		return;
	}
	json_array_foreach(list, i, r)
	{
		rec[i].version = (long long)json_integer_value(
		        json_object_get(r, "version"));
		rec[i].kind = json_string_value(json_object_get(r, "kind"));
		rec[i].checksum =
		        json_string_value(json_object_get(r, "checksum"));
		rec[i].failed = json_is_true(json_object_get(r, "failed"));
	}
	for (int k = 0; k < (int)nforeign; k++)
		rows[k] = foreign_row(a->foreign, k);
	schema_adopt_match(&in, rows, nforeign, &a->report);
	free(rows);
	free(rec);
	json_decref(list);
	if (a->report.blocked > 0 || json_array_size(a->report.insert) == 0) {
		/* nothing to write: the transaction rolls back as we close */
		reply_report(a, 0);
		adopt_end(a);
		return;
	}
	record_all(a);
}

/* ---- the steps, in order ---- */

static void
on_result(void *arg, const PGresult *res, const char *error)
{
	struct adopt *a = arg;

	if (a->step == STEP_DONE)
		return;
	if (!result_ok(a, res, error))
		return;
	switch (a->step) {
	case STEP_LOCK:
		if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
			adopt_conflict(
			        a, 0,
			        "the history of set %s is being written "
			        "(an apply, revert, baseline or adopt, on "
			        "this or another daemon): adopt again when "
			        "it has ended",
			        a->set);
			return;
		}
		break;
	case STEP_RESOLVE:
		if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
			adopt_conflict(
			        a, 0,
			        "database %s has no table %s: is %s's "
			        "history elsewhere? name it with --table "
			        "SCHEMA.TABLE",
			        a->database, a->table, a->tool->label);
			return;
		} else {
			char *sql = schema_adopt_tool_sql(
			        a->tool, a->conn, PQgetvalue(res, 0, 0),
			        PQgetvalue(res, 0, 1), a->version_column,
			        a->name_column);
			free(a->label);
			a->label = NULL;
			if (asprintf(&a->label, "%s (%s.%s)", a->tool->label,
			             PQgetvalue(res, 0, 0),
			             PQgetvalue(res, 0, 1)) < 0 ||
			    sql == NULL) {
				free(sql);
				a->label = NULL;
				adopt_unavailable(a, "out of memory");
				return;
			}
			a->step = STEP_FOREIGN;
			query(a, sql, 0, NULL);
			free(sql);
			return;
		}
	case STEP_FOREIGN:
		a->foreign =
		        PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
		if (a->foreign == NULL) {
			adopt_unavailable(a, "out of memory");
			return;
		}
		break;
	case STEP_HISTORY:
		match_all(a, res);
		return;
	case STEP_RECORD:
		if (--a->recording > 0)
			return;
		break;
	case STEP_COMMIT:
		reply_report(a, (int)json_array_size(a->report.insert));
		adopt_end(a);
		return;
	default:
		break;
	}
	adopt_next(a);
}

static void
adopt_next(struct adopt *a)
{
	const char *values[1];
	char *q;

	switch (a->step) {
	case STEP_CONNECT:
		a->step = STEP_ENSURE;
		if (schema_history_ensure(a->conn, on_result, a) < 0)
			adopt_unavailable(a, pg_conn_error(a->conn));
		break;
	case STEP_ENSURE:
		a->step = STEP_BEGIN;
		query(a, "BEGIN", 0, NULL);
		break;
	case STEP_BEGIN:
		/* the lock of the set's writers (apply, baseline, another
		 * adopt, on any daemon); adopt does not queue behind a long
		 * apply but says so */
		values[0] = a->set;
		a->step = STEP_LOCK;
		query(a,
		      "SELECT pg_try_advisory_xact_lock(" SCHEMA_HISTORY_LOCK_KEY
		      ")",
		      1, values);
		break;
	case STEP_LOCK:
		q = quoted_name(a->conn, a->table);
		if (q == NULL) {
			adopt_unavailable(a, "out of memory");
			return;
		}
		values[0] = q;
		a->step = STEP_RESOLVE;
		query(a,
		      "SELECT n.nspname, c.relname FROM pg_class c JOIN"
		      " pg_namespace n ON n.oid = c.relnamespace"
		      " WHERE c.oid = to_regclass($1)",
		      1, values);
		free(q);
		break;
	case STEP_FOREIGN:
		values[0] = a->set;
		a->step = STEP_HISTORY;
		query(a, schema_history_status_sql, 1, values);
		break;
	case STEP_RECORD:
		a->step = STEP_COMMIT;
		query(a, "COMMIT", 0, NULL);
		break;
	default:
		break;
	}
}

/* ---- the method ---- */

static void
invalid_value(struct control_req *req, const char *param, const char *msg)
{
	control_error(
	        req, VL_ERROR_INVALID_PARAMETER_VALUE,
	        json_pack("{s:s, s:s}", "parameter", param, "message", msg));
}

/* ---- a set on a SQLite file: the whole adopt on the worker ---- */

struct adopt_sqlite {
	struct control_req *req;
	struct schema_sqlite_adopt_in in;
	char *set, *from, *table, *version_column, *name_column, *username;
	char uid[24];
	struct schema_dir *dir;
	json_t *reply;
	bool conflict;
	char err[1024];
};

static void
adopt_sqlite_free(struct adopt_sqlite *a)
{
	free(a->set);
	free(a->from);
	free(a->table);
	free(a->version_column);
	free(a->name_column);
	free(a->username);
	schema_dir_free(a->dir);
	json_decref(a->reply);
	free(a);
}

static int
adopt_sqlite_work(sqlite3 *db, void *arg, char *err, size_t errlen)
{
	struct adopt_sqlite *a = arg;

	a->reply = schema_sqlite_adopt(db, &a->in, &a->conflict, a->err,
	                               sizeof(a->err));
	if (a->reply == NULL)
		snprintf(err, errlen, "%s", a->err);
	return a->reply != NULL ? SQLITE_OK : SQLITE_ERROR;
}

static void
on_adopt_sqlite(void *arg, enum sqlite_worker_status status, const char *error)
{
	struct adopt_sqlite *a = arg;
	char buf[1024];

	if (status == SQLITE_WORKER_OK) {
		log_info("adopt %s from %s: %lld adopted", a->set, a->from,
		         (long long)json_integer_value(
		                 json_object_get(a->reply, "adopted")));
		control_reply(a->req, json_incref(a->reply));
	} else if (a->conflict || status == SQLITE_WORKER_BUSY) {
		control_error(
		        a->req, VL_ERROR_SCHEMA_CONFLICT,
		        json_pack("{s:s, s:i, s:s}", "set", a->set, "version",
		                  0, "message",
		                  schema_sqlite_call_error(status, error, buf,
		                                           sizeof(buf))));
	} else {
		control_error(a->req, VL_ERROR_DATABASE_ERROR,
		              json_pack("{s:s, s:s}", "message",
		                        error != NULL ? error : "?", "sqlstate",
		                        ""));
	}
	adopt_sqlite_free(a);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
adopt_sqlite_start(struct control_req *req, struct daemon *d,
                   const struct config_schema *set, const struct adopt_args *p,
                   const char *path)
{
	struct adopt_sqlite *a = calloc(1, sizeof(*a));
	const char *user = nss_cache_name(control_peer_uid(req));
	char err[1024];

	if (!schema_sqlite_adopt_known(p->from, NULL)) {
		invalid_value(req, "from",
		              "on a SQLite file adopt reads drizzle, knex, "
		              "typeorm, kysely, goose, dbmate, golang-migrate, "
		              "prisma or table");
		free(a);
		return;
	}
	if (a == NULL) {
		dbcall_unavailable(req, "out of memory");
		return;
	}
	a->req = req;
	a->set = strdup(set->name);
	a->from = strdup(p->from);
	a->table = dup_or_null(p->table);
	a->version_column = dup_or_null(p->version_column);
	a->name_column = dup_or_null(p->name_column);
	a->username = dup_or_null(user);
	snprintf(a->uid, sizeof(a->uid), "%d", (int)control_peer_uid(req));
	a->dir = schema_dir_load(set->dir, err, sizeof(err));
	if (a->dir == NULL) {
		control_error(req, VL_ERROR_SCHEMA_CONFLICT,
		              json_pack("{s:s, s:i, s:s}", "set", set->name,
		                        "version", 0, "message", err));
		adopt_sqlite_free(a);
		return;
	}
	a->in = (struct schema_sqlite_adopt_in){
	        .set = a->set,
	        .from = a->from,
	        .table = a->table,
	        .version_column = a->version_column,
	        .name_column = a->name_column,
	        .dir = a->dir,
	        .uid = a->uid,
	        .username = a->username,
	};
	if (a->set == NULL || a->from == NULL ||
	    schema_sqlite_call(d->base, set->database, path, adopt_sqlite_work,
	                       on_adopt_sqlite, a, err, sizeof(err)) == NULL) {
		dbcall_unavailable(req, a->set == NULL ? "out of memory" : err);
		adopt_sqlite_free(a);
	}
}

void
schema_adopt(struct control_req *req, struct daemon *d, const void *args)
{
	const struct adopt_args *p = args;
	const struct adopt_tool *tool = schema_adopt_tool(p->from);
	const struct config_schema *set = NULL;
	const char *conninfo;
	char err[1024];
	struct adopt *a;
	struct timeval tv = {CONNECT_TIMEOUT_SEC, 0};

	if (tool == NULL) {
		invalid_value(req, "from",
		              "unknown tool: one of flyway, liquibase, sqitch, "
		              "drizzle, kysely, typeorm, knex, golang-migrate, "
		              "goose, dbmate, rails, prisma, alembic or table");
		return;
	}
	if (tool->table == NULL &&
	    (p->table == NULL || p->version_column == NULL)) {
		invalid_value(req,
		              p->table == NULL ? "table" : "version_column",
		              "--from table needs the table and its version "
		              "column (and, optionally, its name column)");
		return;
	}
	if (tool->table != NULL &&
	    (p->version_column != NULL || p->name_column != NULL)) {
		invalid_value(req,
		              p->version_column != NULL ? "version_column"
		                                        : "name_column",
		              "only --from table takes columns; other tools' "
		              "layouts are known");
		return;
	}
	if (p->set != NULL)
		set = config_schema(&d->cfg, p->set);
	else if (d->cfg.nschemas == 1)
		set = &d->cfg.schemas[0];
	if (set == NULL) {
		control_error(req, VL_ERROR_NO_SUCH_SCHEMA_SET,
		              json_pack("{s:s}", "name",
		                        p->set != NULL ? p->set : ""));
		return;
	}
	if (strcmp(set->database, "target") == 0) {
		conninfo = d->cfg.target_conninfo;
	} else {
		const struct config_database *db =
		        config_database(&d->cfg, set->database);
		conninfo = db != NULL ? db->conninfo : NULL;
		if (db != NULL && db->sqlite != NULL) {
			adopt_sqlite_start(req, d, set, p, db->sqlite);
			return;
		}
		if (conninfo == NULL) {
			snprintf(
			        err, sizeof(err),
			        "schema set %s: database %s is not a PostgreSQL "
			        "[database]: adopt reads PostgreSQL histories",
			        set->name, set->database);
			dbcall_unavailable(req, err);
			return;
		}
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		dbcall_unavailable(req, "out of memory");
		return;
	}
	a->next = live;
	if (live != NULL)
		live->prev = a;
	live = a;
	a->req = req;
	a->d = d;
	a->tool = tool;
	a->uid = control_peer_uid(req);
	a->set = strdup(set->name);
	a->database = strdup(set->database);
	a->table = strdup(p->table != NULL ? p->table : tool->table);
	a->version_column =
	        p->version_column != NULL ? strdup(p->version_column) : NULL;
	a->name_column = p->name_column != NULL ? strdup(p->name_column) : NULL;
	a->report.rows = json_array();
	a->report.insert = json_array();
	if (a->set == NULL || a->database == NULL || a->table == NULL ||
	    a->report.rows == NULL || a->report.insert == NULL ||
	    asprintf(&a->label, "%s (%s)", tool->label, a->table) < 0) {
		a->label = NULL;
		adopt_free(a);
		dbcall_unavailable(req, "out of memory");
		return;
	}
	a->dir = schema_dir_load(set->dir, err, sizeof(err));
	if (a->dir == NULL) {
		control_error(req, VL_ERROR_SCHEMA_CONFLICT,
		              json_pack("{s:s, s:i, s:s}", "set", a->set,
		                        "version", 0, "message", err));
		adopt_free(a);
		return;
	}
	a->raw = schema_adopt_raw_checksums(a->dir);
	if (a->raw == NULL) {
		adopt_free(a);
		dbcall_unavailable(req, "cannot compute sha256");
		return;
	}
	a->timer = evtimer_new(d->base, on_timeout, a);
	a->conn = pg_conn_new(d->base, conninfo, "migrated adopt", on_state, a);
	if (a->timer == NULL || a->conn == NULL) {
		adopt_free(a);
		dbcall_unavailable(req, "out of memory");
		return;
	}
	evtimer_add(a->timer, &tv);
	if (pg_conn_state(a->conn) == PG_READY)
		adopt_next(a);
	else if (pg_conn_state(a->conn) == PG_DISCONNECTED)
		adopt_unavailable(a, pg_conn_error(a->conn));
}

void
schema_adopt_stop(void)
{
	while (live != NULL) {
		struct adopt *a = live;

		if (!a->replied) {
			a->replied = true;
			dbcall_unavailable(a->req, "the daemon is stopping");
		}
		adopt_free(a);
	}
}
