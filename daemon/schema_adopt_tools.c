/*
 * The table of foreign tools (schema_adopt_tools.h): each one's history
 * table and the query that reads it, in the columns schema_adopt_match.c
 * matches.
 */
#include "schema_adopt_tools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The version prefix of a name, and the name without it (and extension) */
#define PREFIX_OF(col) "substring(" col " from '^([0-9]+)')"
#define REST_OF(col)                                                           \
	"regexp_replace(regexp_replace(" col ", '^[0-9]+[_-]?', ''),"          \
	" '\\..*$', '')"

static const struct adopt_tool tools[] = {
        {"flyway", "Flyway", "flyway_schema_history", MATCH_VERSION,
         "SELECT coalesce(version, script), CASE WHEN version ~ '^[0-9]+$'"
         " THEN version END, description, NULL,"
         " CASE WHEN type = 'SCHEMA' OR type = 'DELETE' THEN 'ignored'"
         " WHEN NOT success THEN 'failed'"
         " WHEN version IS NULL THEN 'ignored'"
         " WHEN version !~ '^[0-9]+$' THEN 'unmatched' ELSE 'ok' END,"
         " CASE WHEN type = 'SCHEMA' THEN 'Flyway''s schema creation row'"
         " WHEN type = 'DELETE' THEN 'deleted by flyway repair'"
         " WHEN NOT success THEN 'failed in Flyway: repair or finish it with"
         " Flyway first'"
         " WHEN version IS NULL THEN 'a repeatable migration (R__): migrated"
         " has none; keep it out of the set or make it a versioned file'"
         " WHEN version !~ '^[0-9]+$' THEN 'version ' || version ||"
         " ' is not a whole number: rename the file to NNN_name.sql' END"
         " FROM {T} ORDER BY installed_rank"},
        {"liquibase", "Liquibase", "databasechangelog", MATCH_VERSION,
         "SELECT id || ' (' || author || ', ' || filename || ')',"
         " coalesce(" PREFIX_OF(
                 "regexp_replace(filename, '^.*/', '')") ","
                                                         " CASE WHEN id ~ '^[0-9]+$' THEN id END),"
                                                         " CASE WHEN regexp_replace(filename, '^.*/', '') ~ '^[0-9]+'"
                                                         " THEN " REST_OF(
                                                                 "regexp_replace(filename, '^.*/', '')") " WHEN id !~ '^[0-9]+$' THEN id END, NULL,"
                                                                                                         " CASE WHEN exectype = 'FAILED' THEN 'failed'"
                                                                                                         " WHEN exectype = 'SKIPPED' THEN 'ignored' ELSE 'ok' END,"
                                                                                                         " CASE WHEN exectype = 'FAILED' THEN 'failed in Liquibase'"
                                                                                                         " WHEN exectype = 'SKIPPED' THEN 'skipped by Liquibase' END"
                                                                                                         " FROM {T} ORDER BY orderexecuted"},
        {"sqitch", "sqitch", "sqitch.changes", MATCH_VERSION,
         "SELECT project || ':' || change, " PREFIX_OF(
                 "change") ","
                           " regexp_replace(change, '^[0-9]+[_-]?', ''), NULL, 'ok', NULL"
                           " FROM {T} ORDER BY committed_at, change"},
        {"drizzle", "Drizzle", "drizzle.__drizzle_migrations", MATCH_HASH,
         "SELECT id::text || ' (sha256 ' || left(hash, 12) || ')', NULL,"
         " NULL, hash, 'ok', NULL FROM {T} ORDER BY id"},
        {"kysely", "Kysely", "kysely_migration", MATCH_VERSION,
         "SELECT name, " PREFIX_OF("name") ", " REST_OF(
                 "name") ","
                         " NULL, 'ok', NULL FROM {T} ORDER BY name"},
        {"typeorm", "TypeORM", "migrations", MATCH_VERSION,
         "SELECT name, timestamp::text, regexp_replace(name, '[0-9]+$', ''),"
         " NULL, 'ok', NULL FROM {T} ORDER BY id"},
        {"knex", "Knex", "knex_migrations", MATCH_VERSION,
         "SELECT name, " PREFIX_OF("name") ", " REST_OF(
                 "name") ","
                         " NULL, 'ok', NULL FROM {T} ORDER BY id"},
        {"golang-migrate", "golang-migrate", "schema_migrations", MATCH_UP_TO,
         "SELECT version::text, version::text, NULL, NULL,"
         " CASE WHEN dirty THEN 'dirty' ELSE 'ok' END,"
         " CASE WHEN dirty THEN 'golang-migrate marked version ' || version"
         " || ' dirty (it failed half-way): fix the database, run migrate"
         " force, then adopt again' END FROM {T}"},
        {"goose", "goose", "goose_db_version", MATCH_VERSION,
         "SELECT DISTINCT ON (version_id) version_id::text,"
         " version_id::text, NULL, NULL,"
         " CASE WHEN version_id = 0 OR NOT is_applied THEN 'ignored'"
         " ELSE 'ok' END,"
         " CASE WHEN version_id = 0 THEN 'goose''s initial row (version 0)'"
         " WHEN NOT is_applied THEN 'rolled back in goose (its newest row"
         " has is_applied = false): not applied' END"
         " FROM {T} ORDER BY version_id, id DESC"},
        {"dbmate", "dbmate", "schema_migrations", MATCH_VERSION,
         "SELECT version, CASE WHEN version ~ '^[0-9]+$' THEN version END,"
         " NULL, NULL, CASE WHEN version ~ '^[0-9]+$' THEN 'ok'"
         " ELSE 'unmatched' END, CASE WHEN version !~ '^[0-9]+$' THEN"
         " 'not a number: migrated''s versions are NNN' END"
         " FROM {T} ORDER BY version"},
        {"rails", "Rails", "schema_migrations", MATCH_VERSION,
         "SELECT version, CASE WHEN version ~ '^[0-9]+$' THEN version END,"
         " NULL, NULL, CASE WHEN version ~ '^[0-9]+$' THEN 'ok'"
         " ELSE 'unmatched' END, CASE WHEN version !~ '^[0-9]+$' THEN"
         " 'not a number: migrated''s versions are NNN' END"
         " FROM {T} ORDER BY version"},
        {"prisma", "Prisma", "_prisma_migrations", MATCH_VERSION,
         "SELECT p.migration_name, " PREFIX_OF(
                 "p.migration_name") ","
                                     " regexp_replace(p.migration_name, '^[0-9]+_?', ''), NULL,"
                                     " CASE WHEN p.rolled_back_at IS NOT NULL AND EXISTS (SELECT 1"
                                     " FROM {T} q WHERE q.migration_name = p.migration_name AND"
                                     " q.finished_at IS NOT NULL AND q.rolled_back_at IS NULL)"
                                     " THEN 'ignored' WHEN p.rolled_back_at IS NOT NULL"
                                     " OR p.finished_at IS NULL THEN 'failed' ELSE 'ok' END,"
                                     " CASE WHEN p.rolled_back_at IS NOT NULL AND EXISTS (SELECT 1"
                                     " FROM {T} q WHERE q.migration_name = p.migration_name AND"
                                     " q.finished_at IS NOT NULL AND q.rolled_back_at IS NULL)"
                                     " THEN 'rolled back, then applied again (a later row)'"
                                     " WHEN p.rolled_back_at IS NOT NULL THEN 'rolled back in Prisma"
                                     " (rolled_back_at is set): not applied; apply it with Prisma or"
                                     " remove the row, then adopt again'"
                                     " WHEN p.finished_at IS NULL THEN 'unfinished in Prisma"
                                     " (finished_at is NULL: it failed or is running): resolve it with"
                                     " prisma migrate resolve, then adopt again' END"
                                     " FROM {T} p ORDER BY p.started_at, p.migration_name"},
        {"alembic", "Alembic", "alembic_version", MATCH_UP_TO,
         "SELECT version_num, CASE WHEN version_num ~ '^[0-9]+$'"
         " THEN version_num END, version_num, NULL, 'ok', NULL"
         " FROM {T} ORDER BY version_num"},
        /* a plain table: {V} and {N} are the operator's columns */
        {"table", "table", NULL, MATCH_VERSION,
         "SELECT {V}::text, " PREFIX_OF(
                 "{V}::text") ", {N}, NULL,"
                              " CASE WHEN {V}::text ~ '^[0-9]+' THEN 'ok' ELSE 'unmatched' END,"
                              " CASE WHEN {V}::text !~ '^[0-9]+' THEN 'its version does not"
                              " start with a number' END FROM {T} ORDER BY 1"},
};

const struct adopt_tool *
schema_adopt_tool(const char *from)
{
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (strcmp(tools[i].from, from) == 0)
			return &tools[i];
	return NULL;
}

/* ---- SQL text ---- */

/* text with every "{K}" replaced by value (malloc'd), or NULL. */
static char *
replace(const char *text, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value), n = 0;
	const char *p;
	char *out, *o;

	for (p = strstr(text, key); p != NULL; p = strstr(p + klen, key))
		n++;
	out = malloc(strlen(text) + n * vlen + 1);
	if (out == NULL)
		return NULL;
	o = out;
	for (p = text;;) {
		const char *hit = strstr(p, key);
		size_t len = hit != NULL ? (size_t)(hit - p) : strlen(p);
		memcpy(o, p, len);
		o += len;
		if (hit == NULL)
			break;
		memcpy(o, value, vlen);
		o += vlen;
		p = hit + klen;
	}
	*o = '\0';
	return out;
}

char *
schema_adopt_tool_sql(const struct adopt_tool *tool, struct pg_conn *conn,
                      const char *nspname, const char *relname,
                      const char *version_column, const char *name_column)
{
	char *qs = pg_escape_ident(conn, nspname);
	char *qt = pg_escape_ident(conn, relname);
	char *table = NULL, *sql = NULL, *next;

	if (qs != NULL && qt != NULL && asprintf(&table, "%s.%s", qs, qt) < 0)
		table = NULL;
	free(qs);
	free(qt);
	if (table == NULL)
		return NULL;
	sql = replace(tool->query, "{T}", table);
	free(table);
	if (sql != NULL && version_column != NULL) {
		char *qv = pg_escape_ident(conn, version_column);
		next = qv != NULL ? replace(sql, "{V}", qv) : NULL;
		free(qv);
		free(sql);
		sql = next;
	}
	if (sql != NULL && strstr(sql, "{N}") != NULL) {
		char *qn = name_column != NULL
		                   ? pg_escape_ident(conn, name_column)
		                   : strdup("NULL::text");
		if (qn != NULL && name_column != NULL) {
			char *cast = NULL;
			if (asprintf(&cast, "%s::text", qn) < 0)
				cast = NULL;
			free(qn);
			qn = cast;
		}
		next = qn != NULL ? replace(sql, "{N}", qn) : NULL;
		free(qn);
		free(sql);
		sql = next;
	}
	return sql;
}
