/*
 * One file of a schema run on a SQLite file, run on the SQLite worker
 * thread (it blocks; never on the event loop): in a write transaction of
 * its own (BEGIN IMMEDIATE, which is the lock that keeps two appliers of
 * the file apart) together with its migrated_schema_history row; or,
 * marked "-- migrated: no-transaction", statement by statement outside
 * one, recorded after its last statement; in a dry run, statement by
 * statement inside the run's transaction (the caller's BEGIN and
 * ROLLBACK), recorded nowhere.
 *
 * Under the write lock the history is read again: a version another
 * applier recorded meanwhile (or, for a revert, undid) is skipped, so two
 * daemons applying the same file never run a version twice.
 *
 * A failing statement is "path:line:column: message (SQLite: code)",
 * the transaction rolled back and a failed row recorded after it.
 */
#ifndef SCHEMA_SQLITE_FILE_H
#define SCHEMA_SQLITE_FILE_H

#include <stdbool.h>

#include <sqlite3.h>

#include "schema_apply_plan.h"

struct schema_sqlite_file_in {
	const char *set, *uid, *username, *job;
	const struct schema_item *it;
	bool revert, dry_run;
};

struct schema_sqlite_file_out {
	char error[4096]; /* when it failed */
	char tags[2048];  /* what each statement did ("CREATE TABLE; ...") */
	long long changed, ms;
	bool skipped; /* recorded by another applier meanwhile */
	bool busy;    /* the file is locked by another writer: nothing ran */
};

/* Runs it; -1 with out->error. */
int schema_sqlite_file_run(sqlite3 *db, const struct schema_sqlite_file_in *in,
                           struct schema_sqlite_file_out *out)
        __attribute__((warn_unused_result));

/*
 * Runs every statement of sql (path names it in errors), counting what
 * they did in out->tags and out->changed; in_tx refuses statements that
 * would end the caller's transaction. -1 with out->error
 * ("path:line:column: message") at the failing one.
 */
int schema_sqlite_run_text(sqlite3 *db, const char *path, const char *sql,
                           bool in_tx, struct schema_sqlite_file_out *out)
        __attribute__((warn_unused_result));

/* The 1-based line and column (characters) of byte offset off of text. */
void schema_sqlite_position(const char *text, size_t off, unsigned *line,
                            unsigned *column);

#endif
