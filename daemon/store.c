#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "metrics.h"
#include "schema_apply_file.h"
#include "schema_files.h"
#include "schema_history.h"

/* Embedded daemon/schema/NNN_name.sql files, in order (build/gen). */
extern const char *const store_schema[];
extern const char *const store_schema_files[];

/* Advisory lock key serialising schema upgrades across daemons: held by
 * the session for the whole upgrade, taken in its transaction by
 * bootstrap_sql (and by daemons before this one). */
#define SCHEMA_LOCK "7305628391"

struct store {
	struct pg_conn *conn;
	store_ready_cb cb;
	void *arg;
	bool ready;
	char *error;
	int have; /* the database's schema version, last read */
	/* the version being applied, through schema_apply_file.c */
	struct schema_file_run *run;
	struct schema_file file;
	struct schema_item item;
	char name[256], version[16];
	const char *also_values[3];
	struct schema_file_stmt also;
};

static const char bootstrap_sql[] =
        "BEGIN;"
        "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK ");"
        "CREATE SCHEMA IF NOT EXISTS migrated;"
        "CREATE TABLE IF NOT EXISTS migrated.schema_version ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " checksum text,"
        " applied timestamptz NOT NULL DEFAULT now());"
        "COMMIT";

/* In the file's transaction, after its history row. */
static const char version_sql[] =
        "INSERT INTO migrated.schema_version (version, name, checksum)"
        " VALUES ($1::integer, $2, md5($3))";

static void read_version(struct store *store);

int
store_schema_version(void)
{
	int n = 0;

	while (store_schema[n] != NULL)
		n++;
	return n;
}

static void
set_error(struct store *store, const char *error)
{
	free(store->error);
	store->error = error != NULL ? strdup(error) : NULL;
}

static void
set_ready(struct store *store, bool ready)
{
	if (store->ready == ready)
		return;
	store->ready = ready;
	/* conn is NULL while pg_conn_new reports its first state */
	if (store->conn != NULL)
		metrics_db_state("target", store_db_state(store));
	store->cb(store->arg, ready);
}

static void
on_ignored(void *arg, const PGresult *res, const char *error)
{
	(void)arg;
	(void)res;
	(void)error;
}

/* Lets another daemon upgrade (or check) the schema. */
static void
unlock(struct store *store)
{
	if (pg_query(store->conn, "SELECT pg_advisory_unlock(" SCHEMA_LOCK ")",
	             0, NULL, on_ignored, NULL) < 0)
		log_debug("no unlock: connection gone");
}

/*
 * The upgrade failed: say why, and try again after a reconnect (which
 * also ends any transaction and frees the lock).
 */
static void
upgrade_failed(struct store *store, const char *what, const PGresult *res,
               const char *error)
{
	char buf[1024], msg[1200];

	if (res != NULL)
		error = pg_result_error(res, buf, sizeof(buf));
	snprintf(msg, sizeof(msg), "%s: %s", what, error);
	log_error("cannot prepare the migrated schema: %s", msg);
	set_error(store, msg);
	if (res != NULL || pg_conn_state(store->conn) == PG_READY)
		pg_conn_reset(store->conn, msg);
}

static void
on_version_ran(void *arg, const char *tags, long long changed, long long ms)
{
	struct store *store = arg;

	(void)tags;
	(void)changed;
	log_info("migrated schema version %s applied in %lld ms",
	         store->version, ms);
	read_version(store);
}

static void
on_version_failed(void *arg, const char *msg)
{
	upgrade_failed(arg, "applying a schema version", NULL, msg);
}

static void
on_version_warning(void *arg, const char *text)
{
	(void)arg;
	log_warning("migrated schema: %s", text);
}

/*
 * One version of the daemon's own schema, as a user's schema set's file
 * is applied (schema_apply_file.c): in one transaction with its row in
 * migrated.schema_history (set "migrated", the same checksum, kind,
 * duration and outcome) and, here only, its row in
 * migrated.schema_version.
 */
static void
apply_version(struct store *store, int version)
{
	const char *sql = store_schema[version - 1];
	const char *file = store_schema_files[version - 1];
	struct schema_file *f = &store->file;
	struct schema_item *it = &store->item;
	size_t len;

	snprintf(store->version, sizeof(store->version), "%d", version);
	/* NNN_name.sql: the name is what follows NNN_ */
	snprintf(store->name, sizeof(store->name), "%s",
	         strchr(file, '_') != NULL ? strchr(file, '_') + 1 : file);
	len = strlen(store->name);
	if (len > 4 && strcmp(store->name + len - 4, ".sql") == 0)
		store->name[len - 4] = '\0';
	memset(f, 0, sizeof(*f));
	f->version = version;
	f->name = store->name;
	f->path = (char *)file;
	schema_checksum(sql, strlen(sql), f->checksum);
	memset(it, 0, sizeof(*it));
	it->f = f;
	it->sql = sql;
	it->path = file;
	it->checksum = f->checksum;
	snprintf(it->step, sizeof(it->step), "%s", file);
	store->also_values[0] = store->version;
	store->also_values[1] = file;
	store->also_values[2] = sql;
	log_info("upgrading the migrated schema to version %d (%s)", version,
	         file);
	schema_file_run_start(store->run, it, version < store_schema_version());
}

/* The versions applied, with the checksum of the file each came from. */
static const char checksums_sql[] =
        "SELECT v.version, v.name FROM migrated.schema_version v"
        " JOIN json_array_elements_text($1::json) WITH ORDINALITY"
        "  AS f(sql, version) ON f.version = v.version"
        " WHERE v.checksum IS DISTINCT FROM md5(f.sql)"
        " ORDER BY v.version LIMIT 1";

static void
on_checksums(void *arg, const PGresult *res, const char *error)
{
	struct store *store = arg;
	char msg[512];

	if (res == NULL || !pg_result_ok(res)) {
		upgrade_failed(store, "checking the schema's checksums", res,
		               error);
		return;
	}
	if (PQntuples(res) > 0) {
		/* never build on a schema other than the one the files say */
		snprintf(
		        msg, sizeof(msg),
		        "the migrated schema's version %s (%s) was applied from "
		        "a different file than this daemon's; install the "
		        "daemon that created it",
		        PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
		log_error("%s", msg);
		set_error(store, msg);
		unlock(store);
		return;
	}
	if (store->have < store_schema_version()) {
		apply_version(store, store->have + 1);
		return;
	}
	unlock(store);
	set_error(store, NULL);
	log_info("migrated schema at version %d", store->have);
	set_ready(store, true);
}

static void
check_checksums(struct store *store)
{
	json_t *files = json_array();
	char *text;
	const char *values[1];

	for (int i = 0; i < store->have && store_schema[i] != NULL; i++)
		json_array_append_new(files, json_string(store_schema[i]));
	text = json_dumps(files, JSON_COMPACT);
	json_decref(files);
	values[0] = text;
	if (text == NULL || pg_query(store->conn, checksums_sql, 1, values,
	                             on_checksums, store) < 0)
		log_debug("checksum check deferred: connection gone");
	free(text);
}

static void
on_version(void *arg, const PGresult *res, const char *error)
{
	struct store *store = arg;
	int want = store_schema_version();
	char msg[256];

	if (res == NULL || !pg_result_ok(res) || PQntuples(res) != 1) {
		upgrade_failed(store, "reading the schema version", res, error);
		return;
	}
	store->have = atoi(PQgetvalue(res, 0, 0));
	if (store->have > want) {
		snprintf(
		        msg, sizeof(msg),
		        "the database's migrated schema is at version %d, newer "
		        "than this daemon's %d: upgrade migrated",
		        store->have, want);
		log_error("%s", msg);
		set_error(store, msg);
		unlock(store);
		return;
	}
	check_checksums(store);
}

static void
read_version(struct store *store)
{
	if (pg_query(store->conn,
	             "SELECT coalesce(max(version), 0) FROM "
	             "migrated.schema_version",
	             0, NULL, on_version, store) < 0)
		log_debug("schema check deferred: connection gone");
}

static void
on_history(void *arg, const PGresult *res, const char *error)
{
	struct store *store = arg;

	if (res == NULL || !pg_result_ok(res)) {
		upgrade_failed(store, "creating migrated.schema_history", res,
		               error);
		return;
	}
	read_version(store);
}

static void
on_bootstrap(void *arg, const PGresult *res, const char *error)
{
	struct store *store = arg;

	if (res == NULL || !pg_result_ok(res)) {
		upgrade_failed(store, "creating the migrated schema", res,
		               error);
		return;
	}
	/* the history every schema set uses, ours ("migrated") included */
	if (schema_history_ensure(store->conn, on_history, store) < 0)
		log_debug("history table deferred: connection gone");
}

static void
on_locked(void *arg, const PGresult *res, const char *error)
{
	struct store *store = arg;

	if (res == NULL || !pg_result_ok(res)) {
		upgrade_failed(store, "locking the migrated schema", res,
		               error);
		return;
	}
	if (pg_script(store->conn, bootstrap_sql, on_bootstrap, store) < 0)
		log_debug("bootstrap deferred: connection gone");
}

static void
on_state(void *arg, enum pg_state state, const char *error)
{
	struct store *store = arg;

	/* ready only once the bootstrap is done (set_ready) */
	metrics_db_state("target", state == PG_DISCONNECTED ? "disconnected"
	                                                    : "connecting");
	if (state != PG_READY) {
		set_error(store, error);
		set_ready(store, false);
		return;
	}
	/* one daemon at a time reads, checks and upgrades the schema */
	if (pg_query(store->conn, "SELECT pg_advisory_lock(" SCHEMA_LOCK ")", 0,
	             NULL, on_locked, store) < 0)
		log_debug("schema lock deferred: connection gone");
}

struct store *
store_new(struct event_base *base, const char *conninfo, store_ready_cb cb,
          void *arg)
{
	struct store *store = calloc(1, sizeof(*store));

	if (store == NULL)
		return NULL;
	store->cb = cb;
	store->arg = arg;
	store->also = (struct schema_file_stmt){
	        .sql = version_sql, .n = 3, .values = store->also_values};
	store->conn = pg_conn_new(base, conninfo, "migrated", on_state, store);
	store->run = store->conn == NULL
	                     ? NULL
	                     : schema_file_run_new(
	                               store->conn,
	                               &(struct schema_file_ctx){
	                                       .set = "migrated",
	                                       .also = &store->also},
	                               &(struct schema_file_events){
	                                       .ran = on_version_ran,
	                                       .failed = on_version_failed,
	                                       .warning = on_version_warning,
	                                       .arg = store},
	                               NULL); /* not a job: plain log lines */
	if (store->run == NULL) {
		pg_conn_free(store->conn);
		free(store);
		return NULL;
	}
	return store;
}

void
store_free(struct store *store)
{
	if (store == NULL)
		return;
	schema_file_run_cancel(store->run);
	pg_conn_free(store->conn);
	schema_file_run_free(store->run); /* after its connection */
	free(store->error);
	free(store);
}

void
store_set_backoff_max(struct store *store, long long ms)
{
	pg_conn_set_backoff_max(store->conn, ms);
}

bool
store_ready(const struct store *store)
{
	return store->ready;
}

const char *
store_db_state(const struct store *store)
{
	switch (pg_conn_state(store->conn)) {
	case PG_READY:
		return store->ready ? "connected" : "connecting";
	case PG_CONNECTING:
		return "connecting";
	case PG_DISCONNECTED:
		break;
	}
	return "disconnected";
}

const char *
store_error(const struct store *store)
{
	if (store->error != NULL)
		return store->error;
	return pg_conn_error(store->conn);
}

struct pg_conn *
store_conn(struct store *store)
{
	return store->conn;
}
