/*
 * SchemaAdopt on a SQLite file: another tool's history table in the file,
 * read into the rows schema_adopt_match.c matches (the same matching, the
 * same report as on PostgreSQL), and, when every row matched, the versions
 * recorded (kind adopted) in migrated_schema_history, all in one write
 * transaction. One table row per tool says how its SQLite table reads:
 * Drizzle, Knex, TypeORM, Kysely, goose, dbmate, golang-migrate, Prisma
 * and a plain table.
 *
 * A pure function of a sqlite3 handle: it blocks, and runs on the SQLite
 * worker thread, never on the event loop.
 */
#ifndef SCHEMA_SQLITE_ADOPT_H
#define SCHEMA_SQLITE_ADOPT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <sqlite3.h>

#include "schema_files.h"

struct schema_sqlite_adopt_in {
	const char *set, *from;
	const char *table;                        /* NULL: the tool's own */
	const char *version_column, *name_column; /* --from table */
	const struct schema_dir *dir;
	const char *uid, *username;
};

/* Whether from is a tool this module reads; its default table too. */
bool schema_sqlite_adopt_known(const char *from, const char **table);

/*
 * Adopts; the reply of io.migrated.SchemaAdopt ({adopted, rows, note}), or
 * NULL with err filled and *conflict true when it is the operator's to
 * settle (no such table, not the tool's layout), false for a database
 * error.
 */
json_t *schema_sqlite_adopt(sqlite3 *db,
                            const struct schema_sqlite_adopt_in *in,
                            bool *conflict, char *err, size_t errlen)
        __attribute__((warn_unused_result));

#endif
