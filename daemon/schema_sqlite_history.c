#include "schema_sqlite_history.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "schema_history.h"

/* migrated.schema_history's columns, in SQLite's types. */
const char schema_sqlite_history_ddl[] =
        "CREATE TABLE IF NOT EXISTS " SCHEMA_SQLITE_HISTORY " ("
        " id INTEGER PRIMARY KEY,"
        " set_name TEXT NOT NULL,"
        " version INTEGER NOT NULL,"
        " name TEXT NOT NULL,"
        " checksum TEXT,"
        " kind TEXT NOT NULL CHECK (kind IN ('applied', 'baseline',"
        "  'adopted', 'reverted', 'repaired', 'forgotten')),"
        " adopted_from TEXT,"
        " uid INTEGER,"
        " username TEXT,"
        " job_id INTEGER,"
        " started TEXT NOT NULL,"
        " finished TEXT,"
        " duration_ms INTEGER,"
        " outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed')),"
        " error TEXT);"
        "CREATE INDEX IF NOT EXISTS " SCHEMA_SQLITE_HISTORY "_set_version"
        " ON " SCHEMA_SQLITE_HISTORY " (set_name, version, id);";

static int
db_fail(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
	return -1;
}

int
schema_sqlite_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", sql,
		         msg != NULL ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
schema_sqlite_history_ensure(sqlite3 *db, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, schema_sqlite_history_ddl, NULL, NULL, &msg) ==
	    SQLITE_OK)
		return 0;
	snprintf(err, errlen, "creating " SCHEMA_SQLITE_HISTORY ": %s",
	         msg != NULL ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

void
schema_sqlite_now(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;
	char day[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", day, (int)(tv.tv_usec / 1000));
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

int
schema_sqlite_history_insert(sqlite3 *db, const struct schema_sqlite_row *r,
                             char *err, size_t errlen)
{
	static const char sql[] =
	        "INSERT INTO " SCHEMA_SQLITE_HISTORY " (set_name, version,"
	        " name, checksum, kind, adopted_from, uid, username, job_id,"
	        " started, finished, duration_ms, outcome, error)"
	        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
	        " ?13, ?14)";
	sqlite3_stmt *st = NULL;
	char now[40];
	int rc;

	schema_sqlite_now(now, sizeof(now));
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "recording the schema history", err, errlen);
	bind_text(st, 1, r->set);
	sqlite3_bind_int64(st, 2, r->version);
	bind_text(st, 3, r->name);
	bind_text(st, 4, r->checksum);
	bind_text(st, 5, r->kind);
	bind_text(st, 6, r->adopted_from);
	bind_text(st, 7, r->uid);
	bind_text(st, 8, r->username);
	bind_text(st, 9, r->job);
	bind_text(st, 10, r->started != NULL ? r->started : now);
	bind_text(st, 11, now);
	sqlite3_bind_int64(st, 12, r->duration_ms);
	bind_text(st, 13, r->outcome);
	bind_text(st, 14, r->error);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, "recording the schema history", err, errlen);
	return 0;
}

static bool
table_exists(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	bool found = false;

	if (sqlite3_prepare_v2(
	            db,
	            "SELECT 1 FROM sqlite_schema WHERE type = 'table'"
	            " AND name = '" SCHEMA_SQLITE_HISTORY "'",
	            -1, &st, NULL) == SQLITE_OK)
		found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static json_t *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? json_string((const char *)s) : json_null();
}

/*
 * Each version's newest row (l) and newest succeeded row (o), by the
 * index (set_name, version, id), as schema_history_status_sql.
 */
static const char rows_sql[] =
        "WITH r AS (SELECT *, row_number() OVER (PARTITION BY version"
        "   ORDER BY id DESC) AS n,"
        "  row_number() OVER (PARTITION BY version, outcome"
        "   ORDER BY id DESC) AS m"
        "  FROM " SCHEMA_SQLITE_HISTORY " WHERE set_name = ?1),"
        " l AS (SELECT * FROM r WHERE n = 1),"
        " o AS (SELECT * FROM r WHERE m = 1 AND outcome = 'succeeded')"
        " SELECT l.version, coalesce(o.name, l.name), o.kind, o.checksum,"
        "  o.adopted_from,"
        "  (julianday(coalesce(o.finished, o.started)) - 2440587.5) * 86400.0,"
        "  o.duration_ms,"
        "  l.outcome = 'failed', l.error"
        " FROM l LEFT JOIN o USING (version) ORDER BY l.version";

json_t *
schema_sqlite_history_rows(sqlite3 *db, const char *set, char *err,
                           size_t errlen)
{
	json_t *rows = json_array();
	sqlite3_stmt *st = NULL;
	int rc;

	if (rows == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!table_exists(db))
		return rows; /* nothing applied yet */
	if (sqlite3_prepare_v2(db, rows_sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(db, "reading the schema history", err, errlen);
		json_decref(rows);
		return NULL;
	}
	sqlite3_bind_text(st, 1, set, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		bool failed = sqlite3_column_int(st, 7) != 0;
		json_t *o = json_object();

		json_object_set_new(o, "version",
		                    json_integer(sqlite3_column_int64(st, 0)));
		json_object_set_new(o, "name", col_text(st, 1));
		json_object_set_new(o, "kind", col_text(st, 2));
		json_object_set_new(o, "checksum", col_text(st, 3));
		json_object_set_new(o, "adopted_from", col_text(st, 4));
		json_object_set_new(o, "applied_at",
		                    sqlite3_column_type(st, 2) == SQLITE_NULL
		                            ? json_null()
		                            : col_text(st, 5));
		json_object_set_new(
		        o, "duration_ms",
		        sqlite3_column_type(st, 6) == SQLITE_NULL
		                ? json_null()
		                : json_integer(sqlite3_column_int64(st, 6)));
		json_object_set_new(o, "failed", json_boolean(failed));
		json_object_set_new(o, "error",
		                    failed ? col_text(st, 8) : json_null());
		json_array_append_new(rows, o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_fail(db, "reading the schema history", err, errlen);
		json_decref(rows);
		return NULL;
	}
	return rows;
}

/* The newest succeeded row of set's version: kind and checksum copied. */
static int
newest_ok(sqlite3 *db, const char *set, long long version, char *kind,
          size_t klen, char *sum, size_t slen, char *name, size_t nlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	kind[0] = sum[0] = name[0] = '\0';
	if (sqlite3_prepare_v2(
	            db,
	            "SELECT kind, checksum, name FROM " SCHEMA_SQLITE_HISTORY
	            " WHERE set_name = ?1 AND version = ?2"
	            " AND outcome = 'succeeded' ORDER BY id DESC"
	            " LIMIT 1",
	            -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, set, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, version);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *k = sqlite3_column_text(st, 0);
		const unsigned char *c = sqlite3_column_text(st, 1);
		const unsigned char *n = sqlite3_column_text(st, 2);
		snprintf(kind, klen, "%s", k != NULL ? (const char *)k : "");
		snprintf(sum, slen, "%s", c != NULL ? (const char *)c : "");
		snprintf(name, nlen, "%s", n != NULL ? (const char *)n : "");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* BEGIN IMMEDIATE with the history table there: the writer's lock. */
static int
begin_write(sqlite3 *db, char *err, size_t errlen)
{
	if (schema_sqlite_history_ensure(db, err, errlen) < 0)
		return -1;
	return schema_sqlite_exec(db, "BEGIN IMMEDIATE", err, errlen);
}

static json_t *
rollback_null(sqlite3 *db, json_t *o)
{
	char ignore[64];

	if (!sqlite3_get_autocommit(db) &&
	    schema_sqlite_exec(db, "ROLLBACK", ignore, sizeof(ignore)) < 0)
		(void)ignore;
	json_decref(o);
	return NULL;
}

json_t *
schema_sqlite_baseline(sqlite3 *db, const char *set,
                       const struct schema_dir *dir, long long upto,
                       const char *uid, const char *username, char *err,
                       size_t errlen)
{
	json_t *recorded = json_array(), *clash = json_null();
	char kind[32], sum[SCHEMA_CHECKSUM_LEN + 1], name[512];

	if (begin_write(db, err, errlen) < 0)
		return rollback_null(db, recorded);
	/* first the whole decision, then the rows */
	for (size_t i = 0; i < dir->n && dir->files[i].version <= upto; i++) {
		const struct schema_file *f = &dir->files[i];

		if (newest_ok(db, set, f->version, kind, sizeof(kind), sum,
		              sizeof(sum), name, sizeof(name)) < 0) {
			db_fail(db, "reading the schema history", err, errlen);
			return rollback_null(db, recorded);
		}
		if (schema_history_kind_applied(kind) &&
		    (strcmp(kind, "baseline") != 0 ||
		     strcmp(sum, f->checksum) != 0)) {
			clash = json_pack("{s:I, s:s}", "version",
			                  (json_int_t)f->version, "kind", kind);
			break;
		}
	}
	for (size_t i = 0;
	     json_is_null(clash) && i < dir->n && dir->files[i].version <= upto;
	     i++) {
		const struct schema_file *f = &dir->files[i];
		struct schema_sqlite_row r = {
		        .set = set,
		        .version = f->version,
		        .name = f->name,
		        .checksum = f->checksum,
		        .kind = "baseline",
		        .uid = uid,
		        .username = username,
		        .outcome = "succeeded",
		};

		if (newest_ok(db, set, f->version, kind, sizeof(kind), sum,
		              sizeof(sum), name, sizeof(name)) < 0) {
			db_fail(db, "reading the schema history", err, errlen);
			return rollback_null(db, recorded);
		}
		if (schema_history_kind_applied(kind))
			continue; /* baselined before, same checksum */
		if (schema_sqlite_history_insert(db, &r, err, errlen) < 0)
			return rollback_null(db, recorded);
		json_array_append_new(recorded, json_integer(f->version));
	}
	if (schema_sqlite_exec(db, "COMMIT", err, errlen) < 0) {
		json_decref(clash);
		return rollback_null(db, recorded);
	}
	return json_pack("{s:o, s:o}", "clash", clash, "recorded", recorded);
}

json_t *
schema_sqlite_repair(sqlite3 *db, const char *set, long long version,
                     const char *name, const char *checksum, const char *kind,
                     const char *uid, const char *username, char *err,
                     size_t errlen)
{
	char have[32], sum[SCHEMA_CHECKSUM_LEN + 1], rname[512];
	bool forget = strcmp(kind, "forgotten") == 0;
	int inserted = 0;

	if (begin_write(db, err, errlen) < 0)
		return rollback_null(db, NULL);
	if (newest_ok(db, set, version, have, sizeof(have), sum, sizeof(sum),
	              rname, sizeof(rname)) < 0) {
		db_fail(db, "reading the schema history", err, errlen);
		return rollback_null(db, NULL);
	}
	if (schema_history_kind_applied(have) &&
	    (forget || checksum == NULL || strcmp(sum, checksum) != 0)) {
		struct schema_sqlite_row r = {
		        .set = set,
		        .version = version,
		        .name = name != NULL ? name : rname,
		        .checksum = checksum != NULL ? checksum : sum,
		        .kind = kind,
		        .uid = uid,
		        .username = username,
		        .outcome = "succeeded",
		};
		if (schema_sqlite_history_insert(db, &r, err, errlen) < 0)
			return rollback_null(db, NULL);
		inserted = 1;
	}
	if (schema_sqlite_exec(db, "COMMIT", err, errlen) < 0)
		return rollback_null(db, NULL);
	return json_pack("{s:o, s:i}", "kind",
	                 have[0] != '\0' ? json_string(have) : json_null(),
	                 "inserted", inserted);
}
