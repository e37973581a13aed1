/*
 * Unit tests for the SQLite side of schema sets: the normalised snapshot
 * and the baseline dump (daemon/schema_sqlite_snapshot.c) and the history
 * table (daemon/schema_sqlite_history.c), on in-memory SQLite databases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_diff.h"
#include "schema_sqlite_history.h"
#include "schema_sqlite_snapshot.h"

static const char rich[] =
        "CREATE TABLE orgs (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " name TEXT NOT NULL UNIQUE, plan TEXT DEFAULT 'free'"
        "  CHECK (plan IN ('free', 'pro')));\n"
        "CREATE TABLE users (id INTEGER PRIMARY KEY,"
        " org_id INTEGER NOT NULL REFERENCES orgs ON DELETE CASCADE,"
        " email TEXT NOT NULL, deleted_at TEXT,"
        " lower_email TEXT GENERATED ALWAYS AS (lower(email)) VIRTUAL,"
        " CONSTRAINT email_has_at CHECK (email LIKE '%@%'),"
        " UNIQUE (org_id, email));\n"
        "CREATE INDEX users_live ON users (email) WHERE deleted_at IS NULL;\n"
        "CREATE INDEX users_lower ON users (lower(email), org_id DESC);\n"
        "CREATE TABLE tags (user_id INTEGER, tag TEXT COLLATE NOCASE,"
        " PRIMARY KEY (user_id, tag),"
        " FOREIGN KEY (user_id) REFERENCES users (id)) WITHOUT ROWID;\n"
        "CREATE VIEW live_users AS SELECT id, email FROM users"
        " WHERE deleted_at IS NULL;\n"
        "CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN"
        " UPDATE orgs SET name = name WHERE id = NEW.org_id; END;\n";

static sqlite3 *
open_with(const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	if (sql != NULL)
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
		                 SQLITE_OK);
	return db;
}

static json_t *
snap(sqlite3 *db)
{
	char err[512];
	json_t *s = schema_sqlite_snapshot(db, err, sizeof(err));

	if (s == NULL)
		fail_msg("snapshot: %s", err);
	return s;
}

static size_t
ndiff(const char *a, const char *b)
{
	sqlite3 *da = open_with(a), *dbb = open_with(b);
	json_t *sa = snap(da), *sb = snap(dbb);
	json_t *d = schema_diff(sa, sb);
	size_t n = json_array_size(d);

	json_decref(d);
	json_decref(sa);
	json_decref(sb);
	sqlite3_close(da);
	sqlite3_close(dbb);
	return n;
}

static const char *
member(const json_t *s, const char *kind, const char *name)
{
	return json_string_value(
	        json_object_get(json_object_get(s, kind), name));
}

static void
test_snapshot_reads_everything(void **state)
{
	sqlite3 *db = open_with(rich);
	json_t *s = snap(db);

	(void)state;
	assert_string_equal(member(s, "table", "main.orgs"),
	                    "table autoincrement");
	assert_string_equal(member(s, "table", "main.tags"),
	                    "table without rowid");
	assert_string_equal(member(s, "column", "main.users.email"),
	                    "text not null");
	assert_string_equal(member(s, "column", "main.orgs.plan"),
	                    "text default 'free'");
	assert_string_equal(member(s, "column", "main.users.lower_email"),
	                    "text generated always as (lower(email)) virtual");
	assert_non_null(member(s, "constraint",
	                       "main.users: CHECK (email LIKE '%@%')"));
	assert_non_null(member(s, "constraint",
	                       "main.orgs: CHECK (plan IN ('free', 'pro'))"));
	assert_non_null(member(s, "constraint", "main.orgs: UNIQUE (name)"));
	assert_non_null(
	        member(s, "constraint", "main.users: UNIQUE (org_id, email)"));
	assert_non_null(member(s, "constraint",
	                       "main.tags: PRIMARY KEY (user_id, tag)"));
	assert_non_null(member(
	        s, "constraint",
	        "main.users: FOREIGN KEY (org_id) REFERENCES main.orgs(id)"
	        " ON UPDATE NO ACTION ON DELETE CASCADE"));
	assert_non_null(
	        member(s, "index",
	               "index on main.users (email) where deleted_at IS NULL"));
	assert_non_null(member(
	        s, "index", "index on main.users (lower(email), org_id desc)"));
	assert_string_equal(member(s, "view", "main.live_users"),
	                    "view AS SELECT id, email FROM users WHERE "
	                    "deleted_at IS NULL");
	assert_non_null(member(s, "trigger",
	                       "AFTER UPDATE ON users BEGIN UPDATE orgs SET "
	                       "name = name WHERE id = NEW.org_id; END"));
	json_decref(s);
	sqlite3_close(db);
}

/* Names, column order, comments and white space do not count. */
static void
test_normalised_away(void **state)
{
	(void)state;
	assert_int_equal(
	        ndiff("CREATE TABLE t (a INT, b TEXT CONSTRAINT one CHECK (b"
	              " <> ''));\nCREATE INDEX i1 ON t (b);",
	              "-- a comment\nCREATE TABLE t (b   TEXT\n CHECK (b <> ''),"
	              " a INT);\nCREATE INDEX another_name ON t (b);"),
	        0);
}

/* What does count. */
static void
test_differences_count(void **state)
{
	(void)state;
	assert_int_equal(ndiff("CREATE TABLE t (a INT CHECK (a > 0));",
	                       "CREATE TABLE t (a INT CHECK (a > 1));"),
	                 2); /* one only in a, one only in b */
	assert_int_equal(ndiff("CREATE TABLE t (a INT);",
	                       "CREATE TABLE t (a INT NOT NULL);"),
	                 1);
	assert_int_equal(
	        ndiff("CREATE TABLE t (a INT); CREATE INDEX i ON t (a);",
	              "CREATE TABLE t (a INT); CREATE INDEX i ON t (a)"
	              " WHERE a > 0;"),
	        2);
	assert_int_equal(
	        ndiff("CREATE TABLE t (a INT); CREATE INDEX i ON t (a);",
	              "CREATE TABLE t (a INT); CREATE INDEX i ON t (a);"
	              " CREATE INDEX j ON t (a);"),
	        1); /* a redundant copy is a difference */
}

/* The dump, applied to an empty file, builds the same schema. */
static void
test_dump_round_trips(void **state)
{
	sqlite3 *db = open_with(rich), *copy;
	char err[512];
	char *sql = schema_sqlite_dump(db, err, sizeof(err));
	json_t *a, *b, *d;

	(void)state;
	assert_non_null(sql);
	assert_null(strstr(sql, "sqlite_sequence"));
	assert_int_equal(schema_sqlite_history_ensure(db, err, sizeof(err)), 0);
	copy = open_with(NULL);
	assert_int_equal(sqlite3_exec(copy, "BEGIN", NULL, NULL, NULL), 0);
	assert_int_equal(sqlite3_exec(copy, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(copy, "COMMIT", NULL, NULL, NULL), 0);
	a = snap(db);
	b = snap(copy);
	d = schema_diff(a, b);
	assert_int_equal(json_array_size(d), 0);
	assert_true(json_object_size(json_object_get(a, "index")) == 2);
	json_decref(a);
	json_decref(b);
	json_decref(d);
	free(sql);
	sqlite3_close(db);
	sqlite3_close(copy);
}

static void
test_history_rows(void **state)
{
	sqlite3 *db = open_with(NULL);
	char err[512];
	json_t *rows = schema_sqlite_history_rows(db, "app", err, sizeof(err));
	struct schema_sqlite_row r = {.set = "app",
	                              .version = 1,
	                              .name = "one",
	                              .checksum = "aa",
	                              .kind = "applied",
	                              .outcome = "succeeded"};

	(void)state;
	assert_int_equal(json_array_size(rows), 0); /* no table: empty */
	json_decref(rows);
	assert_int_equal(schema_sqlite_history_ensure(db, err, sizeof(err)), 0);
	assert_int_equal(schema_sqlite_history_insert(db, &r, err, sizeof(err)),
	                 0);
	r.outcome = "failed";
	r.error = "boom";
	assert_int_equal(schema_sqlite_history_insert(db, &r, err, sizeof(err)),
	                 0);
	r.version = 2;
	r.outcome = "succeeded";
	r.error = NULL;
	r.kind = "baseline";
	assert_int_equal(schema_sqlite_history_insert(db, &r, err, sizeof(err)),
	                 0);
	rows = schema_sqlite_history_rows(db, "app", err, sizeof(err));
	assert_int_equal(json_array_size(rows), 2);
	assert_true(json_is_true(
	        json_object_get(json_array_get(rows, 0), "failed")));
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(rows, 0), "kind")),
	                    "applied");
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(rows, 0), "error")),
	                    "boom");
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(rows, 1), "kind")),
	                    "baseline");
	json_decref(rows);
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_snapshot_reads_everything),
	        cmocka_unit_test(test_normalised_away),
	        cmocka_unit_test(test_differences_count),
	        cmocka_unit_test(test_dump_round_trips),
	        cmocka_unit_test(test_history_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
