#include "schema_sqlite_snapshot.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schema_diff.h"
#include "schema_sqlite_history.h"
#include "sql_lex.h"

/* ---- the SQL text of one object, as tokens ---- */

struct toks {
	const char *s;
	struct sql_token *t;
	size_t n;
};

static void
toks_free(struct toks *k)
{
	free(k->t);
}

/* Tokens of s, lenient (the text is SQLite's, already accepted by it). */
static int
toks_read(const char *s, struct toks *k)
{
	struct sql_lexer lx;
	char err[128];
	size_t cap = 64;

	if (s == NULL)
		s = "";
	*k = (struct toks){.s = s, .t = malloc(cap * sizeof(*k->t))};
	if (k->t == NULL)
		return -1;
	sql_lex_init(&lx, s, NULL, err, sizeof(err));
	lx.lenient = true;
	for (;;) {
		struct sql_token t;

		if (sql_lex_next(&lx, &t) < 0 || t.kind == SQL_TOK_END)
			return 0; /* an odd tail: what was read counts */
		if (k->n == cap) {
			struct sql_token *more =
			        realloc(k->t, 2 * cap * sizeof(*k->t));
			if (more == NULL)
				return -1;
			k->t = more;
			cap *= 2;
		}
		k->t[k->n++] = t;
	}
}

static bool
is_word(const struct toks *k, size_t i, const char *w)
{
	return i < k->n && k->t[i].kind == SQL_TOK_WORD &&
	       k->t[i].len == strlen(w) &&
	       strncasecmp(k->s + k->t[i].start, w, k->t[i].len) == 0;
}

static bool
is_kind(const struct toks *k, size_t i, enum sql_tok_kind kind)
{
	return i < k->n && k->t[i].kind == kind;
}

/* The index of the ')' closing the '(' at i (k->n when none). */
static size_t
closing(const struct toks *k, size_t i)
{
	for (size_t j = i + 1; j < k->n; j++)
		if (k->t[j].kind == SQL_TOK_RPAREN &&
		    k->t[j].depth == k->t[i].depth)
			return j;
	return k->n;
}

/* Text from the start of token a to the end of token b, squeezed. */
static char *
span(const struct toks *k, size_t a, size_t b)
{
	size_t from = k->t[a].start, to = k->t[b].start + k->t[b].len;
	char *raw = strndup(k->s + from, to - from), *out;

	if (raw == NULL)
		return NULL;
	out = schema_diff_squeeze(raw);
	free(raw);
	return out;
}

/* Text from token a to the end, without a trailing ';', squeezed. */
static char *
rest(const struct toks *k, size_t a)
{
	size_t b = k->n;

	while (b > a && k->t[b - 1].kind == SQL_TOK_SEMICOLON)
		b--;
	if (b <= a)
		return strdup("");
	return span(k, a, b - 1);
}

/*
 * The token after "CREATE ... KEYWORD [IF NOT EXISTS] [schema.]name" (the
 * object's name), k->n when there is none.
 */
static size_t
after_name(const struct toks *k, const char *keyword)
{
	size_t i = 0;

	while (i < k->n && !is_word(k, i, keyword))
		i++;
	i++;
	if (is_word(k, i, "IF") && is_word(k, i + 1, "NOT") &&
	    is_word(k, i + 2, "EXISTS"))
		i += 3;
	i++; /* the name */
	if (is_kind(k, i, SQL_TOK_DOT))
		i += 2;
	return i < k->n ? i : k->n;
}

/* ---- building the document ---- */

struct snap {
	sqlite3 *db;
	json_t *doc;
	char *err;
	size_t errlen;
	bool failed;
};

static int
snap_fail(struct snap *s, const char *what)
{
	if (!s->failed)
		snprintf(s->err, s->errlen, "%s: %s", what,
		         sqlite3_errmsg(s->db));
	s->failed = true;
	return -1;
}

static int
snap_oom(struct snap *s)
{
	if (!s->failed)
		snprintf(s->err, s->errlen, "out of memory");
	s->failed = true;
	return -1;
}

/* Adds kind/name = def; a name seen before gets " #2", " #3"... */
static int
put(struct snap *s, const char *kind, const char *name, const char *def)
{
	json_t *members = json_object_get(s->doc, kind);
	char key[4096];

	if (name == NULL || def == NULL)
		return snap_oom(s);
	if (members == NULL) {
		members = json_object();
		if (members == NULL ||
		    json_object_set_new(s->doc, kind, members) < 0)
			return snap_oom(s);
	}
	snprintf(key, sizeof(key), "%s", name);
	for (int n = 2; json_object_get(members, key) != NULL; n++)
		snprintf(key, sizeof(key), "%s #%d", name, n);
	if (json_object_set_new(members, key, json_string(def)) < 0)
		return snap_oom(s);
	return 0;
}

static const char *
text(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	return v != NULL ? (const char *)v : NULL;
}

static char *
lower(const char *s)
{
	char *out = strdup(s != NULL ? s : "");

	for (char *p = out; p != NULL && *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return out;
}

/* The tables of the file (user tables, not shadow tables), by name. */
static const char tables_sql[] =
        "SELECT s.name, s.sql, coalesce(l.strict, 0), coalesce(l.wr, 0)"
        " FROM sqlite_schema s"
        " LEFT JOIN pragma_table_list l ON l.name = s.name"
        "  AND l.schema = 'main'"
        " WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        "  AND s.name <> '" SCHEMA_SQLITE_HISTORY "'"
        "  AND coalesce(l.type, 'table') <> 'shadow'"
        " ORDER BY s.name";

/*
 * What the CREATE TABLE text says that no pragma does: each CHECK, and a
 * generated column's expression (column name -> "generated always as
 * (expr) stored|virtual").
 */
static int
table_text(struct snap *s, const char *qname, const char *sql, json_t *gen)
{
	struct toks k;
	size_t open = 0, end, seg;

	if (toks_read(sql, &k) < 0) {
		toks_free(&k);
		return snap_oom(s);
	}
	while (open < k.n && k.t[open].kind != SQL_TOK_LPAREN)
		open++;
	end = open < k.n ? closing(&k, open) : k.n;
	for (seg = open + 1; seg < end;) {
		size_t stop = seg, first = seg;
		unsigned depth = k.t[open].depth + 1;

		while (stop < end && !(k.t[stop].kind == SQL_TOK_COMMA &&
		                       k.t[stop].depth == depth))
			stop++;
		if (is_word(&k, first, "CONSTRAINT"))
			first += 2;
		for (size_t i = first; i < stop; i++) {
			if (is_word(&k, i, "CHECK") &&
			    is_kind(&k, i + 1, SQL_TOK_LPAREN)) {
				size_t c = closing(&k, i + 1);
				char *def = c < stop ? span(&k, i, c) : NULL;
				char name[4096];

				if (def == NULL)
					continue;
				snprintf(name, sizeof(name), "%s: %s", qname,
				         def);
				put(s, "constraint", name, def);
				free(def);
				i = c;
			} else if (is_word(&k, i, "AS") &&
			           is_kind(&k, i + 1, SQL_TOK_LPAREN) &&
			           !is_word(&k, first, "PRIMARY") &&
			           !is_word(&k, first, "UNIQUE") &&
			           !is_word(&k, first, "FOREIGN") &&
			           !is_word(&k, first, "CHECK")) {
				size_t c = closing(&k, i + 1);
				char *expr =
				        c < stop ? span(&k, i + 1, c) : NULL;
				char *col = span(&k, first, first);
				char def[4096];
				bool stored = is_word(&k, c + 1, "STORED");

				if (expr != NULL && col != NULL) {
					/* the name as written, unquoted */
					size_t n = strlen(col);
					if (n >= 2 &&
					    (col[0] == '"' || col[0] == '`' ||
					     col[0] == '[')) {
						memmove(col, col + 1, n - 2);
						col[n - 2] = '\0';
					}
					snprintf(def, sizeof(def),
					         "generated always as %s %s",
					         expr,
					         stored ? "stored" : "virtual");
					json_object_set_new(gen, col,
					                    json_string(def));
				}
				free(expr);
				free(col);
				i = c;
			}
		}
		seg = stop + 1;
	}
	toks_free(&k);
	return s->failed ? -1 : 0;
}

static int
columns(struct snap *s, const char *table, const char *qname, json_t *gen)
{
	sqlite3_stmt *st = NULL;
	char pk[4096] = "";
	int rc;

	if (sqlite3_prepare_v2(s->db,
	                       "SELECT name, type, \"notnull\", dflt_value, pk,"
	                       " hidden FROM pragma_table_xinfo(?1)"
	                       " ORDER BY pk, cid",
	                       -1, &st, NULL) != SQLITE_OK)
		return snap_fail(s, "reading columns");
	sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = text(st, 0);
		char *type = lower(text(st, 1));
		const char *dflt = text(st, 3);
		const char *g = json_string_value(json_object_get(gen, name));
		char key[2048], def[4096];
		size_t n;

		if (type == NULL || name == NULL) {
			free(type);
			return snap_oom(s);
		}
		n = (size_t)snprintf(def, sizeof(def), "%s", type);
		if (sqlite3_column_int(st, 2))
			n += (size_t)snprintf(def + n, sizeof(def) - n,
			                      "%snot null", n > 0 ? " " : "");
		if (dflt != NULL && n < sizeof(def))
			n += (size_t)snprintf(def + n, sizeof(def) - n,
			                      "%sdefault %s", n > 0 ? " " : "",
			                      dflt);
		if (g != NULL && n < sizeof(def))
			snprintf(def + n, sizeof(def) - n, "%s%s",
			         n > 0 ? " " : "", g);
		else if (sqlite3_column_int(st, 5) >= 2 && n < sizeof(def))
			snprintf(def + n, sizeof(def) - n, "%sgenerated",
			         n > 0 ? " " : "");
		free(type);
		snprintf(key, sizeof(key), "%s.%s", qname, name);
		put(s, "column", key, def);
		if (sqlite3_column_int(st, 4) > 0) {
			size_t l = strlen(pk);
			snprintf(pk + l, sizeof(pk) - l, "%s%s",
			         l > 0 ? ", " : "", name);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return snap_fail(s, "reading columns");
	if (pk[0] != '\0') {
		char def[4200], key[8192];
		snprintf(def, sizeof(def), "PRIMARY KEY (%s)", pk);
		snprintf(key, sizeof(key), "%s: %s", qname, def);
		put(s, "constraint", key, def);
	}
	return s->failed ? -1 : 0;
}

/* "a, b" of an index's key columns (terms: the texts of its SQL list). */
static int
index_terms(struct snap *s, const char *index, const struct toks *terms,
            const size_t *tstart, const size_t *tend, size_t nterms, char *out,
            size_t outlen)
{
	sqlite3_stmt *st = NULL;
	size_t i = 0, n = 0;
	int rc;

	out[0] = '\0';
	if (sqlite3_prepare_v2(s->db,
	                       "SELECT cid, name, \"desc\", coll"
	                       " FROM pragma_index_xinfo(?1) WHERE key = 1"
	                       " ORDER BY seqno",
	                       -1, &st, NULL) != SQLITE_OK)
		return snap_fail(s, "reading indexes");
	sqlite3_bind_text(st, 1, index, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < outlen) {
		const char *sep = i > 0 ? ", " : "";
		const char *coll = text(st, 3);

		if (sqlite3_column_int(st, 0) == -2) { /* an expression */
			char *t = i < nterms && terms != NULL
			                  ? span(terms, tstart[i], tend[i])
			                  : strdup("?");
			n += (size_t)snprintf(out + n, outlen - n, "%s%s", sep,
			                      t != NULL ? t : "?");
			free(t);
		} else {
			n += (size_t)snprintf(
			        out + n, outlen - n, "%s%s%s%s%s", sep,
			        text(st, 1) != NULL ? text(st, 1) : "rowid",
			        coll != NULL && strcasecmp(coll, "BINARY") != 0
			                ? " collate "
			                : "",
			        coll != NULL && strcasecmp(coll, "BINARY") != 0
			                ? coll
			                : "",
			        sqlite3_column_int(st, 2) ? " desc" : "");
		}
		i++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return snap_fail(s, "reading indexes");
	return 0;
}

/* One index made by CREATE INDEX: its terms and WHERE from its SQL. */
static int
created_index(struct snap *s, const char *qname, const char *index,
              const char *sql, bool unique)
{
	struct toks k;
	size_t open, end, nterms = 0, tstart[64], tend[64];
	char cols[4096], def[8192];
	char *where = NULL;

	if (sql == NULL || toks_read(sql, &k) < 0) {
		if (sql != NULL)
			toks_free(&k);
		return sql == NULL ? 0 : snap_oom(s);
	}
	open = after_name(&k, "INDEX");
	while (open < k.n && k.t[open].kind != SQL_TOK_LPAREN)
		open++;
	end = open < k.n ? closing(&k, open) : k.n;
	for (size_t i = open + 1; i < end && nterms < 64;) {
		size_t j = i;
		while (j < end && !(k.t[j].kind == SQL_TOK_COMMA &&
		                    k.t[j].depth == k.t[open].depth + 1))
			j++;
		tstart[nterms] = i;
		tend[nterms++] = j - 1;
		i = j + 1;
	}
	if (end + 1 < k.n && is_word(&k, end + 1, "WHERE"))
		where = rest(&k, end + 2);
	if (index_terms(s, index, &k, tstart, tend, nterms, cols,
	                sizeof(cols)) == 0) {
		snprintf(def, sizeof(def), "%sindex on %s (%s)%s%s",
		         unique ? "unique " : "", qname, cols,
		         where != NULL ? " where " : "",
		         where != NULL ? where : "");
		put(s, "index", def, def);
	}
	free(where);
	toks_free(&k);
	return s->failed ? -1 : 0;
}

static int
indexes(struct snap *s, const char *table, const char *qname)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
	                       "SELECT l.name, l.\"unique\", l.origin, m.sql"
	                       " FROM pragma_index_list(?1) l"
	                       " LEFT JOIN sqlite_schema m ON m.type = 'index'"
	                       "  AND m.name = l.name ORDER BY l.name",
	                       -1, &st, NULL) != SQLITE_OK)
		return snap_fail(s, "reading indexes");
	sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *origin = text(st, 2);

		if (origin != NULL && strcmp(origin, "u") == 0) {
			/* a UNIQUE constraint: counted as the constraint */
			char cols[4096], def[4200], key[8192];
			if (index_terms(s, text(st, 0), NULL, NULL, NULL, 0,
			                cols, sizeof(cols)) < 0)
				break;
			snprintf(def, sizeof(def), "UNIQUE (%s)", cols);
			snprintf(key, sizeof(key), "%s: %s", qname, def);
			put(s, "constraint", key, def);
		} else if (origin != NULL && strcmp(origin, "c") == 0) {
			if (created_index(s, qname, text(st, 0), text(st, 3),
			                  sqlite3_column_int(st, 1) != 0) < 0)
				break;
		} /* "pk": the primary key, counted from the columns */
	}
	sqlite3_finalize(st);
	if (!s->failed && rc != SQLITE_DONE)
		return snap_fail(s, "reading indexes");
	return s->failed ? -1 : 0;
}

/* The primary key columns of table ("a, b"), for a REFERENCES t. */
static void
pk_of(struct snap *s, const char *table, char *out, size_t len)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;

	out[0] = '\0';
	if (sqlite3_prepare_v2(s->db,
	                       "SELECT name FROM pragma_table_info(?1)"
	                       " WHERE pk > 0 ORDER BY pk",
	                       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW && n < len)
		n += (size_t)snprintf(out + n, len - n, "%s%s",
		                      n > 0 ? ", " : "", text(st, 0));
	sqlite3_finalize(st);
}

static int
foreign_keys(struct snap *s, const char *table, const char *qname)
{
	sqlite3_stmt *st = NULL;
	char from[2048] = "", to[2048] = "", parent[512] = "", rule[256] = "";
	long long id = -1;
	bool implicit = false;
	int rc;

	if (sqlite3_prepare_v2(s->db,
	                       "SELECT id, \"table\", \"from\", \"to\","
	                       " on_update, on_delete, \"match\""
	                       " FROM pragma_foreign_key_list(?1)"
	                       " ORDER BY id, seq",
	                       -1, &st, NULL) != SQLITE_OK)
		return snap_fail(s, "reading foreign keys");
	sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
	for (;;) {
		rc = sqlite3_step(st);
		if (id >= 0 &&
		    (rc != SQLITE_ROW || sqlite3_column_int64(st, 0) != id)) {
			char def[8192], key[9000];
			if (implicit)
				pk_of(s, parent, to, sizeof(to));
			snprintf(def, sizeof(def),
			         "FOREIGN KEY (%s) REFERENCES main.%s(%s)%s",
			         from, parent, to, rule);
			snprintf(key, sizeof(key), "%s: %s", qname, def);
			put(s, "constraint", key, def);
			from[0] = to[0] = '\0';
			implicit = false;
		}
		if (rc != SQLITE_ROW)
			break;
		if (sqlite3_column_int64(st, 0) != id) {
			const char *upd = text(st, 4), *del = text(st, 5);
			id = sqlite3_column_int64(st, 0);
			snprintf(parent, sizeof(parent), "%s",
			         text(st, 1) != NULL ? text(st, 1) : "?");
			snprintf(rule, sizeof(rule),
			         " ON UPDATE %s ON DELETE %s",
			         upd != NULL ? upd : "NO ACTION",
			         del != NULL ? del : "NO ACTION");
		}
		{
			size_t lf = strlen(from), lt = strlen(to);
			snprintf(from + lf, sizeof(from) - lf, "%s%s",
			         lf > 0 ? ", " : "",
			         text(st, 2) != NULL ? text(st, 2) : "?");
			if (text(st, 3) == NULL)
				implicit = true;
			else
				snprintf(to + lt, sizeof(to) - lt, "%s%s",
				         lt > 0 ? ", " : "", text(st, 3));
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return snap_fail(s, "reading foreign keys");
	return s->failed ? -1 : 0;
}

static int
one_table(struct snap *s, const char *name, const char *sql, bool strict,
          bool without_rowid)
{
	char qname[1024], def[256];
	json_t *gen = json_object();
	bool virtual = sql != NULL &&
	               strncasecmp(sql, "CREATE VIRTUAL", 14) == 0;

	if (gen == NULL)
		return snap_oom(s);
	snprintf(qname, sizeof(qname), "main.%s", name);
	if (virtual) {
		struct toks k;
		char *using = NULL;
		if (toks_read(sql, &k) == 0)
			using = rest(&k, after_name(&k, "TABLE"));
		toks_free(&k);
		snprintf(def, sizeof(def), "virtual table %s",
		         using != NULL ? using : "");
		free(using);
		put(s, "table", qname, def);
		json_decref(gen);
		return s->failed ? -1 : 0;
	}
	snprintf(def, sizeof(def), "table%s%s",
	         without_rowid ? " without rowid" : "",
	         strict ? " strict" : "");
	if (sql != NULL && strcasestr(sql, "AUTOINCREMENT") != NULL)
		snprintf(def + strlen(def), sizeof(def) - strlen(def),
		         " autoincrement");
	put(s, "table", qname, def);
	if ((sql == NULL || table_text(s, qname, sql, gen) == 0) &&
	    columns(s, name, qname, gen) == 0 && indexes(s, name, qname) == 0)
		foreign_keys(s, name, qname);
	json_decref(gen);
	return s->failed ? -1 : 0;
}

static int
tables(struct snap *s)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, tables_sql, -1, &st, NULL) != SQLITE_OK)
		return snap_fail(s, "reading sqlite_schema");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char *name = strdup(text(st, 0));
		char *sql = text(st, 1) != NULL ? strdup(text(st, 1)) : NULL;
		int r = name == NULL
		                ? snap_oom(s)
		                : one_table(s, name, sql,
		                            sqlite3_column_int(st, 2) != 0,
		                            sqlite3_column_int(st, 3) != 0);
		free(name);
		free(sql);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (!s->failed && rc != SQLITE_DONE)
		return snap_fail(s, "reading sqlite_schema");
	return s->failed ? -1 : 0;
}

/* Views (main.NAME: "view" + its text after the name) and triggers
 * (keyed by their text after the name). */
static int
views_and_triggers(struct snap *s)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
	                       "SELECT type, name, sql FROM sqlite_schema"
	                       " WHERE type IN ('view', 'trigger')"
	                       "  AND sql IS NOT NULL ORDER BY type, name",
	                       -1, &st, NULL) != SQLITE_OK)
		return snap_fail(s, "reading sqlite_schema");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && !s->failed) {
		bool view = strcmp(text(st, 0), "view") == 0;
		struct toks k;
		char *body = NULL;

		if (toks_read(text(st, 2), &k) == 0)
			body = rest(&k,
			            after_name(&k, view ? "VIEW" : "TRIGGER"));
		toks_free(&k);
		if (body == NULL) {
			snap_oom(s);
			break;
		}
		if (view) {
			char key[1024], *def = NULL;
			snprintf(key, sizeof(key), "main.%s", text(st, 1));
			if (asprintf(&def, "view %s", body) < 0)
				def = NULL;
			put(s, "view", key, def);
			free(def);
		} else {
			put(s, "trigger", body, body);
		}
		free(body);
	}
	sqlite3_finalize(st);
	if (!s->failed && rc != SQLITE_DONE)
		return snap_fail(s, "reading sqlite_schema");
	return s->failed ? -1 : 0;
}

json_t *
schema_sqlite_snapshot(sqlite3 *db, char *err, size_t errlen)
{
	struct snap s = {
	        .db = db, .doc = json_object(), .err = err, .errlen = errlen};

	if (s.doc == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* one read transaction: the whole snapshot sees one schema */
	if (schema_sqlite_exec(db, "BEGIN", err, errlen) < 0) {
		json_decref(s.doc);
		return NULL;
	}
	if (tables(&s) == 0)
		views_and_triggers(&s);
	{
		char cerr[512];
		if (schema_sqlite_exec(db, "COMMIT", cerr, sizeof(cerr)) < 0 &&
		    !s.failed) {
			snprintf(err, errlen, "%s", cerr);
			s.failed = true;
		}
	}
	if (s.failed) {
		json_decref(s.doc);
		return NULL;
	}
	return s.doc;
}

/* ---- the baseline file ---- */

static const char dump_sql[] =
        "SELECT s.type, s.name, s.sql FROM sqlite_schema s"
        " LEFT JOIN pragma_table_list l ON s.type = 'table'"
        "  AND l.name = s.name AND l.schema = 'main'"
        " WHERE s.sql IS NOT NULL"
        "  AND s.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        "  AND s.name <> '" SCHEMA_SQLITE_HISTORY "'"
        "  AND coalesce(s.tbl_name, '') <> '" SCHEMA_SQLITE_HISTORY "'"
        "  AND coalesce(l.type, 'table') <> 'shadow'"
        " ORDER BY CASE s.type WHEN 'table' THEN 0 WHEN 'index' THEN 1"
        "  WHEN 'view' THEN 2 ELSE 3 END, s.rowid";

char *
schema_sqlite_dump(sqlite3 *db, char *err, size_t errlen)
{
	static const char head[] =
	        "-- A baseline of a SQLite file's schema, written by migrated\n"
	        "-- (SchemaDump): tables, indexes, views and triggers as\n"
	        "-- sqlite_schema keeps them.\n";
	sqlite3_stmt *st = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int rc;

	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fputs(head, f);
	if (sqlite3_prepare_v2(db, dump_sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "reading sqlite_schema: %s",
		         sqlite3_errmsg(db));
		fclose(f);
		free(out);
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fprintf(f, "\n%s;\n", text(st, 2));
	sqlite3_finalize(st);
	if (fclose(f) != 0 || rc != SQLITE_DONE) {
		snprintf(err, errlen, "reading sqlite_schema: %s",
		         rc != SQLITE_DONE ? sqlite3_errmsg(db)
		                           : "out of memory");
		free(out);
		return NULL;
	}
	return out;
}
