/*
 * A schema set's history: the append-only table migrated.schema_history
 * in each database a set applies to (the daemon's own upgrades are set
 * "migrated" in the target's), the statements that read and write it, and
 * the merge of what it says with the set's directory into the SchemaSet
 * and SchemaFile types of io.migrated.
 *
 * A version's state is its newest succeeded row: kind applied, baseline,
 * adopted or repaired means applied (with that row's checksum); reverted
 * or forgotten means not applied. A version whose newest row failed is
 * failed.
 */
#ifndef SCHEMA_HISTORY_H
#define SCHEMA_HISTORY_H

#include <stdbool.h>

#include <jansson.h>

#include "pg.h"
#include "schema_files.h"

/*
 * The table, its schema and index, created if missing under an advisory
 * lock, as one implicit transaction (a script for pg_script).
 */
extern const char schema_history_ensure_sql[];

/*
 * Runs schema_history_ensure_sql on conn; cb gets its result (an error
 * result when the table cannot be created). -1 when conn is not ready.
 */
int schema_history_ensure(struct pg_conn *conn, pg_result_cb cb, void *arg)
        __attribute__((warn_unused_result));

/*
 * The key of the advisory lock every writer of set $1's history holds, so
 * that two writers (two daemons) never interleave: (hashtext(
 * 'migrated.schema_history'), hashtext(set)). An apply or revert holds it
 * for its run (pg_advisory_lock); baseline, repair and adopt only try it
 * (pg_try_advisory_xact_lock) and refuse at once when it is taken.
 */
#define SCHEMA_HISTORY_LOCK_KEY                                                \
	"hashtext('migrated.schema_history'), hashtext($1)"

/*
 * $1 set name: one row, one column, a JSON array, by version, of each
 * version's newest state: {version, name, kind, checksum, adopted_from,
 * applied_at, duration_ms, failed, error} (kind and what follows it from
 * the newest succeeded row, null when there is none; failed and error from
 * the newest row).
 */
extern const char schema_history_status_sql[];

/*
 * Appends one row: $1 set, $2 version, $3 name, $4 checksum, $5 kind, $6
 * adopted_from, $7 uid, $8 username, $9 job_id, $10 started (NULL: now),
 * $11 duration_ms, $12 outcome, $13 error. finished is now(). Returns the
 * row's id.
 */
extern const char schema_history_insert_sql[];

/* A version recorded as applied (kind applied, baseline, adopted, repaired). */
bool schema_history_kind_applied(const char *kind);

/*
 * $1 set name: each version's newest state, newest version first, as
 * plain columns (no JSON to build on the server): version, name, kind,
 * checksum, adopted_from, applied_at (seconds since the epoch), duration_ms
 * (kind and what follows it from the newest succeeded row, NULL when
 * there is none), failed and error (from the newest row). Two backward
 * walks of the index, no sort.
 */
extern const char schema_history_rows_sql[];

/* One row of schema_history_rows_sql; the strings are the result's. */
struct schema_history_row {
	long long version;
	const char *name, *kind, *checksum, *adopted_from;
	const char *applied_at; /* seconds since the epoch, or NULL */
	long long duration_ms;  /* -1: none */
	bool failed;
	const char *error;
};

/*
 * The rows of a schema_history_rows_sql result, by version ascending, in
 * *rows (free it; the strings stay the result's). -1 when out of memory.
 */
int schema_history_rows(const PGresult *res, struct schema_history_row **rows,
                        size_t *n) __attribute__((warn_unused_result));

/*
 * The same rows from a JSON array of objects {version, name, kind,
 * checksum, adopted_from, applied_at (seconds since the epoch, as text),
 * duration_ms, failed, error}, by version ascending (a SQLite file's
 * history, schema_sqlite_history_rows). The strings stay the array's; free
 * *rows. -1 when out of memory.
 */
int schema_history_rows_json(const json_t *array,
                             struct schema_history_row **rows, size_t *n)
        __attribute__((warn_unused_result));

/*
 * The SchemaSet of io.migrated for set name (applied to database) from
 * its directory and its n history rows (by version ascending). A new
 * reference; NULL when out of memory. Pure.
 *
 * Each file gets a state: "failed" when its newest row failed; else, when
 * applied, "edited" when the checksum recorded differs from the file's,
 * otherwise "applied", "baseline" or "adopted" after the kind (repaired
 * counts as applied); when not applied, "out_of_order" when a newer
 * version is applied, otherwise "pending". An applied version without a
 * file is "missing". current is the newest applied version; pending
 * counts the files apply would run (pending, out of order and failed);
 * needs_action says a version is failed, edited, missing or out of order;
 * counts has the number of versions in each state. files lists every
 * version when all is true, else only those not applied, baselined or
 * adopted (the ones apply, repair or the operator has to act on).
 */
json_t *schema_history_merge(const char *name, const char *database,
                             const struct schema_dir *dir,
                             const struct schema_history_row *rows, size_t n,
                             bool all) __attribute__((warn_unused_result));

/* schema_history_merge of rows as schema_history_rows_json reads them. */
json_t *schema_history_merge_json(const char *name, const char *database,
                                  const struct schema_dir *dir,
                                  const json_t *rows, bool all)
        __attribute__((warn_unused_result));

#endif
