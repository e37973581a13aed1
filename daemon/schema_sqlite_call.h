/*
 * A schema method's work on a set's SQLite file, off the event loop: the
 * work function runs on a SQLite worker thread of the call's own
 * (sqlite_worker.h, the file opened read-write, created when missing),
 * then the completion on the loop; the worker is freed after it, on a
 * later loop turn. Schema calls are rare, so a worker per call keeps them
 * apart from copy steps' readers and from each other without sharing
 * state.
 */
#ifndef SCHEMA_SQLITE_CALL_H
#define SCHEMA_SQLITE_CALL_H

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "sqlite_worker.h"

/* How long one call waits for another writer's lock (ms). */
#define SCHEMA_SQLITE_BUSY_MS 5000

struct schema_sqlite_call;

/* The SQLite file of [database NAME] database, or NULL (PostgreSQL). */
const char *schema_sqlite_path(const struct config *cfg, const char *database);

/*
 * Runs work(db, arg) on the file at path (name: the [database] in
 * messages), then done(arg, ...) on the loop, exactly once and never from
 * inside this call. NULL (and done never runs) when the worker cannot be
 * started: err says why.
 */
struct schema_sqlite_call *
schema_sqlite_call(struct event_base *base, const char *name, const char *path,
                   sqlite_work_fn work, sqlite_done_fn done, void *arg,
                   char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* The message for a call that ended other than ok. */
const char *schema_sqlite_call_error(enum sqlite_worker_status status,
                                     const char *error, char *buf, size_t len);

/* A set's history rows (schema_sqlite_history_rows), for status and the
 * apply's pre-check: set in, rows out (a new reference, or NULL). */
struct schema_sqlite_rows {
	void *owner; /* the caller's, for its completion (which gets &rows) */
	char set[256];
	json_t *rows;
};
int schema_sqlite_rows_work(sqlite3 *db, void *arg, char *err, size_t errlen);

#endif
