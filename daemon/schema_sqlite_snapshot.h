/*
 * A SQLite file's schema as the normalised snapshot schema_diff.h
 * compares ({kind: {name: definition}}, the same document
 * schema_snapshot.c reads from pg_catalog, so that one diff engine serves
 * both), and a baseline SQL file of it. Read from sqlite_schema and the
 * pragma_table_xinfo, pragma_index_list, pragma_index_xinfo and
 * pragma_foreign_key_list table-valued functions; what no pragma tells
 * (checks, generated columns' expressions, expression index terms, partial
 * index predicates, view and trigger bodies) from the object's SQL text,
 * with runs of white space squeezed.
 *
 * Normalised as on PostgreSQL: constraint, index and trigger names do not
 * count (they are keyed by their definition), nor does column order
 * (columns are keyed by table.column), nor comments. Tables are named
 * "main.TABLE". SQLite's own tables (sqlite_*), shadow tables of virtual
 * tables and migrated_schema_history are left out.
 *
 * Pure functions of a sqlite3 handle: they block, and run on the SQLite
 * worker thread, never on the event loop.
 */
#ifndef SCHEMA_SQLITE_SNAPSHOT_H
#define SCHEMA_SQLITE_SNAPSHOT_H

#include <stddef.h>

#include <jansson.h>
#include <sqlite3.h>

/* The snapshot (a new reference), or NULL with err filled. */
json_t *schema_sqlite_snapshot(sqlite3 *db, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/*
 * A baseline file (malloc'd): every table, index, view and trigger's SQL as
 * sqlite_schema keeps it, tables first, then indexes, views and triggers,
 * each in the order they were made; applied to an empty file in one
 * transaction it builds the same schema. NULL with err filled.
 */
char *schema_sqlite_dump(sqlite3 *db, char *err, size_t errlen)
        __attribute__((warn_unused_result));

#endif
