#include "schema_methods.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nss_cache.h"
#include "daemon.h"
#include "databases.h"
#include "dbcall.h"
#include "log.h"
#include "schema_files.h"
#include "schema_history.h"
#include "schema_sqlite_call.h"
#include "schema_sqlite_history.h"
#include "store.h"
#include "vl_names.h"

const struct config_schema *
schema_set_for_call(struct control_req *req, struct daemon *d, const char *name)
{
	const struct config_schema *set = NULL;

	if (name != NULL)
		set = config_schema(&d->cfg, name);
	else if (d->cfg.nschemas == 1)
		set = &d->cfg.schemas[0];
	if (set == NULL)
		control_error(
		        req, VL_ERROR_NO_SUCH_SCHEMA_SET,
		        json_pack("{s:s}", "name", name != NULL ? name : ""));
	return set;
}

struct pg_conn *
schema_set_conn(struct control_req *req, struct daemon *d,
                const struct config_schema *set)
{
	struct pg_conn *conn;
	char why[512];

	if (strcmp(set->database, "target") == 0) {
		if (store_ready(d->store))
			return store_conn(d->store);
		snprintf(why, sizeof(why), "target: %s",
		         store_error(d->store) != NULL ? store_error(d->store)
		                                       : "not connected");
		dbcall_unavailable(req, why);
		return NULL;
	}
	conn = databases_pg(d->dbs, set->database);
	if (conn != NULL && pg_conn_state(conn) == PG_READY)
		return conn;
	snprintf(why, sizeof(why), "database %s: %s", set->database,
	         conn == NULL                  ? "not a PostgreSQL [database]"
	         : pg_conn_error(conn) != NULL ? pg_conn_error(conn)
	                                       : "not connected");
	dbcall_unavailable(req, why);
	return NULL;
}

/*
 * The set's files, checksums only (those of unchanged files kept from an
 * earlier read); NULL after replying SchemaConflict with why.
 */
static struct schema_dir *
load_dir(struct control_req *req, struct daemon *d,
         const struct config_schema *set)
{
	char err[1024];
	struct schema_dir *dir =
	        schema_dir_scan(set->dir, d->sums, err, sizeof(err));

	if (dir == NULL)
		control_error(req, VL_ERROR_SCHEMA_CONFLICT,
		              json_pack("{s:s, s:i, s:s}", "set", set->name,
		                        "version", 0, "message", err));
	return dir;
}

/* DatabaseError with the server's message and SQLSTATE. */
static void
reply_sql_error(struct control_req *req, const char *set, const char *msg,
                const char *state)
{
	log_warning("schema %s: %s: %s", set, control_call(req)->method,
	            msg != NULL ? msg : "?");
	control_error(req, VL_ERROR_DATABASE_ERROR,
	              json_pack("{s:s, s:s}", "message",
	                        msg != NULL ? msg : "?", "sqlstate",
	                        state != NULL ? state : ""));
}

static void
reply_db_error(struct control_req *req, const char *set, const PGresult *res,
               const char *error)
{
	if (res == NULL) {
		dbcall_unavailable(req, error);
		return;
	}
	reply_sql_error(req, set,
	                PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
	                PQresultErrorField(res, PG_DIAG_SQLSTATE));
}

/* --- SchemaStatus ---------------------------------------------------------- */

struct status_args {
	const char *set;
	bool all;
};

static const struct vl_field status_fields[] = {
        VL_FIELD_STRING("set", 0, struct status_args, set, 1,
                        CONFIG_DATABASE_NAME_MAX),
        VL_FIELD_BOOL("all", 0, struct status_args, all),
        VL_FIELDS_END,
};
const struct vl_params schema_status_params =
        VL_PARAMS(struct status_args, status_fields);

/*
 * One status call: the sets are read one after the other. The sets'
 * names are copied, as a reload may replace the configuration meanwhile.
 */
struct status_call {
	struct control_req *req;
	struct daemon *d;
	char **names;
	size_t n, next;
	bool all;               /* every file, not only those not applied */
	struct schema_dir *dir; /* of names[next - 1] */
	char *database;
	json_t *sets;
	struct schema_sqlite_rows sq; /* a set on a SQLite file */
};

static void
status_free(struct status_call *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
	schema_dir_free(c->dir);
	free(c->database);
	json_decref(c->sets);
	free(c);
}

static void status_next(struct status_call *c);
static void status_add(struct status_call *c, json_t *set);

static void
on_status_rows(void *arg, const PGresult *res, const char *error)
{
	struct status_call *c = arg;
	const char *name = c->names[c->next - 1];
	const char *state =
	        res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	struct schema_history_row *rows = NULL;
	size_t n = 0;

	if (res != NULL && !pg_result_ok(res) && state != NULL &&
	    (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0)) {
		/* no history table yet: nothing applied */
	} else if (res == NULL || !pg_result_ok(res)) {
		reply_db_error(c->req, name, res, error);
		status_free(c);
		return;
	} else if (schema_history_rows(res, &rows, &n) < 0) {
		dbcall_unavailable(c->req, "out of memory");
		status_free(c);
		return;
	}
	status_add(c, schema_history_merge(name, c->database, c->dir, rows, n,
	                                   c->all));
	free(rows);
}

/* The set's status (taken; NULL when out of memory). */
static void
status_add(struct status_call *c, json_t *set)
{
	if (set == NULL || json_array_append_new(c->sets, set) < 0) {
		dbcall_unavailable(c->req, "out of memory");
		status_free(c);
		return;
	}
	status_next(c);
}

static void
on_status_sqlite(void *arg, enum sqlite_worker_status status, const char *error)
{
	struct status_call *c = ((struct schema_sqlite_rows *)arg)->owner;
	json_t *rows = c->sq.rows;
	char buf[1024];

	c->sq.rows = NULL;
	if (status != SQLITE_WORKER_OK) {
		json_decref(rows);
		reply_sql_error(c->req, c->names[c->next - 1],
		                schema_sqlite_call_error(status, error, buf,
		                                         sizeof(buf)),
		                "");
		status_free(c);
		return;
	}
	status_add(c,
	           schema_history_merge_json(c->names[c->next - 1], c->database,
	                                     c->dir, rows, c->all));
	json_decref(rows);
}

static void
status_next(struct status_call *c)
{
	const struct config_schema *set;
	struct pg_conn *conn;
	const char *values[1], *path;

	schema_dir_free(c->dir);
	c->dir = NULL;
	free(c->database);
	c->database = NULL;
	if (c->next == c->n) {
		control_reply(c->req, json_pack("{s:O}", "sets", c->sets));
		status_free(c);
		return;
	}
	set = config_schema(&c->d->cfg, c->names[c->next++]);
	if (set == NULL) { /* removed by a reload meanwhile */
		control_error(
		        c->req, VL_ERROR_NO_SUCH_SCHEMA_SET,
		        json_pack("{s:s}", "name", c->names[c->next - 1]));
		status_free(c);
		return;
	}
	c->database = strdup(set->database);
	c->dir = load_dir(c->req, c->d, set);
	if (c->database == NULL || c->dir == NULL) {
		if (c->dir != NULL)
			dbcall_unavailable(c->req, "out of memory");
		status_free(c);
		return;
	}
	path = schema_sqlite_path(&c->d->cfg, set->database);
	if (path != NULL) {
		char err[1024];
		snprintf(c->sq.set, sizeof(c->sq.set), "%s", set->name);
		c->sq.owner = c;
		if (schema_sqlite_call(c->d->base, set->database, path,
		                       schema_sqlite_rows_work,
		                       on_status_sqlite, &c->sq, err,
		                       sizeof(err)) == NULL) {
			dbcall_unavailable(c->req, err);
			status_free(c);
		}
		return;
	}
	conn = schema_set_conn(c->req, c->d, set);
	if (conn == NULL) {
		status_free(c);
		return;
	}
	values[0] = set->name;
	if (pg_query(conn, schema_history_rows_sql, 1, values, on_status_rows,
	             c) < 0) {
		dbcall_unavailable(c->req, pg_conn_error(conn));
		status_free(c);
	}
}

void
schema_status(struct control_req *req, struct daemon *d, const void *args)
{
	const struct status_args *a = args;
	struct status_call *c = calloc(1, sizeof(*c));
	size_t n = d->cfg.nschemas;

	if (c == NULL) {
		dbcall_unavailable(req, "out of memory");
		return;
	}
	c->req = req;
	c->d = d;
	c->all = a->all;
	c->sets = json_array();
	if (a->set != NULL) {
		if (config_schema(&d->cfg, a->set) == NULL) {
			control_error(req, VL_ERROR_NO_SUCH_SCHEMA_SET,
			              json_pack("{s:s}", "name", a->set));
			status_free(c);
			return;
		}
		n = 1;
	}
	c->names = calloc(n > 0 ? n : 1, sizeof(*c->names));
	if (c->names == NULL || c->sets == NULL) {
		dbcall_unavailable(req, "out of memory");
		status_free(c);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		c->names[i] = strdup(a->set != NULL ? a->set
		                                    : d->cfg.schemas[i].name);
		if (c->names[i] == NULL) {
			dbcall_unavailable(req, "out of memory");
			status_free(c);
			return;
		}
		c->n++;
	}
	status_next(c);
}

/* --- recording: one transaction under the set's lock ----------------------- */

/*
 * The history table made sure of, then BEGIN, the set's lock tried, one
 * statement, COMMIT: queued together, so that no other query on the
 * connection falls inside the transaction. Should a statement fail, the
 * COMMIT after it rolls back.
 *
 * The lock is tried, never waited for: an apply or revert holds it for
 * its whole run, and a baseline or repair waiting behind it would hold
 * the store's shared connection (or the set's monitor connection) for as
 * long. Without the lock the DO block fails with SQLSTATE 55P03 and a
 * message naming the sessions that hold it (by application_name, which
 * says which job), and the transaction rolls back.
 */
#define RECORD_STEPS 6
#define RECORD_STATEMENT 4 /* the step whose result counts */
#define BUSY_STATE "55P03"

/* The set's name for the DO block below, local to the transaction. */
static const char record_set_sql[] =
        "SELECT set_config('migrated.history_set', $1, true)";

static const char record_trylock_sql[] =
        "DO $migrated$DECLARE"
        " s text := current_setting('migrated.history_set');"
        " who text;"
        " BEGIN"
        " IF pg_try_advisory_xact_lock(hashtext('migrated.schema_history'),"
        "  hashtext(s)) THEN RETURN; END IF;"
        " SELECT string_agg(coalesce(nullif(a.application_name, ''),"
        "   'a session') || ' (backend ' || a.pid || ')', ', ')"
        "  INTO who FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
        "  WHERE l.locktype = 'advisory' AND l.granted"
        "   AND l.database = (SELECT oid FROM pg_database"
        "    WHERE datname = current_database())"
        "   AND l.classid = hashtext('migrated.schema_history')::oid"
        "   AND l.objid = hashtext(s)::oid AND l.objsubid = 2;"
        " RAISE EXCEPTION USING ERRCODE = '" BUSY_STATE "',"
        "  MESSAGE = format('the history of schema set %s is being written"
        " by %s; try again when it has ended', s,"
        "  coalesce(who, 'another session'));"
        " END$migrated$";
struct record_call {
	struct control_req *req;
	char *set;
	long long version;
	bool repair, accept;
	int done;         /* results seen, of RECORD_STEPS */
	bool failed;      /* a statement failed: */
	char *fail_msg;   /* its message */
	char *fail_state; /* and SQLSTATE */
	char *error;      /* or why the connection failed */
	json_t *result;   /* the statement's two cells */
	char checksum[SCHEMA_CHECKSUM_LEN + 1];
	/* on a SQLite file: what the worker reads, result as above */
	struct schema_dir *dir;
	char uid[24];
	char *username, *name;
	const char *kind;
};

static void
record_free(struct record_call *c)
{
	free(c->set);
	free(c->error);
	free(c->fail_msg);
	free(c->fail_state);
	json_decref(c->result);
	schema_dir_free(c->dir);
	free(c->username);
	free(c->name);
	free(c);
}

static void record_finish(struct record_call *c);

static void
on_record_step(void *arg, const PGresult *res, const char *error)
{
	struct record_call *c = arg;
	int step = c->done++;

	if (!c->failed && c->error == NULL) {
		if (res == NULL) {
			c->error =
			        strdup(error != NULL ? error : "not connected");
		} else if (!pg_result_ok(res)) {
			const char *m = PQresultErrorField(
			        res, PG_DIAG_MESSAGE_PRIMARY);
			const char *st =
			        PQresultErrorField(res, PG_DIAG_SQLSTATE);
			c->failed = true;
			c->fail_msg = m != NULL ? strdup(m) : NULL;
			c->fail_state = st != NULL ? strdup(st) : NULL;
		} else if (step == RECORD_STATEMENT)
			c->result =
			        json_pack("[o, o]", dbcall_json_cell(res, 0, 0),
			                  dbcall_json_cell(res, 0, 1));
	}
	if (c->done == RECORD_STEPS)
		record_finish(c);
}

static int
record(struct record_call *c, struct pg_conn *conn, const char *sql, int n,
       const char *const *values)
{
	const char *lock[1] = {c->set};

	if (schema_history_ensure(conn, on_record_step, c) < 0)
		return -1;
	/* queued after it, these fail only when the connection did */
	if (pg_query(conn, "BEGIN", 0, NULL, on_record_step, c) < 0 ||
	    pg_query(conn, record_set_sql, 1, lock, on_record_step, c) < 0 ||
	    pg_query(conn, record_trylock_sql, 0, NULL, on_record_step, c) <
	            0 ||
	    pg_query(conn, sql, n, values, on_record_step, c) < 0 ||
	    pg_query(conn, "COMMIT", 0, NULL, on_record_step, c) < 0)
		log_warning("schema %s: connection lost while queueing",
		            c->set);
	return 0;
}

static void
conflict(struct control_req *req, const char *set, long long version,
         const char *msg)
{
	control_error(req, VL_ERROR_SCHEMA_CONFLICT,
	              json_pack("{s:s, s:I, s:s}", "set", set, "version",
	                        (json_int_t)version, "message", msg));
}

static void
baseline_finish(struct record_call *c)
{
	json_t *clash = json_array_get(c->result, 0);
	json_t *recorded = json_array_get(c->result, 1);
	char msg[512];

	if (json_is_object(clash)) {
		long long v = (long long)json_integer_value(
		        json_object_get(clash, "version"));
		const char *kind =
		        json_string_value(json_object_get(clash, "kind"));

		if (kind != NULL && strcmp(kind, "baseline") == 0)
			snprintf(
			        msg, sizeof(msg),
			        "version %lld was baselined with another "
			        "checksum; its file changed since (schema repair "
			        "%lld accept records the file as it is)",
			        v, v);
		else
			snprintf(
			        msg, sizeof(msg),
			        "version %lld is already recorded (kind %s); a "
			        "baseline only records versions not applied yet",
			        v, kind != NULL ? kind : "?");
		conflict(c->req, c->set, v, msg);
		return;
	}
	log_notice("schema %s: baseline up to %lld recorded %zu version(s)",
	           c->set, c->version, json_array_size(recorded));
	control_reply(
	        c->req,
	        json_pack("{s:O}", "recorded",
	                  json_is_array(recorded) ? recorded : json_array()));
}

static void
repair_finish(struct record_call *c)
{
	const char *kind = json_string_value(json_array_get(c->result, 0));
	json_int_t inserted = json_integer_value(json_array_get(c->result, 1));
	char msg[512];

	if (inserted > 0) {
		log_notice("schema %s: version %lld %s", c->set, c->version,
		           c->accept ? "accepted as edited" : "forgotten");
		control_reply(c->req, NULL);
		return;
	}
	if (!schema_history_kind_applied(kind))
		snprintf(msg, sizeof(msg),
		         "version %lld is not applied; there is nothing to "
		         "repair",
		         c->version);
	else
		snprintf(
		        msg, sizeof(msg),
		        "version %lld is not edited: the file's checksum is the "
		        "one recorded",
		        c->version);
	conflict(c->req, c->set, c->version, msg);
}

static void
record_finish(struct record_call *c)
{
	if (c->error != NULL)
		dbcall_unavailable(c->req, c->error);
	else if (c->failed && c->fail_state != NULL &&
	         strcmp(c->fail_state, BUSY_STATE) == 0)
		conflict(c->req, c->set, c->version,
		         c->fail_msg != NULL ? c->fail_msg : "busy");
	else if (c->failed)
		reply_sql_error(c->req, c->set, c->fail_msg, c->fail_state);
	else if (c->repair)
		repair_finish(c);
	else
		baseline_finish(c);
	record_free(c);
}

/* ---- recording on a SQLite file: the same decisions, on the worker ---- */

static int
record_sqlite_work(sqlite3 *db, void *arg, char *err, size_t errlen)
{
	struct record_call *c = arg;
	json_t *r;

	if (c->repair) {
		r = schema_sqlite_repair(db, c->set, c->version, c->name,
		                         c->accept ? c->checksum : NULL,
		                         c->kind, c->uid, c->username, err,
		                         errlen);
		c->result = r != NULL
		                    ? json_pack("[O, O]",
		                                json_object_get(r, "kind"),
		                                json_object_get(r, "inserted"))
		                    : NULL;
	} else {
		r = schema_sqlite_baseline(db, c->set, c->dir, c->version,
		                           c->uid, c->username, err, errlen);
		c->result = r != NULL
		                    ? json_pack("[O, O]",
		                                json_object_get(r, "clash"),
		                                json_object_get(r, "recorded"))
		                    : NULL;
	}
	json_decref(r);
	return c->result != NULL ? SQLITE_OK : SQLITE_ERROR;
}

static void
on_record_sqlite(void *arg, enum sqlite_worker_status status, const char *error)
{
	struct record_call *c = arg;
	char buf[1024];

	if (status != SQLITE_WORKER_OK) {
		c->failed = true;
		c->fail_msg = strdup(schema_sqlite_call_error(
		        status, error, buf, sizeof(buf)));
	}
	record_finish(c);
}

/* Runs c on the SQLite file path; replies itself on failure. */
static void
record_sqlite(struct record_call *c, struct daemon *d, const char *database,
              const char *path)
{
	char err[1024];

	if (schema_sqlite_call(d->base, database, path, record_sqlite_work,
	                       on_record_sqlite, c, err, sizeof(err)) == NULL) {
		dbcall_unavailable(c->req, err);
		record_free(c);
	}
}

/* The caller, as the history records them. */
static void
caller(struct control_req *req, char *uid, size_t len, const char **username)
{
	snprintf(uid, len, "%d", (int)control_peer_uid(req));
	*username = nss_cache_name(control_peer_uid(req));
}

static struct record_call *
record_new(struct control_req *req, const char *set, long long version)
{
	struct record_call *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->set = strdup(set)) == NULL) {
		free(c);
		dbcall_unavailable(req, "out of memory");
		return NULL;
	}
	c->req = req;
	c->version = version;
	return c;
}

/* --- SchemaBaseline -------------------------------------------------------- */

struct baseline_args {
	const char *set;
	long long version;
};

static const struct vl_field baseline_fields[] = {
        VL_FIELD_STRING("set", 0, struct baseline_args, set, 1,
                        CONFIG_DATABASE_NAME_MAX),
        VL_FIELD_INT("version", VL_REQUIRED, struct baseline_args, version, 0,
                     INT64_MAX, 0),
        VL_FIELDS_END,
};
const struct vl_params schema_baseline_params =
        VL_PARAMS(struct baseline_args, baseline_fields);

/*
 * $1 set, $2 versions, $3 names, $4 checksums (arrays, by version), $5
 * uid, $6 username. Records each version not recorded yet, unless one is
 * recorded otherwise than as this baseline: then nothing, and the first
 * such one.
 */
static const char baseline_sql[] =
        "WITH want AS ("
        " SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[])"
        "  AS w(version, name, checksum)),"
        " ok AS ("
        " SELECT DISTINCT ON (version) version, checksum, kind"
        " FROM migrated.schema_history"
        " WHERE set_name = $1 AND outcome = 'succeeded'"
        "  AND version = ANY ($2::bigint[])"
        " ORDER BY version, id DESC),"
        " cur AS ("
        " SELECT w.version, w.checksum AS want, o.checksum AS have, o.kind"
        " FROM want w JOIN ok o USING (version)"
        " WHERE o.kind IN ('applied', 'baseline', 'adopted', 'repaired')),"
        " clash AS ("
        " SELECT * FROM cur"
        " WHERE kind <> 'baseline' OR have IS DISTINCT FROM want"
        " ORDER BY version LIMIT 1),"
        " ins AS ("
        " INSERT INTO migrated.schema_history (set_name, version, name,"
        "  checksum, kind, uid, username, finished, duration_ms, outcome)"
        " SELECT $1, w.version, w.name, w.checksum, 'baseline', $5, $6,"
        "  now(), 0, 'succeeded'"
        " FROM want w"
        " WHERE NOT EXISTS (SELECT 1 FROM clash)"
        "  AND NOT EXISTS (SELECT 1 FROM cur c WHERE c.version = w.version)"
        " RETURNING version)"
        " SELECT (SELECT json_build_object('version', version, 'kind', kind)"
        "  FROM clash),"
        " (SELECT coalesce(json_agg(version ORDER BY version), '[]')"
        "  FROM ins)";

/* A PostgreSQL array literal of the files' member up to version. */
static char *
array_of(const struct schema_dir *dir, long long upto, int what)
{
	size_t cap = 64, len = 0;
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	s[len++] = '{';
	for (size_t i = 0; i < dir->n && dir->files[i].version <= upto; i++) {
		const struct schema_file *f = &dir->files[i];
		char num[24];
		const char *item = what == 0   ? num
		                   : what == 1 ? f->name
		                               : f->checksum;
		size_t need;

		snprintf(num, sizeof(num), "%lld", f->version);
		need = strlen(item) + 4;
		if (len + need >= cap) {
			char *more;
			cap = (cap + need) * 2;
			more = realloc(s, cap);
			if (more == NULL) {
				free(s);
				return NULL;
			}
			s = more;
		}
		/* names and checksums are [A-Za-z0-9_-]: no quoting needed */
		len += (size_t)snprintf(s + len, cap - len, "%s%s",
		                        i > 0 ? "," : "", item);
	}
	s[len++] = '}';
	s[len] = '\0';
	return s;
}

void
schema_baseline(struct control_req *req, struct daemon *d, const void *args)
{
	const struct baseline_args *a = args;
	const struct config_schema *set = schema_set_for_call(req, d, a->set);
	struct schema_dir *dir;
	struct pg_conn *conn;
	struct record_call *c;
	char uid[24], *arrays[3] = {NULL, NULL, NULL};
	const char *values[6], *username;

	if (set == NULL || (dir = load_dir(req, d, set)) == NULL)
		return;
	if (dir->n == 0 || dir->files[0].version > a->version) {
		char msg[256];
		snprintf(msg, sizeof(msg),
		         "no file of set %s has a version up to %lld",
		         set->name, a->version);
		control_error(req, VL_ERROR_INVALID_PARAMETER_VALUE,
		              json_pack("{s:s, s:s}", "parameter", "version",
		                        "message", msg));
		schema_dir_free(dir);
		return;
	}
	if (schema_sqlite_path(&d->cfg, set->database) != NULL) {
		c = record_new(req, set->name, a->version);
		if (c == NULL) {
			schema_dir_free(dir);
			return;
		}
		c->dir = dir;
		caller(req, c->uid, sizeof(c->uid), &username);
		c->username = username != NULL ? strdup(username) : NULL;
		record_sqlite(c, d, set->database,
		              schema_sqlite_path(&d->cfg, set->database));
		return;
	}
	conn = schema_set_conn(req, d, set);
	c = conn != NULL ? record_new(req, set->name, a->version) : NULL;
	if (c == NULL) {
		schema_dir_free(dir);
		return;
	}
	for (int i = 0; i < 3; i++)
		arrays[i] = array_of(dir, a->version, i);
	schema_dir_free(dir);
	caller(req, uid, sizeof(uid), &username);
	values[0] = set->name;
	values[1] = arrays[0];
	values[2] = arrays[1];
	values[3] = arrays[2];
	values[4] = uid;
	values[5] = username;
	if (arrays[0] == NULL || arrays[1] == NULL || arrays[2] == NULL) {
		dbcall_unavailable(req, "out of memory");
		record_free(c);
	} else if (record(c, conn, baseline_sql, 6, values) < 0) {
		dbcall_unavailable(req, pg_conn_error(conn));
		record_free(c);
	}
	for (int i = 0; i < 3; i++)
		free(arrays[i]);
}

/* --- SchemaRepair ---------------------------------------------------------- */

struct repair_args {
	const char *set;
	long long version;
	const char *action;
};

static const struct vl_field repair_fields[] = {
        VL_FIELD_STRING("set", 0, struct repair_args, set, 1,
                        CONFIG_DATABASE_NAME_MAX),
        VL_FIELD_INT("version", VL_REQUIRED, struct repair_args, version, 0,
                     INT64_MAX, 0),
        VL_FIELD_STRING("action", VL_REQUIRED, struct repair_args, action, 0,
                        64),
        VL_FIELDS_END,
};
const struct vl_params schema_repair_params =
        VL_PARAMS(struct repair_args, repair_fields);

/*
 * $1 set, $2 version, $3 name (NULL: the recorded one), $4 checksum (NULL:
 * the recorded one), $5 kind (repaired or forgotten), $6 uid, $7
 * username. Records the decision when the version is applied and, for
 * repaired, recorded with another checksum. Returns the recorded kind and
 * how many rows were added.
 */
static const char repair_sql[] =
        "WITH ok AS ("
        " SELECT name, checksum, kind FROM migrated.schema_history"
        " WHERE set_name = $1 AND version = $2 AND outcome = 'succeeded'"
        " ORDER BY id DESC LIMIT 1),"
        " ins AS ("
        " INSERT INTO migrated.schema_history (set_name, version, name,"
        "  checksum, kind, uid, username, finished, duration_ms, outcome)"
        " SELECT $1, $2, coalesce($3, ok.name),"
        "  coalesce($4, ok.checksum), $5, $6, $7, now(), 0, 'succeeded'"
        " FROM ok"
        " WHERE ok.kind IN ('applied', 'baseline', 'adopted', 'repaired')"
        "  AND ($5 = 'forgotten' OR ok.checksum IS DISTINCT FROM $4)"
        " RETURNING id)"
        " SELECT to_json((SELECT kind FROM ok)),"
        " (SELECT count(*) FROM ins)";

void
schema_repair(struct control_req *req, struct daemon *d, const void *args)
{
	const struct repair_args *a = args;
	const struct config_schema *set;
	const struct schema_file *f;
	struct schema_dir *dir;
	struct pg_conn *conn;
	struct record_call *c;
	bool accept = strcmp(a->action, "accept") == 0;
	char uid[24], version[24], msg[512];
	const char *values[7], *username;

	if (!accept && strcmp(a->action, "forget") != 0) {
		control_error(
		        req, VL_ERROR_INVALID_PARAMETER_VALUE,
		        json_pack("{s:s, s:s}", "parameter", "action",
		                  "message",
		                  "action is accept (record an edited file's "
		                  "checksum) or forget (drop a missing "
		                  "version)"));
		return;
	}
	set = schema_set_for_call(req, d, a->set);
	if (set == NULL || (dir = load_dir(req, d, set)) == NULL)
		return;
	f = schema_dir_find(dir, a->version);
	if (accept && f == NULL) {
		snprintf(msg, sizeof(msg),
		         "version %lld has no file in %s; accept records an "
		         "edited file's checksum (forget drops a missing "
		         "version)",
		         a->version, dir->dir);
	} else if (!accept && f != NULL) {
		snprintf(msg, sizeof(msg),
		         "version %lld still has its file %s; forget is for a "
		         "version whose file is gone (remove it first, or "
		         "revert the version)",
		         a->version, f->path);
	} else {
		msg[0] = '\0';
	}
	if (msg[0] != '\0') {
		conflict(req, set->name, a->version, msg);
		schema_dir_free(dir);
		return;
	}
	if (schema_sqlite_path(&d->cfg, set->database) != NULL) {
		c = record_new(req, set->name, a->version);
		if (c == NULL) {
			schema_dir_free(dir);
			return;
		}
		c->repair = true;
		c->accept = accept;
		c->kind = accept ? "repaired" : "forgotten";
		if (f != NULL) {
			memcpy(c->checksum, f->checksum, sizeof(c->checksum));
			c->name = strdup(f->name);
		}
		caller(req, c->uid, sizeof(c->uid), &username);
		c->username = username != NULL ? strdup(username) : NULL;
		schema_dir_free(dir);
		record_sqlite(c, d, set->database,
		              schema_sqlite_path(&d->cfg, set->database));
		return;
	}
	conn = schema_set_conn(req, d, set);
	c = conn != NULL ? record_new(req, set->name, a->version) : NULL;
	if (c == NULL) {
		schema_dir_free(dir);
		return;
	}
	c->repair = true;
	c->accept = accept;
	if (f != NULL)
		memcpy(c->checksum, f->checksum, sizeof(c->checksum));
	snprintf(version, sizeof(version), "%lld", a->version);
	caller(req, uid, sizeof(uid), &username);
	values[0] = set->name;
	values[1] = version;
	values[2] = f != NULL ? f->name : NULL;
	values[3] = f != NULL ? c->checksum : NULL;
	values[4] = accept ? "repaired" : "forgotten";
	values[5] = uid;
	values[6] = username;
	if (record(c, conn, repair_sql, 7, values) < 0) {
		dbcall_unavailable(req, pg_conn_error(conn));
		record_free(c);
	}
	schema_dir_free(dir);
}
