/*
 * The foreign tools SchemaAdopt reads (schema_adopt.c): one table row per
 * tool says where its history lives (the default table), the query that
 * reads it and how one of its rows finds its local file. Adding a tool is
 * a row here, nothing else.
 */
#ifndef SCHEMA_ADOPT_TOOLS_H
#define SCHEMA_ADOPT_TOOLS_H

#include "pg.h"

/* How a foreign row finds its local file. */
enum adopt_match {
	MATCH_VERSION, /* its version (else its name), names compared */
	MATCH_HASH,    /* the sha256 of the file's raw text (Drizzle) */
	MATCH_UP_TO,   /* the current version: every file up to it applied */
};

/*
 * One foreign tool. query reads its history with {T} standing for the
 * table (quoted, schema-qualified); its columns, in order: foreign (the
 * row as the tool names it), version (digits or NULL), name (or NULL),
 * hash (or NULL), state ("ok", "dirty", "failed", "ignored" or
 * "unmatched") and message (why, when state is not "ok").
 */
struct adopt_tool {
	const char *from;  /* SchemaAdopt's from */
	const char *label; /* in adopted_from and messages */
	const char *table; /* default: [schema.]table (search_path if bare) */
	enum adopt_match match;
	const char *query;
};

/* The tool SchemaAdopt's from names; NULL when unknown. */
const struct adopt_tool *schema_adopt_tool(const char *from);

/*
 * The tool's query on the table the catalog found (nspname, relname),
 * with its columns when the tool is a plain table (version_column and, or
 * NULL, name_column), every name quoted on conn; malloc'd, or NULL when
 * out of memory.
 */
char *schema_adopt_tool_sql(const struct adopt_tool *tool, struct pg_conn *conn,
                            const char *nspname, const char *relname,
                            const char *version_column, const char *name_column)
        __attribute__((warn_unused_result));

#endif
