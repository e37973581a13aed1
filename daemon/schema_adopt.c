#include "schema_adopt.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "config.h"
#include "daemon.h"
#include "dbcall.h"
#include "log.h"
#include "pg.h"
#include "schema_files.h"
#include "schema_history.h"
#include "vl_names.h"

#define CONNECT_TIMEOUT_SEC 30

#define NAME_MAX_LEN 63

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

struct adopt_args {
	const char *set;
	const char *from;
	const char *table;
	const char *version_column;
	const char *name_column;
};

static const struct vl_field adopt_fields[] = {
        VL_FIELD_STRING("set", 0, struct adopt_args, set, 1, NAME_MAX_LEN),
        VL_FIELD_STRING("from", VL_REQUIRED, struct adopt_args, from, 1, 64),
        VL_FIELD_STRING("table", 0, struct adopt_args, table, 1,
                        2 * NAME_MAX_LEN + 1),
        VL_FIELD_STRING("version_column", 0, struct adopt_args, version_column,
                        1, NAME_MAX_LEN),
        VL_FIELD_STRING("name_column", 0, struct adopt_args, name_column, 1,
                        NAME_MAX_LEN),
        VL_FIELDS_END,
};
const struct vl_params schema_adopt_params =
        VL_PARAMS(struct adopt_args, adopt_fields);

enum adopt_step {
	STEP_CONNECT,
	STEP_ENSURE,
	STEP_BEGIN,
	STEP_LOCK,
	STEP_RESOLVE,
	STEP_FOREIGN,
	STEP_HISTORY,
	STEP_RECORD,
	STEP_COMMIT,
	STEP_DONE,
};

/* What the set's history says of one version. */
struct recorded {
	long long version;
	const char *kind;     /* of its newest succeeded row; NULL when none */
	const char *checksum; /* of that row */
	bool failed;          /* its newest row failed */
};

/* One adopt call, from the connection to the reply. */
struct adopt {
	struct control_req *req;
	struct daemon *d;
	const struct adopt_tool *tool;
	char *set;
	char *database; /* "target" or the [database NAME] */
	char *table;    /* [schema.]table as asked */
	char *version_column, *name_column;
	char *label; /* "Drizzle (drizzle.__drizzle_migrations)" */
	struct schema_dir *dir;
	char (*raw)[SCHEMA_CHECKSUM_LEN + 1]; /* sha256 of each file as read */
	struct pg_conn *conn;
	struct event *timer;
	enum adopt_step step;
	PGresult *foreign; /* the tool's rows, kept until the history arrives */
	json_t *rows;      /* []AdoptedRow */
	json_t *insert;    /* [{version, name, checksum}] to record */
	int blocked;       /* rows that stop the adopt */
	int already;
	size_t recording; /* inserts not answered yet */
	bool replied;
	uid_t uid;
};

static void adopt_next(struct adopt *a);

/* ---- teardown ---- */

static void
adopt_free(struct adopt *a)
{
	if (a->timer != NULL)
		event_free(a->timer);
	pg_conn_free(a->conn);
	PQclear(a->foreign);
	json_decref(a->rows);
	json_decref(a->insert);
	schema_dir_free(a->dir);
	free(a->raw);
	free(a->set);
	free(a->database);
	free(a->table);
	free(a->version_column);
	free(a->name_column);
	free(a->label);
	free(a);
}

/* Never from inside the connection's own callbacks: on the next loop turn. */
static void
on_free(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	adopt_free(arg);
}

static void
adopt_end(struct adopt *a)
{
	a->step = STEP_DONE;
	if (a->timer != NULL)
		event_del(a->timer);
	if (event_base_once(a->d->base, -1, EV_TIMEOUT, on_free, a, NULL) < 0)
		log_error("adopt: cannot schedule its cleanup; leaking it");
}

/* Replies with error (steals params), rolling back what was begun. */
static void
adopt_fail(struct adopt *a, const char *error, json_t *params)
{
	if (!a->replied) {
		a->replied = true;
		control_error(a->req, error, params);
	} else {
		json_decref(params);
	}
	/* the connection is ours and closed next: an open transaction
	 * rolls back with it */
	adopt_end(a);
}

__attribute__((format(printf, 3, 4))) static void
adopt_conflict(struct adopt *a, long long version, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warning("adopt %s from %s: %s", a->set, a->tool->from, msg);
	adopt_fail(a, VL_ERROR_SCHEMA_CONFLICT,
	           json_pack("{s:s, s:I, s:s}", "set", a->set, "version",
	                     (json_int_t)version, "message", msg));
}

static void
adopt_unavailable(struct adopt *a, const char *why)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), "schema set %s: database %s: %s", a->set,
	         a->database, why != NULL ? why : "not connected");
	adopt_fail(a, VL_ERROR_DATABASE_UNAVAILABLE,
	           json_pack("{s:s}", "message", msg));
}

/* ---- the connection ---- */

static void
on_state(void *arg, enum pg_state state, const char *error)
{
	struct adopt *a = arg;

	if (a->step == STEP_DONE || a->conn == NULL)
		return;
	if (state == PG_READY && a->step == STEP_CONNECT) {
		adopt_next(a);
	} else if (state == PG_DISCONNECTED) {
		/* a query in flight fails with its own callback */
		if (a->step == STEP_CONNECT)
			adopt_unavailable(a, error);
	}
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct adopt *a = arg;

	(void)fd;
	(void)what;
	if (a->step == STEP_CONNECT)
		adopt_unavailable(a, pg_conn_error(a->conn) != NULL
		                             ? pg_conn_error(a->conn)
		                             : "no connection within 30 s");
}

/* The step's result: false (and the reply sent) when it failed. */
static bool
result_ok(struct adopt *a, const PGresult *res, const char *error)
{
	char buf[768];

	if (res == NULL) {
		adopt_unavailable(a, error);
		return false;
	}
	if (pg_result_ok(res))
		return true;
	pg_result_error(res, buf, sizeof(buf));
	if (a->step == STEP_FOREIGN)
		adopt_conflict(a, 0,
		               "%s does not have the layout migrated reads for "
		               "%s: %s",
		               a->label, a->tool->label, buf);
	else
		adopt_fail(a, VL_ERROR_DATABASE_ERROR,
		           json_pack("{s:s, s:s}", "message", buf, "sqlstate",
		                     PQresultErrorField(res, PG_DIAG_SQLSTATE)
		                             ? PQresultErrorField(
		                                       res, PG_DIAG_SQLSTATE)
		                             : ""));
	return false;
}

static void on_result(void *arg, const PGresult *res, const char *error);

static void
query(struct adopt *a, const char *sql, int n, const char *const *values)
{
	if (pg_query(a->conn, sql, n, values, on_result, a) < 0)
		adopt_unavailable(a, pg_conn_error(a->conn));
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

/* A quoted identifier, or a quoted schema.table (split at the first dot). */
static char *
quoted_name(struct pg_conn *conn, const char *name)
{
	const char *dot = strchr(name, '.');
	char *schema, *table, *out;

	if (dot == NULL)
		return pg_escape_ident(conn, name);
	schema = strndup(name, (size_t)(dot - name));
	table = pg_escape_ident(conn, dot + 1);
	out = NULL;
	if (schema != NULL && table != NULL) {
		char *qs = pg_escape_ident(conn, schema);
		if (qs != NULL && asprintf(&out, "%s.%s", qs, table) < 0)
			out = NULL;
		free(qs);
	}
	free(schema);
	free(table);
	return out;
}

/* The tool's query on the table the catalog found (nspname, relname). */
static char *
foreign_sql(struct adopt *a, const char *nspname, const char *relname)
{
	char *qs = pg_escape_ident(a->conn, nspname);
	char *qt = pg_escape_ident(a->conn, relname);
	char *table = NULL, *sql = NULL, *next;

	if (qs != NULL && qt != NULL && asprintf(&table, "%s.%s", qs, qt) < 0)
		table = NULL;
	free(qs);
	free(qt);
	if (table == NULL)
		return NULL;
	sql = replace(a->tool->query, "{T}", table);
	free(table);
	if (sql != NULL && a->version_column != NULL) {
		char *qv = pg_escape_ident(a->conn, a->version_column);
		next = qv != NULL ? replace(sql, "{V}", qv) : NULL;
		free(qv);
		free(sql);
		sql = next;
	}
	if (sql != NULL && strstr(sql, "{N}") != NULL) {
		char *qn = a->name_column != NULL
		                   ? pg_escape_ident(a->conn, a->name_column)
		                   : strdup("NULL::text");
		if (qn != NULL && a->name_column != NULL) {
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

/* ---- matching ---- */

/* Names compared by their letters and digits only, case folded. */
static bool
same_name(const char *x, const char *y)
{
	for (;;) {
		while (*x != '\0' && !isalnum((unsigned char)*x))
			x++;
		while (*y != '\0' && !isalnum((unsigned char)*y))
			y++;
		if (*x == '\0' || *y == '\0')
			return *x == *y;
		if (tolower((unsigned char)*x) != tolower((unsigned char)*y))
			return false;
		x++;
		y++;
	}
}

/* name starts with prefix (an Alembic revision in "NNN_rev_slug"). */
static bool
name_starts(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return n > 0 && strncasecmp(name, prefix, n) == 0 &&
	       (name[n] == '\0' || !isalnum((unsigned char)name[n]));
}

static const struct schema_file *
find_by_name(const struct adopt *a, const char *name)
{
	for (size_t i = 0; i < a->dir->n; i++)
		if (same_name(a->dir->files[i].name, name) ||
		    (a->tool->match == MATCH_UP_TO &&
		     name_starts(a->dir->files[i].name, name)))
			return &a->dir->files[i];
	return NULL;
}

static const struct schema_file *
find_by_hash(const struct adopt *a, const char *hash)
{
	for (size_t i = 0; i < a->dir->n; i++)
		if (strcasecmp(a->raw[i], hash) == 0 ||
		    strcasecmp(a->dir->files[i].checksum, hash) == 0)
			return &a->dir->files[i];
	return NULL;
}

static const struct recorded *
find_recorded(const struct recorded *rec, size_t n, long long version)
{
	for (size_t i = 0; i < n; i++)
		if (rec[i].version == version)
			return &rec[i];
	return NULL;
}

static void
add_row(struct adopt *a, const char *foreign, const struct schema_file *f,
        long long version, const char *outcome, const char *message)
{
	json_t *row = json_pack("{s:s, s:o, s:s, s:s?}", "foreign", foreign,
	                        "version",
	                        f != NULL      ? json_integer(f->version)
	                        : version >= 0 ? json_integer(version)
	                                       : json_null(),
	                        "outcome", outcome, "message", message);

	if (row != NULL)
		json_array_append_new(a->rows, row);
	if (strcmp(outcome, "conflict") == 0 ||
	    strcmp(outcome, "unmatched") == 0 ||
	    strcmp(outcome, "dirty") == 0 || strcmp(outcome, "failed") == 0)
		a->blocked++;
}

static bool
scheduled(const struct adopt *a, long long version)
{
	size_t i;
	json_t *v;

	json_array_foreach(a->insert, i, v)
	{
		if (json_integer_value(json_object_get(v, "version")) ==
		    version)
			return true;
	}
	return false;
}

/* Local file f is applied, says the foreign row: what the history says. */
static void
check_file(struct adopt *a, const char *foreign, const struct schema_file *f,
           const struct recorded *rec, size_t nrec, const char *why)
{
	const struct recorded *r = find_recorded(rec, nrec, f->version);
	char msg[768];

	if (r != NULL && schema_history_kind_applied(r->kind)) {
		if (r->checksum == NULL ||
		    strcmp(r->checksum, f->checksum) == 0) {
			snprintf(msg, sizeof(msg), "recorded before (%s)%s%s",
			         r->kind, why != NULL ? "; " : "",
			         why != NULL ? why : "");
			add_row(a, foreign, f, -1, "already", msg);
			a->already++;
			return;
		}
		snprintf(
		        msg, sizeof(msg),
		        "recorded as %s with checksum %.12s, but %s has %.12s: "
		        "the file changed since; restore it, or accept it with "
		        "schema repair",
		        r->kind, r->checksum, f->path, f->checksum);
		add_row(a, foreign, f, -1, "conflict", msg);
		return;
	}
	if (r != NULL && r->kind != NULL) {
		snprintf(
		        msg, sizeof(msg),
		        "migrated recorded it as %s since: %s's table is older "
		        "than the set's history; leave it out (it is not applied)",
		        r->kind, a->tool->label);
		add_row(a, foreign, f, -1, "conflict", msg);
		return;
	}
	if (r != NULL && r->failed) {
		snprintf(msg, sizeof(msg),
		         "migrated's last apply of it failed: check what the "
		         "database holds, then apply it or record it with "
		         "schema baseline");
		add_row(a, foreign, f, -1, "conflict", msg);
		return;
	}
	if (!scheduled(a, f->version)) {
		json_t *ins = json_pack("{s:I, s:s, s:s}", "version",
		                        (json_int_t)f->version, "name", f->name,
		                        "checksum", f->checksum);
		if (ins != NULL)
			json_array_append_new(a->insert, ins);
	}
	add_row(a, foreign, f, -1, "adopted", why);
}

static bool
parse_version(const char *text, long long *out)
{
	char *end;

	if (text == NULL || *text == '\0')
		return false;
	errno = 0;
	*out = strtoll(text, &end, 10);
	return errno == 0 && *end == '\0' && *out >= 0;
}

/* One row of the tool's history. */
static void
match_row(struct adopt *a, const PGresult *res, int i,
          const struct recorded *rec, size_t nrec)
{
	const char *foreign = PQgetvalue(res, i, 0);
	const char *vtext =
	        PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1);
	const char *name =
	        PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
	const char *hash =
	        PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3);
	const char *state = PQgetvalue(res, i, 4);
	const char *message =
	        PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5);
	const struct schema_file *f = NULL;
	long long version = -1;
	char msg[768];

	if (name != NULL && *name == '\0')
		name = NULL;
	if (vtext != NULL && !parse_version(vtext, &version)) {
		snprintf(msg, sizeof(msg), "version %s is out of range", vtext);
		add_row(a, foreign, NULL, -1, "unmatched", msg);
		return;
	}
	if (strcmp(state, "ok") != 0) {
		add_row(a, foreign, NULL, version, state, message);
		return;
	}
	if (a->tool->match == MATCH_HASH) {
		f = hash != NULL ? find_by_hash(a, hash) : NULL;
		if (f == NULL) {
			snprintf(msg, sizeof(msg),
			         "no file in %s has sha256 %s (edited after %s "
			         "ran it, or not copied into the set)",
			         a->dir->dir, hash != NULL ? hash : "(none)",
			         a->tool->label);
			add_row(a, foreign, NULL, -1, "unmatched", msg);
			return;
		}
	} else if (version >= 0) {
		f = schema_dir_find(a->dir, version);
		if (f == NULL) {
			snprintf(
			        msg, sizeof(msg),
			        "no file %lld_*.sql in %s: add the file %s ran, "
			        "or the set is missing it",
			        version, a->dir->dir, a->tool->label);
			add_row(a, foreign, NULL, version, "unmatched", msg);
			return;
		}
		if (name != NULL && a->tool->match != MATCH_UP_TO &&
		    !same_name(name, f->name)) {
			snprintf(
			        msg, sizeof(msg),
			        "%s names it \"%s\", but the file is %s: is it "
			        "the same migration? rename one of them",
			        a->tool->label, name, f->path);
			add_row(a, foreign, f, -1, "conflict", msg);
			return;
		}
	} else if (name != NULL) {
		f = find_by_name(a, name);
		if (f == NULL) {
			snprintf(
			        msg, sizeof(msg),
			        "no file NNN_%s.sql in %s: add the file %s ran",
			        name, a->dir->dir, a->tool->label);
			add_row(a, foreign, NULL, -1, "unmatched", msg);
			return;
		}
	} else {
		add_row(a, foreign, NULL, -1, "unmatched",
		        "the row names neither a version nor a name");
		return;
	}
	if (a->tool->match != MATCH_UP_TO) {
		check_file(a, foreign, f, rec, nrec, NULL);
		return;
	}
	/* a current version: every file up to it counts as applied */
	for (size_t k = 0;
	     k < a->dir->n && a->dir->files[k].version <= f->version; k++) {
		const struct schema_file *g = &a->dir->files[k];
		snprintf(
		        msg, sizeof(msg),
		        "%s keeps only its current version (%s): every file up "
		        "to %lld counts as applied",
		        a->tool->label, foreign, f->version);
		check_file(a, foreign, g, rec, nrec, msg);
	}
}

static const char *
plural(int n)
{
	return n == 1 ? "" : "s";
}

/* A row adopted or already recorded names version. */
static bool
matched(const struct adopt *a, long long version)
{
	size_t i;
	json_t *row;

	json_array_foreach(a->rows, i, row)
	{
		const char *o =
		        json_string_value(json_object_get(row, "outcome"));
		if (json_integer_value(json_object_get(row, "version")) ==
		            version &&
		    json_is_integer(json_object_get(row, "version")) &&
		    (strcmp(o, "adopted") == 0 || strcmp(o, "already") == 0))
			return true;
	}
	return false;
}

/*
 * Local files older than the newest matched version that the tool's table
 * does not name: they stay pending, out of order. "" when none.
 */
static void
gaps(const struct adopt *a, char *buf, size_t len)
{
	long long newest = -1;
	size_t i, n = 0, used = 0;
	json_t *row;

	buf[0] = '\0';
	json_array_foreach(a->rows, i, row)
	{
		long long v =
		        json_integer_value(json_object_get(row, "version"));
		if (matched(a, v) && v > newest)
			newest = v;
	}
	for (i = 0; i < a->dir->n && a->dir->files[i].version < newest; i++) {
		const struct schema_file *f = &a->dir->files[i];
		int w;

		if (matched(a, f->version))
			continue;
		w = snprintf(buf + used, len - used, "%s%s", n == 0 ? "" : ", ",
		             f->path);
		n++;
		if (w < 0 || (size_t)w >= len - used) {
			buf[used] = '\0';
			break;
		}
		used += (size_t)w;
	}
	if (n > 0) {
		char list[512];
		snprintf(list, sizeof(list), "%s", buf);
		snprintf(
		        buf, len,
		        ". Not in %s, though older than the newest adopted "
		        "version: %s; they stay pending (status shows them out "
		        "of order): apply them, or record them with schema "
		        "baseline if the database already has them",
		        a->label, list);
	}
}

/* The note: what happened and what the operator does next. */
static char *
adopt_note(struct adopt *a, size_t nforeign)
{
	char *note = NULL;
	int adopted = (int)json_array_size(a->insert);
	char older[1024];
	int r;

	if (nforeign == 0)
		r = asprintf(&note, "%s is empty: nothing to adopt", a->label);
	else if (a->blocked > 0)
		r = asprintf(
		        &note,
		        "nothing recorded: %d row%s of %s did not match (see "
		        "rows: conflict, unmatched, dirty or failed); fix "
		        "them and adopt again. Until then %s stays the only "
		        "record of those versions",
		        a->blocked, plural(a->blocked), a->label, a->label);
	else {
		gaps(a, older, sizeof(older));
		r = asprintf(
		        &note,
		        "%d version%s adopted, %d already recorded: every "
		        "row of %s is in migrated.schema_history of set %s. "
		        "That table is no longer needed by migrated; drop it "
		        "once %s no longer runs%s%s",
		        adopted, plural(adopted), a->already, a->label, a->set,
		        a->tool->table != NULL ? a->tool->label
		                               : "the runner that writes it",
		        a->tool->match == MATCH_UP_TO
		                ? " (it kept only a current version: the "
		                  "files up to it were taken as applied)"
		                : "",
		        older);
	}
	return r < 0 ? NULL : note;
}

static void
reply_report(struct adopt *a, int adopted)
{
	char *note = adopt_note(a, (size_t)PQntuples(a->foreign));

	log_info("adopt %s from %s: %d adopted, %d already, %d refused", a->set,
	         a->label, adopted, a->already, a->blocked);
	a->replied = true;
	control_reply(a->req,
	              json_pack("{s:i, s:O, s:s}", "adopted", adopted, "rows",
	                        a->rows, "note", note != NULL ? note : ""));
	free(note);
}

/* Queues one history row (kind adopted) per version in a->insert. */
static void
record_all(struct adopt *a)
{
	struct passwd *pw = getpwuid(a->uid);
	char uid_s[24], version_s[24];
	const char *values[13];
	size_t i;
	json_t *v;

	snprintf(uid_s, sizeof(uid_s), "%d", (int)a->uid);
	a->step = STEP_RECORD;
	json_array_foreach(a->insert, i, v)
	{
		snprintf(version_s, sizeof(version_s), "%lld",
		         (long long)json_integer_value(
		                 json_object_get(v, "version")));
		values[0] = a->set;
		values[1] = version_s;
		values[2] = json_string_value(json_object_get(v, "name"));
		values[3] = json_string_value(json_object_get(v, "checksum"));
		values[4] = "adopted";
		values[5] = a->label;
		values[6] = uid_s;
		values[7] = pw != NULL ? pw->pw_name : NULL;
		values[8] = NULL; /* no job: adopt runs nothing */
		values[9] = NULL; /* started now */
		values[10] = "0";
		values[11] = "succeeded";
		values[12] = NULL;
		if (pg_query(a->conn, schema_history_insert_sql, 13, values,
		             on_result, a) < 0) {
			adopt_unavailable(a, pg_conn_error(a->conn));
			return;
		}
		a->recording++;
	}
}

/*
 * The set's history arrived (schema_history_status_sql: one JSON array):
 * match every foreign row, then record or report.
 */
static void
match_all(struct adopt *a, const PGresult *hist)
{
	json_t *list = dbcall_json_cell(hist, 0, 0);
	size_t nrec = json_array_size(list);
	struct recorded *rec = calloc(nrec + 1, sizeof(*rec));
	size_t i;
	json_t *r;

	if (rec == NULL) {
		json_decref(list);
		adopt_unavailable(a, "out of memory");
		return;
	}
	json_array_foreach(list, i, r)
	{
		rec[i].version = (long long)json_integer_value(
		        json_object_get(r, "version"));
		rec[i].kind = json_string_value(json_object_get(r, "kind"));
		rec[i].checksum =
		        json_string_value(json_object_get(r, "checksum"));
		rec[i].failed = json_is_true(json_object_get(r, "failed"));
	}
	for (int k = 0; k < PQntuples(a->foreign); k++)
		match_row(a, a->foreign, k, rec, nrec);
	free(rec);
	json_decref(list);
	if (a->blocked > 0 || json_array_size(a->insert) == 0) {
		/* nothing to write: the transaction rolls back as we close */
		reply_report(a, 0);
		adopt_end(a);
		return;
	}
	record_all(a);
}

/* ---- the steps, in order ---- */

static void
on_result(void *arg, const PGresult *res, const char *error)
{
	struct adopt *a = arg;

	if (a->step == STEP_DONE)
		return;
	if (!result_ok(a, res, error))
		return;
	switch (a->step) {
	case STEP_LOCK:
		if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
			adopt_conflict(
			        a, 0,
			        "the history of set %s is being written "
			        "(an apply, revert, baseline or adopt, on "
			        "this or another daemon): adopt again when "
			        "it has ended",
			        a->set);
			return;
		}
		break;
	case STEP_RESOLVE:
		if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
			adopt_conflict(
			        a, 0,
			        "database %s has no table %s: is %s's "
			        "history elsewhere? name it with --table "
			        "SCHEMA.TABLE",
			        a->database, a->table, a->tool->label);
			return;
		} else {
			char *sql = foreign_sql(a, PQgetvalue(res, 0, 0),
			                        PQgetvalue(res, 0, 1));
			free(a->label);
			a->label = NULL;
			if (asprintf(&a->label, "%s (%s.%s)", a->tool->label,
			             PQgetvalue(res, 0, 0),
			             PQgetvalue(res, 0, 1)) < 0 ||
			    sql == NULL) {
				free(sql);
				a->label = NULL;
				adopt_unavailable(a, "out of memory");
				return;
			}
			a->step = STEP_FOREIGN;
			query(a, sql, 0, NULL);
			free(sql);
			return;
		}
	case STEP_FOREIGN:
		a->foreign =
		        PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
		if (a->foreign == NULL) {
			adopt_unavailable(a, "out of memory");
			return;
		}
		break;
	case STEP_HISTORY:
		match_all(a, res);
		return;
	case STEP_RECORD:
		if (--a->recording > 0)
			return;
		break;
	case STEP_COMMIT:
		reply_report(a, (int)json_array_size(a->insert));
		adopt_end(a);
		return;
	default:
		break;
	}
	adopt_next(a);
}

static void
adopt_next(struct adopt *a)
{
	const char *values[1];
	char *q;

	switch (a->step) {
	case STEP_CONNECT:
		a->step = STEP_ENSURE;
		if (schema_history_ensure(a->conn, on_result, a) < 0)
			adopt_unavailable(a, pg_conn_error(a->conn));
		break;
	case STEP_ENSURE:
		a->step = STEP_BEGIN;
		query(a, "BEGIN", 0, NULL);
		break;
	case STEP_BEGIN:
		/* the lock of the set's writers (apply, baseline, another
		 * adopt, on any daemon); adopt does not queue behind a long
		 * apply but says so */
		values[0] = a->set;
		a->step = STEP_LOCK;
		query(a,
		      "SELECT pg_try_advisory_xact_lock(" SCHEMA_HISTORY_LOCK_KEY
		      ")",
		      1, values);
		break;
	case STEP_LOCK:
		q = quoted_name(a->conn, a->table);
		if (q == NULL) {
			adopt_unavailable(a, "out of memory");
			return;
		}
		values[0] = q;
		a->step = STEP_RESOLVE;
		query(a,
		      "SELECT n.nspname, c.relname FROM pg_class c JOIN"
		      " pg_namespace n ON n.oid = c.relnamespace"
		      " WHERE c.oid = to_regclass($1)",
		      1, values);
		free(q);
		break;
	case STEP_FOREIGN:
		values[0] = a->set;
		a->step = STEP_HISTORY;
		query(a, schema_history_status_sql, 1, values);
		break;
	case STEP_RECORD:
		a->step = STEP_COMMIT;
		query(a, "COMMIT", 0, NULL);
		break;
	default:
		break;
	}
}

/* ---- the method ---- */

static const struct adopt_tool *
find_tool(const char *from)
{
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (strcmp(tools[i].from, from) == 0)
			return &tools[i];
	return NULL;
}

static void
invalid_value(struct control_req *req, const char *param, const char *msg)
{
	control_error(
	        req, VL_ERROR_INVALID_PARAMETER_VALUE,
	        json_pack("{s:s, s:s}", "parameter", param, "message", msg));
}

static int
raw_checksums(struct adopt *a)
{
	a->raw = calloc(a->dir->n + 1, sizeof(*a->raw));
	if (a->raw == NULL)
		return -1;
	for (size_t i = 0; i < a->dir->n; i++) {
		const char *sql = a->dir->files[i].sql;
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned len = 0;

		if (EVP_Digest(sql, strlen(sql), md, &len, EVP_sha256(),
		               NULL) != 1)
			return -1;
		for (size_t k = 0; k < len && k < 32; k++)
			snprintf(a->raw[i] + 2 * k, 3, "%02x", md[k]);
	}
	return 0;
}

void
schema_adopt(struct control_req *req, struct daemon *d, const void *args)
{
	const struct adopt_args *p = args;
	const struct adopt_tool *tool = find_tool(p->from);
	const struct config_schema *set = NULL;
	const char *conninfo;
	char err[1024];
	struct adopt *a;
	struct timeval tv = {CONNECT_TIMEOUT_SEC, 0};

	if (tool == NULL) {
		invalid_value(req, "from",
		              "unknown tool: one of flyway, liquibase, sqitch, "
		              "drizzle, kysely, typeorm, knex, golang-migrate, "
		              "goose, dbmate, rails, prisma, alembic or table");
		return;
	}
	if (tool->table == NULL &&
	    (p->table == NULL || p->version_column == NULL)) {
		invalid_value(req,
		              p->table == NULL ? "table" : "version_column",
		              "--from table needs the table and its version "
		              "column (and, optionally, its name column)");
		return;
	}
	if (tool->table != NULL &&
	    (p->version_column != NULL || p->name_column != NULL)) {
		invalid_value(req,
		              p->version_column != NULL ? "version_column"
		                                        : "name_column",
		              "only --from table takes columns; other tools' "
		              "layouts are known");
		return;
	}
	if (p->set != NULL)
		set = config_schema(&d->cfg, p->set);
	else if (d->cfg.nschemas == 1)
		set = &d->cfg.schemas[0];
	if (set == NULL) {
		control_error(req, VL_ERROR_NO_SUCH_SCHEMA_SET,
		              json_pack("{s:s}", "name",
		                        p->set != NULL ? p->set : ""));
		return;
	}
	if (strcmp(set->database, "target") == 0) {
		conninfo = d->cfg.target_conninfo;
	} else {
		const struct config_database *db =
		        config_database(&d->cfg, set->database);
		conninfo = db != NULL ? db->conninfo : NULL;
		if (conninfo == NULL) {
			snprintf(
			        err, sizeof(err),
			        "schema set %s: database %s is not a PostgreSQL "
			        "[database]: adopt reads PostgreSQL histories",
			        set->name, set->database);
			dbcall_unavailable(req, err);
			return;
		}
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		dbcall_unavailable(req, "out of memory");
		return;
	}
	a->req = req;
	a->d = d;
	a->tool = tool;
	a->uid = control_peer_uid(req);
	a->set = strdup(set->name);
	a->database = strdup(set->database);
	a->table = strdup(p->table != NULL ? p->table : tool->table);
	a->version_column =
	        p->version_column != NULL ? strdup(p->version_column) : NULL;
	a->name_column = p->name_column != NULL ? strdup(p->name_column) : NULL;
	a->rows = json_array();
	a->insert = json_array();
	if (a->set == NULL || a->database == NULL || a->table == NULL ||
	    a->rows == NULL || a->insert == NULL ||
	    asprintf(&a->label, "%s (%s)", tool->label, a->table) < 0) {
		a->label = NULL;
		adopt_free(a);
		dbcall_unavailable(req, "out of memory");
		return;
	}
	a->dir = schema_dir_load(set->dir, err, sizeof(err));
	if (a->dir == NULL) {
		control_error(req, VL_ERROR_SCHEMA_CONFLICT,
		              json_pack("{s:s, s:i, s:s}", "set", a->set,
		                        "version", 0, "message", err));
		adopt_free(a);
		return;
	}
	if (raw_checksums(a) < 0) {
		adopt_free(a);
		dbcall_unavailable(req, "cannot compute sha256");
		return;
	}
	a->timer = evtimer_new(d->base, on_timeout, a);
	a->conn = pg_conn_new(d->base, conninfo, "migrated adopt", on_state, a);
	if (a->timer == NULL || a->conn == NULL) {
		adopt_free(a);
		dbcall_unavailable(req, "out of memory");
		return;
	}
	evtimer_add(a->timer, &tv);
	if (pg_conn_state(a->conn) == PG_READY)
		adopt_next(a);
	else if (pg_conn_state(a->conn) == PG_DISCONNECTED)
		adopt_unavailable(a, pg_conn_error(a->conn));
}
