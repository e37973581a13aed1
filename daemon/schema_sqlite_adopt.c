#include "schema_sqlite_adopt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_adopt_match.h"
#include "schema_adopt_tools.h"
#include "schema_sqlite_history.h"

/*
 * One tool's SQLite table. query reads it with {T} for the table (and {V},
 * {N} for a plain table's columns) into the six columns of
 * schema_adopt_tools.h; SQLite has no regular expressions, so where
 * split_version (split_name) is set, the version (name) is cut here from
 * the row's foreign name: its leading digits, and what follows them
 * without a separator and an extension ("20240101_create_users.js").
 * Layouts, as each tool creates them on SQLite (tests/e2e/
 * adopt_layouts_sqlite.py cites where each comes from).
 */
struct sqlite_tool {
	const char *from;
	const char *table;
	bool split_version, split_name;
	const char *query;
};

#define DIGITS(x) "(" x " GLOB '[0-9]*' AND " x " NOT GLOB '*[^0-9]*')"

static const struct sqlite_tool tools[] = {
        /* id is "SERIAL PRIMARY KEY", which SQLite does not fill: the
         * rows' order is created_at, then insertion */
        {"drizzle", "__drizzle_migrations", false, false,
         "SELECT coalesce(CAST(id AS TEXT), CAST(rowid AS TEXT))"
         " || ' (sha256 ' || substr(hash, 1, 12) || ')', NULL, NULL, hash,"
         " 'ok', NULL FROM {T} ORDER BY created_at, rowid"},
        {"kysely", "kysely_migration", true, true,
         "SELECT name, NULL, NULL, NULL, 'ok', NULL FROM {T} ORDER BY name"},
        {"typeorm", "migrations", false, false,
         "SELECT name, CAST(timestamp AS TEXT), rtrim(name, '0123456789'),"
         " NULL, 'ok', NULL FROM {T} ORDER BY id"},
        {"knex", "knex_migrations", true, true,
         "SELECT name, NULL, NULL, NULL, 'ok', NULL FROM {T} ORDER BY id"},
        {"golang-migrate", "schema_migrations", false, false,
         "SELECT CAST(version AS TEXT), CAST(version AS TEXT), NULL, NULL,"
         " CASE WHEN dirty THEN 'dirty' ELSE 'ok' END,"
         " CASE WHEN dirty THEN 'golang-migrate marked version ' || version"
         " || ' dirty (it failed half-way): fix the database, run migrate"
         " force, then adopt again' END FROM {T}"},
        /* goose: a version's newest row says whether it is applied */
        {"goose", "goose_db_version", false, false,
         "SELECT CAST(version_id AS TEXT), CAST(version_id AS TEXT), NULL,"
         " NULL, CASE WHEN version_id = 0 OR NOT is_applied THEN 'ignored'"
         " ELSE 'ok' END,"
         " CASE WHEN version_id = 0 THEN 'goose''s initial row (version 0)'"
         " WHEN NOT is_applied THEN 'rolled back in goose (its newest row"
         " has is_applied = false): not applied' END"
         " FROM {T} g WHERE id = (SELECT max(id) FROM {T} h"
         "  WHERE h.version_id = g.version_id) ORDER BY version_id"},
        {"dbmate", "schema_migrations", false, false,
         "SELECT version, CASE WHEN " DIGITS(
                 "version") " THEN version END,"
                            " NULL, NULL, CASE WHEN " DIGITS(
                                    "version") " THEN 'ok'"
                                               " ELSE 'unmatched' END, CASE WHEN NOT " DIGITS(
                                                       "version") " THEN"
                                                                  " 'not a number: migrated''s versions are NNN' END"
                                                                  " FROM {T} ORDER BY version"},
        {"prisma", "_prisma_migrations", true, true,
         "SELECT p.migration_name, NULL, NULL, NULL,"
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
        {"table", NULL, true, false,
         "SELECT CAST({V} AS TEXT), NULL, {N}, NULL,"
         " CASE WHEN CAST({V} AS TEXT) GLOB '[0-9]*' THEN 'ok'"
         " ELSE 'unmatched' END, CASE WHEN CAST({V} AS TEXT) NOT GLOB"
         " '[0-9]*' THEN 'its version does not start with a number' END"
         " FROM {T} ORDER BY 1"},
};

static const struct sqlite_tool *
tool_of(const char *from)
{
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (strcmp(tools[i].from, from) == 0)
			return &tools[i];
	return NULL;
}

bool
schema_sqlite_adopt_known(const char *from, const char **table)
{
	const struct sqlite_tool *t = tool_of(from);

	if (t != NULL && table != NULL)
		*table = t->table;
	return t != NULL;
}

/* name as a quoted SQLite identifier (sqlite3_malloc'd), or NULL. */
static char *
quoted(const char *name)
{
	return sqlite3_mprintf("\"%w\"", name);
}

/* text with every key replaced by value (sqlite3_malloc'd), or NULL. */
static char *
replace(char *text, const char *key, const char *value)
{
	const char *hit = strstr(text, key);
	char *out;

	if (hit == NULL)
		return text;
	out = sqlite3_mprintf("%.*s%s%s", (int)(hit - text), text, value,
	                      hit + strlen(key));
	sqlite3_free(text);
	return out != NULL ? replace(out, key, value) : NULL;
}

/* The leading digits of s, and the rest (no separator, no extension). */
static void
split(const char *s, char *version, size_t vlen, char *name, size_t nlen)
{
	size_t n = 0;
	const char *dot;

	while (isdigit((unsigned char)s[n]) && n + 1 < vlen) {
		version[n] = s[n];
		n++;
	}
	version[n] = '\0';
	s += n;
	if (n > 0 && (*s == '_' || *s == '-'))
		s++;
	dot = strchr(s, '.');
	snprintf(name, nlen, "%.*s",
	         dot != NULL ? (int)(dot - s) : (int)strlen(s), s);
}

struct foreign_rows {
	struct adopt_foreign *rows;
	char **strings; /* what the rows point into */
	size_t n, nstrings;
};

static void
foreign_free(struct foreign_rows *f)
{
	for (size_t i = 0; i < f->nstrings; i++)
		free(f->strings[i]);
	free(f->strings);
	free(f->rows);
}

static const char *
keep(struct foreign_rows *f, const char *s)
{
	char *copy;

	if (s == NULL)
		return NULL;
	copy = strdup(s);
	if (copy != NULL)
		f->strings[f->nstrings++] = copy;
	return copy;
}

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* The tool's rows; -1 with err (and *conflict when it is not the tool's
 * layout). */
static int
read_foreign(sqlite3 *db, const struct sqlite_tool *tool,
             const struct schema_sqlite_adopt_in *in, const char *label,
             struct foreign_rows *f, bool *conflict, char *err, size_t errlen)
{
	char *sql = sqlite3_mprintf("%s", tool->query), *q;
	sqlite3_stmt *st = NULL;
	size_t cap = 16;
	int rc;

	q = quoted(in->table != NULL ? in->table : tool->table);
	sql = sql != NULL && q != NULL ? replace(sql, "{T}", q) : NULL;
	sqlite3_free(q);
	if (sql != NULL && in->version_column != NULL) {
		q = quoted(in->version_column);
		sql = q != NULL ? replace(sql, "{V}", q) : NULL;
		sqlite3_free(q);
	}
	if (sql != NULL) {
		q = in->name_column != NULL ? quoted(in->name_column)
		                            : sqlite3_mprintf("NULL");
		sql = q != NULL ? replace(sql, "{N}", q) : NULL;
		sqlite3_free(q);
	}
	if (sql == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK) {
		*conflict = true;
		snprintf(
		        err, errlen,
		        "%s does not have the layout migrated reads for %s: %s",
		        label, tool->from, sqlite3_errmsg(db));
		return -1;
	}
	f->rows = calloc(cap, sizeof(*f->rows));
	f->strings = calloc(cap * 6, sizeof(*f->strings));
	while (f->rows != NULL && f->strings != NULL &&
	       (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct adopt_foreign *r;
		char version[64], name[512];

		if (f->n == cap) {
			void *a = realloc(f->rows, 2 * cap * sizeof(*f->rows));
			void *b = a != NULL ? realloc(f->strings,
			                              12 * cap * sizeof(char *))
			                    : NULL;
			if (a != NULL)
				f->rows = a;
			if (b == NULL)
				break;
			f->strings = b;
			cap *= 2;
		}
		r = &f->rows[f->n++];
		*r = (struct adopt_foreign){
		        .foreign =
		                keep(f, col(st, 0) != NULL ? col(st, 0) : "?"),
		        .version = keep(f, col(st, 1)),
		        .name = keep(f, col(st, 2)),
		        .hash = keep(f, col(st, 3)),
		        .state =
		                keep(f, col(st, 4) != NULL ? col(st, 4) : "ok"),
		        .message = keep(f, col(st, 5)),
		};
		if (r->foreign == NULL || r->state == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		split(r->foreign, version, sizeof(version), name, sizeof(name));
		if (tool->split_version)
			r->version =
			        version[0] != '\0' ? keep(f, version) : NULL;
		if (tool->split_name)
			r->name = keep(f, name);
		if (tool->split_version && r->version == NULL &&
		    strcmp(r->state, "ok") == 0) {
			r->state = "unmatched";
			r->message = "its name does not start with a number";
		}
	}
	sqlite3_finalize(st);
	if (f->rows == NULL || f->strings == NULL || rc != SQLITE_DONE) {
		snprintf(err, errlen, "reading %s: %s", label,
		         rc != SQLITE_DONE && rc != SQLITE_ROW
		                 ? sqlite3_errmsg(db)
		                 : "out of memory");
		return -1;
	}
	return 0;
}

static bool
table_exists(sqlite3 *db, const char *table)
{
	sqlite3_stmt *st = NULL;
	bool found = false;

	if (sqlite3_prepare_v2(
	            db,
	            "SELECT 1 FROM sqlite_schema WHERE type = 'table'"
	            " AND name = ?1 COLLATE NOCASE",
	            -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

static json_t *
rollback_null(sqlite3 *db)
{
	char ignore[64];

	if (!sqlite3_get_autocommit(db) &&
	    schema_sqlite_exec(db, "ROLLBACK", ignore, sizeof(ignore)) < 0)
		return NULL;
	return NULL;
}

/* Records report->insert (kind adopted, from label). */
static int
record_all(sqlite3 *db, const struct schema_sqlite_adopt_in *in,
           const char *label, const json_t *insert, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	json_array_foreach(insert, i, v)
	{
		struct schema_sqlite_row r = {
		        .set = in->set,
		        .version = (long long)json_integer_value(
		                json_object_get(v, "version")),
		        .name = json_string_value(json_object_get(v, "name")),
		        .checksum = json_string_value(
		                json_object_get(v, "checksum")),
		        .kind = "adopted",
		        .adopted_from = label,
		        .uid = in->uid,
		        .username = in->username,
		        .outcome = "succeeded",
		};
		if (schema_sqlite_history_insert(db, &r, err, errlen) < 0)
			return -1;
	}
	return 0;
}

json_t *
schema_sqlite_adopt(sqlite3 *db, const struct schema_sqlite_adopt_in *in,
                    bool *conflict, char *err, size_t errlen)
{
	const struct sqlite_tool *tool = tool_of(in->from);
	const struct adopt_tool *match = schema_adopt_tool(in->from);
	const char *table = in->table != NULL ? in->table : NULL;
	struct foreign_rows f = {0};
	struct adopt_report rep = {0};
	struct adopt_recorded *rec = NULL;
	struct adopt_sha256 *raw = NULL;
	json_t *hist = NULL, *reply = NULL;
	char label[512], *note;
	int adopted = 0;

	*conflict = false;
	err[0] = '\0';
	if (tool == NULL || match == NULL) {
		*conflict = true;
		snprintf(err, errlen,
		         "migrated does not read %s's table in SQLite",
		         in->from);
		return NULL;
	}
	if (table == NULL)
		table = tool->table;
	snprintf(label, sizeof(label), "%s (%s)", match->label, table);
	if (schema_sqlite_history_ensure(db, err, errlen) < 0 ||
	    schema_sqlite_exec(db, "BEGIN IMMEDIATE", err, errlen) < 0)
		return rollback_null(db);
	if (!table_exists(db, table)) {
		*conflict = true;
		snprintf(err, errlen,
		         "the SQLite file has no table %s: is %s's history "
		         "elsewhere? name it with --table TABLE",
		         table, match->label);
		return rollback_null(db);
	}
	if (read_foreign(db, tool, in, label, &f, conflict, err, errlen) < 0 ||
	    (hist = schema_sqlite_history_rows(db, in->set, err, errlen)) ==
	            NULL ||
	    (raw = schema_adopt_raw_checksums(in->dir)) == NULL ||
	    (rec = calloc(json_array_size(hist) + 1, sizeof(*rec))) == NULL ||
	    (rep.rows = json_array()) == NULL ||
	    (rep.insert = json_array()) == NULL) {
		if (err[0] == '\0')
			snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(hist); i++) {
		const json_t *r = json_array_get(hist, i);
		rec[i].version = (long long)json_integer_value(
		        json_object_get(r, "version"));
		rec[i].kind = json_string_value(json_object_get(r, "kind"));
		rec[i].checksum =
		        json_string_value(json_object_get(r, "checksum"));
		rec[i].failed = json_is_true(json_object_get(r, "failed"));
	}
	{
		struct adopt_match_in mi = {.tool = match,
		                            .set = in->set,
		                            .label = label,
		                            .dir = in->dir,
		                            .raw = raw,
		                            .rec = rec,
		                            .nrec = json_array_size(hist)};
		schema_adopt_match(&mi, f.rows, f.n, &rep);
		if (rep.blocked == 0 && json_array_size(rep.insert) > 0) {
			if (record_all(db, in, label, rep.insert, err, errlen) <
			            0 ||
			    schema_sqlite_exec(db, "COMMIT", err, errlen) < 0)
				goto out;
			adopted = (int)json_array_size(rep.insert);
		}
		note = schema_adopt_note(&mi, &rep, f.n);
	}
	reply = json_pack("{s:i, s:O, s:s}", "adopted", adopted, "rows",
	                  rep.rows, "note", note != NULL ? note : "");
	free(note);
out:
	rollback_null(db); /* nothing written, or already committed */
	foreign_free(&f);
	json_decref(hist);
	json_decref(rep.rows);
	json_decref(rep.insert);
	free(rec);
	free(raw);
	return reply;
}
