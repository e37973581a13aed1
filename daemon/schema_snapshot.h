/*
 * A normalised snapshot of one PostgreSQL database's schema, for
 * schema_diff.h: one catalog query (pg_catalog, not information_schema)
 * on a connection of its own, returning one JSON document
 * {kind: {name: definition}}.
 *
 * User schemas only: pg_catalog, information_schema, pg_toast, temporary
 * schemas and migrated's own `migrated` schema are left out, as are objects
 * that belong to an extension (the extension itself counts). The query
 * runs with search_path = pg_catalog, so every user object in a definition
 * is schema-qualified and both sides read alike. What is normalised away:
 * constraint, index and trigger names (they are keyed by their definition
 * without the name), column order (columns are keyed by table.column),
 * comments (never read), and identity sequences (part of their column).
 */
#ifndef SCHEMA_SNAPSHOT_H
#define SCHEMA_SNAPSHOT_H

#include <stdbool.h>

#include <event2/event.h>
#include <jansson.h>

struct schema_snapshot;

/* The query, as a script: a SET, then one SELECT of one json cell. */
extern const char schema_snapshot_sql[];

/*
 * snapshot is the document (borrowed: json_incref to keep it), or NULL
 * with error set; unavailable when the database could not be reached.
 */
typedef void (*schema_snapshot_cb)(void *arg, json_t *snapshot,
                                   const char *error, bool unavailable);

/*
 * Connects to conninfo (label names it in errors, e.g. "[target]") and
 * takes the snapshot. cb runs exactly once, later, never from inside this
 * call; the snapshot object is freed after cb returns. NULL when out of
 * memory.
 */
struct schema_snapshot *
schema_snapshot_take(struct event_base *base, const char *conninfo,
                     const char *label, schema_snapshot_cb cb, void *arg)
        __attribute__((warn_unused_result));

/* Stops before cb ran (it never runs) and frees. */
void schema_snapshot_cancel(struct schema_snapshot *s);

#endif
