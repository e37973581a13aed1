/*
 * A schema set's history in a SQLite file: the table
 * migrated_schema_history in the file itself (SQLite has no schemas, so
 * the name carries the prefix; docs/DECISIONS.md "Schema sets on SQLite"),
 * the same columns and rules as migrated.schema_history (schema_history.h):
 * append-only, a version's state is its newest succeeded row, a newest
 * failed row makes it failed.
 *
 * Pure functions of a sqlite3 handle: they block, and run on the SQLite
 * worker thread, never on the event loop. Writers take the file's write
 * lock first (BEGIN IMMEDIATE), which is what keeps two writers of one
 * file apart, also from two daemons.
 */
#ifndef SCHEMA_SQLITE_HISTORY_H
#define SCHEMA_SQLITE_HISTORY_H

#include <stddef.h>

#include <jansson.h>
#include <sqlite3.h>

#include "schema_files.h"

#define SCHEMA_SQLITE_HISTORY "migrated_schema_history"

/* The table and its index, created if missing. */
extern const char schema_sqlite_history_ddl[];

/* One history row to append; NULL strings are SQL NULL. */
struct schema_sqlite_row {
	const char *set;
	long long version;
	const char *name, *checksum, *kind, *adopted_from;
	const char *uid, *username, *job;
	const char *started; /* ISO 8601 UTC; NULL: now */
	long long duration_ms;
	const char *outcome; /* succeeded or failed */
	const char *error;
};

/* Creates the table if missing; -1 with err filled. */
int schema_sqlite_history_ensure(sqlite3 *db, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Appends r (inside the caller's transaction, if any); -1 with err. */
int schema_sqlite_history_insert(sqlite3 *db, const struct schema_sqlite_row *r,
                                 char *err, size_t errlen)
        __attribute__((warn_unused_result));

/*
 * Set's rows as schema_history_status_sql returns them on PostgreSQL (so
 * that schema_history_merge reads both): by version, each version's newest
 * state. An empty array when the table does not exist. NULL with err.
 */
json_t *schema_sqlite_history_rows(sqlite3 *db, const char *set, char *err,
                                   size_t errlen)
        __attribute__((warn_unused_result));

/* The time now as the table records it (ISO 8601 UTC, milliseconds). */
void schema_sqlite_now(char *buf, size_t len);

/*
 * SchemaBaseline on a SQLite file: versions of dir up to upto recorded
 * (kind baseline) in one write transaction, unless one is recorded
 * otherwise than as this baseline. {clash: {version, kind} or null,
 * recorded: [versions]}, or NULL with err.
 */
json_t *schema_sqlite_baseline(sqlite3 *db, const char *set,
                               const struct schema_dir *dir, long long upto,
                               const char *uid, const char *username, char *err,
                               size_t errlen)
        __attribute__((warn_unused_result));

/*
 * SchemaRepair: kind "repaired" (with name and checksum, the file's) or
 * "forgotten" (name, checksum NULL: the recorded ones). {kind: recorded
 * kind or null, inserted: 0 or 1}, or NULL with err.
 */
json_t *schema_sqlite_repair(sqlite3 *db, const char *set, long long version,
                             const char *name, const char *checksum,
                             const char *kind, const char *uid,
                             const char *username, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Runs one statement without results (BEGIN, COMMIT...); -1 with err. */
int schema_sqlite_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
        __attribute__((warn_unused_result));

#endif
