/*
 * The SQLite side of a schema run (schema_apply.c drives it as it drives
 * a PostgreSQL connection): the history made sure of and read, one file at
 * a time, and a dry run, each a request on a SQLite worker thread
 * (schema_sqlite_call.h) whose completion comes back on the loop. The
 * work itself is schema_sqlite_file.c's.
 *
 * There is no session lock on SQLite: each file takes the file's write
 * lock (BEGIN IMMEDIATE) and reads the history again under it, so two
 * appliers (two daemons) never run one version twice. A file locked by
 * another writer makes the run wait and try again every second, logged,
 * never fail.
 */
#ifndef SCHEMA_APPLY_SQLITE_H
#define SCHEMA_APPLY_SQLITE_H

#include <stddef.h>

#include <event2/event.h>
#include <jansson.h>

#include "log.h"
#include "schema_apply_file.h"
#include "schema_apply_plan.h"

struct schema_sqlite_side;

struct schema_sqlite_side_events {
	/* the set's history (borrowed), as schema_sqlite_history_rows */
	void (*history)(void *arg, const json_t *rows);
	/* a dry run's files all ran and were rolled back */
	void (*dry_done)(void *arg);
	struct schema_file_events file; /* ran, failed, warning, arg */
};

/* For the run's set on the SQLite file path (name: its [database]). */
struct schema_sqlite_side *
schema_apply_sqlite_new(struct event_base *base, const char *name,
                        const char *path, const struct schema_file_ctx *ctx,
                        const struct schema_sqlite_side_events *ev,
                        const struct log_ctx *log)
        __attribute__((warn_unused_result));

/* Makes sure of the history table and reads it: history() or failed(). */
void schema_apply_sqlite_history(struct schema_sqlite_side *sq);

/* Runs one file (a dry run: hands back what the dry run found for it). */
void schema_apply_sqlite_file(struct schema_sqlite_side *sq,
                              const struct schema_item *it, size_t idx);

/* A dry run of items (copied). */
void schema_apply_sqlite_dry(struct schema_sqlite_side *sq,
                             const struct schema_item *items, size_t n);

/* No event after this; a request under way finishes on its own. */
void schema_apply_sqlite_free(struct schema_sqlite_side *sq);

#endif
