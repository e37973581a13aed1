#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "metrics.h"
#include "schema_files.h"
#include "schema_history.h"

/* Embedded daemon/schema/NNN_name.sql files, in order (build/gen). */
extern const char *const store_schema[];
extern const char *const store_schema_files[];

/* pg_advisory_xact_lock key serialising schema upgrades across daemons. */
#define SCHEMA_LOCK "7305628391"
/* Dollar quote around a schema file's text, for its checksum. */
#define FILE_QUOTE "$migrated_schema_file$"
/* SQLSTATE raised when another daemon applied a version first. */
#define ALREADY_APPLIED "MG001"

struct store {
	struct pg_conn *conn;
	store_ready_cb cb;
	void *arg;
	bool ready;
	char *error;
	int have; /* the database's schema version, last read */
	/* the first error of an upgrade's statements */
	char part_state[6];
	char part_error[1024];
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
on_rollback(void *arg, const PGresult *res, const char *error)
{
	(void)arg;
	(void)res;
	(void)error;
}

/* The upgrade failed: say why, and try again after a reconnect. */
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
	if (res != NULL &&
	    pg_query(store->conn, "ROLLBACK", 0, NULL, on_rollback, NULL) < 0)
		log_debug("no rollback: connection gone");
	if (res != NULL)
		pg_conn_reset(store->conn, msg);
}

/* Keeps the first error of an upgrade's statements. */
static void
on_part(void *arg, const PGresult *res, const char *error)
{
	struct store *store = arg;
	const char *state;
	char buf[1024];

	(void)error;
	if (res == NULL || pg_result_ok(res) || store->part_error[0] != '\0')
		return;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	snprintf(store->part_state, sizeof(store->part_state), "%s",
	         state != NULL ? state : "");
	snprintf(store->part_error, sizeof(store->part_error), "%s",
	         pg_result_error(res, buf, sizeof(buf)));
}

static void
on_version_applied(void *arg, const PGresult *res, const char *error)
{
	struct store *store = arg;

	if (res != NULL && pg_result_ok(res) && store->part_error[0] == '\0') {
		read_version(store);
		return;
	}
	if (res != NULL && strcmp(store->part_state, ALREADY_APPLIED) == 0) {
		if (pg_query(store->conn, "ROLLBACK", 0, NULL, on_rollback,
		             NULL) == 0)
			read_version(store);
		return;
	}
	upgrade_failed(store, "applying a schema version", res,
	               store->part_error[0] != '\0' ? store->part_error
	                                            : error);
}

/*
 * One version of the daemon's own schema, in one transaction: the file,
 * its row in migrated.schema_history (set "migrated", the same history
 * and checksum users' schema sets get) and in migrated.schema_version.
 */
static void
apply_version(struct store *store, int version)
{
	const char *sql = store_schema[version - 1];
	const char *file = store_schema_files[version - 1];
	size_t len = 2 * strlen(sql) + strlen(file) + 512;
	char *script = malloc(len), *tail = malloc(len);
	char checksum[SCHEMA_CHECKSUM_LEN + 1], version_s[16], name[256];
	const char *values[13] = {
	        "migrated", version_s, name, checksum, "applied",   NULL, NULL,
	        NULL,       NULL,      NULL, NULL,     "succeeded", NULL};

	if (script == NULL || tail == NULL || strstr(sql, FILE_QUOTE) != NULL) {
		upgrade_failed(store, "applying a schema version", NULL,
		               script == NULL || tail == NULL
		                       ? "out of memory"
		                       : "the file contains " FILE_QUOTE);
		free(script);
		free(tail);
		return;
	}
	snprintf(version_s, sizeof(version_s), "%d", version);
	/* NNN_name.sql: the name is what follows NNN_ */
	snprintf(name, sizeof(name), "%s",
	         strchr(file, '_') != NULL ? strchr(file, '_') + 1 : file);
	if (strlen(name) > 4 && strcmp(name + strlen(name) - 4, ".sql") == 0)
		name[strlen(name) - 4] = '\0';
	schema_checksum(sql, strlen(sql), checksum);
	/* only our own constants go into these texts */
	snprintf(script, len,
	         "BEGIN;"
	         "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK ");"
	         "DO $$BEGIN IF EXISTS (SELECT 1 FROM migrated.schema_version"
	         " WHERE version >= %d) THEN RAISE EXCEPTION USING"
	         " ERRCODE = '" ALREADY_APPLIED "', MESSAGE = 'applied';"
	         " END IF; END$$;\n"
	         "%s\n;",
	         version, sql);
	snprintf(tail, len,
	         "INSERT INTO migrated.schema_version (version, name, checksum)"
	         " VALUES (%d, '%s', md5(" FILE_QUOTE "%s" FILE_QUOTE "));"
	         "COMMIT",
	         version, file, sql);
	log_info("upgrading the migrated schema to version %d (%s)", version,
	         file);
	store->part_state[0] = store->part_error[0] = '\0';
	if (pg_script(store->conn, script, on_part, store) < 0 ||
	    pg_query(store->conn, schema_history_insert_sql, 13, values,
	             on_part, store) < 0 ||
	    pg_script(store->conn, tail, on_version_applied, store) < 0)
		log_debug("schema upgrade deferred: connection gone");
	free(script);
	free(tail);
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
		return;
	}
	if (store->have < store_schema_version()) {
		apply_version(store, store->have + 1);
		return;
	}
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
	if (pg_script(store->conn, bootstrap_sql, on_bootstrap, store) < 0)
		log_debug("bootstrap deferred: connection gone");
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
	store->conn = pg_conn_new(base, conninfo, "migrated", on_state, store);
	if (store->conn == NULL) {
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
	pg_conn_free(store->conn);
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
