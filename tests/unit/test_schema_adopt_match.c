/*
 * Unit tests for daemon/schema_adopt_match.c: a foreign tool's rows
 * matched to a set's files (by version and name, by the raw sha256, up to
 * a current version), what the set's history already says, the rows that
 * stop an adopt, and the note.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_adopt_match.h"

static struct schema_file files[3];
static char dirname[] = "/srv/schema";
static struct schema_dir dir = {.dir = dirname, .files = files, .n = 3};

static void
set_file(size_t i, long long version, const char *name, const char *sql)
{
	static char paths[3][64], names[3][32], texts[3][64];

	snprintf(paths[i], sizeof(paths[i]), "/srv/schema/%03lld_%s.sql",
	         version, name);
	snprintf(names[i], sizeof(names[i]), "%s", name);
	snprintf(texts[i], sizeof(texts[i]), "%s", sql);
	files[i] = (struct schema_file){.version = version,
	                                .name = names[i],
	                                .path = paths[i],
	                                .sql = texts[i]};
	schema_checksum(sql, strlen(sql), files[i].checksum);
}

static int
setup(void **state)
{
	(void)state;
	set_file(0, 1, "create_users", "CREATE TABLE users (id int);\r\n");
	set_file(1, 2, "add_email", "ALTER TABLE users ADD email text;\n");
	set_file(2, 3, "index_email", "CREATE INDEX ON users (email);\n");
	return 0;
}

/* A report with fresh arrays. */
static struct adopt_report
report(void)
{
	struct adopt_report r = {.rows = json_array(), .insert = json_array()};

	assert_non_null(r.rows);
	assert_non_null(r.insert);
	return r;
}

static void
report_free(struct adopt_report *r)
{
	json_decref(r->rows);
	json_decref(r->insert);
}

static struct adopt_match_in
input(const char *from, const struct adopt_recorded *rec, size_t nrec)
{
	const struct adopt_tool *tool = schema_adopt_tool(from);

	assert_non_null(tool);
	return (struct adopt_match_in){.tool = tool,
	                               .set = "app",
	                               .label = tool->label,
	                               .dir = &dir,
	                               .rec = rec,
	                               .nrec = nrec};
}

static struct adopt_foreign
ok_row(const char *foreign, const char *version, const char *name)
{
	return (struct adopt_foreign){.foreign = foreign,
	                              .version = version,
	                              .name = name,
	                              .state = "ok"};
}

static const char *
outcome(const struct adopt_report *r, size_t i)
{
	return json_string_value(
	        json_object_get(json_array_get(r->rows, i), "outcome"));
}

static const char *
message(const struct adopt_report *r, size_t i)
{
	return json_string_value(
	        json_object_get(json_array_get(r->rows, i), "message"));
}

static long long
inserted(const struct adopt_report *r, size_t i)
{
	return (long long)json_integer_value(
	        json_object_get(json_array_get(r->insert, i), "version"));
}

static void
test_by_version(void **state)
{
	struct adopt_match_in in = input("flyway", NULL, 0);
	struct adopt_foreign rows[] = {ok_row("1", "1", "create users"),
	                               ok_row("2", "2", "add_email")};
	struct adopt_report r = report();
	char *note;

	(void)state;
	schema_adopt_match(&in, rows, 2, &r);
	assert_int_equal(json_array_size(r.rows), 2);
	assert_string_equal(outcome(&r, 0), "adopted");
	assert_string_equal(outcome(&r, 1), "adopted");
	assert_int_equal(r.blocked, 0);
	assert_int_equal(json_array_size(r.insert), 2);
	assert_int_equal(inserted(&r, 0), 1);
	assert_int_equal(inserted(&r, 1), 2);
	note = schema_adopt_note(&in, &r, 2);
	assert_non_null(note);
	assert_non_null(strstr(note, "2 versions adopted, 0 already recorded"));
	assert_null(strstr(note, "pending"));
	free(note);
	report_free(&r);
}

static void
test_refusals_block(void **state)
{
	struct adopt_match_in in = input("flyway", NULL, 0);
	struct adopt_foreign rows[] = {
	        ok_row("1", "1", "drop_users"),
	        ok_row("9", "9", "missing"),
	        ok_row("99999999999999999999", "99999999999999999999", NULL),
	        {.foreign = "3",
	         .version = "3",
	         .state = "failed",
	         .message = "failed in Flyway"},
	};
	struct adopt_report r = report();
	char *note;

	(void)state;
	schema_adopt_match(&in, rows, 4, &r);
	assert_string_equal(outcome(&r, 0), "conflict");
	assert_non_null(strstr(message(&r, 0), "is it the same migration?"));
	assert_string_equal(outcome(&r, 1), "unmatched");
	assert_non_null(
	        strstr(message(&r, 1), "no file 9_*.sql in /srv/schema"));
	assert_string_equal(outcome(&r, 2), "unmatched");
	assert_non_null(strstr(message(&r, 2), "out of range"));
	assert_string_equal(outcome(&r, 3), "failed");
	assert_string_equal(message(&r, 3), "failed in Flyway");
	assert_int_equal(r.blocked, 4);
	assert_int_equal(json_array_size(r.insert), 0);
	note = schema_adopt_note(&in, &r, 4);
	assert_non_null(note);
	assert_non_null(strstr(note, "nothing recorded: 4 rows of Flyway"));
	free(note);
	report_free(&r);
}

static void
test_history_says(void **state)
{
	struct adopt_recorded rec[] = {
	        {.version = 1,
	         .kind = "applied",
	         .checksum = files[0].checksum},
	        {.version = 2, .kind = "baseline", .checksum = "00ff"},
	        {.version = 3, .failed = true},
	};
	struct adopt_match_in in = input("knex", rec, 3);
	struct adopt_foreign rows[] = {
	        ok_row("001_create_users.js", "001", "create_users"),
	        ok_row("002_add_email.js", "002", "add_email"),
	        ok_row("003_index_email.js", "003", "index_email"),
	};
	struct adopt_report r = report();

	(void)state;
	schema_adopt_match(&in, rows, 3, &r);
	assert_string_equal(outcome(&r, 0), "already");
	assert_string_equal(message(&r, 0), "recorded before (applied)");
	assert_int_equal(r.already, 1);
	assert_string_equal(outcome(&r, 1), "conflict");
	assert_non_null(strstr(message(&r, 1), "schema repair"));
	assert_string_equal(outcome(&r, 2), "conflict");
	assert_non_null(strstr(message(&r, 2), "last apply of it failed"));
	assert_int_equal(r.blocked, 2);
	report_free(&r);
}

static void
test_up_to_current_version(void **state)
{
	struct adopt_match_in in = input("golang-migrate", NULL, 0);
	struct adopt_foreign rows[] = {ok_row("2", "2", NULL)};
	struct adopt_report r = report();
	char *note;

	(void)state;
	schema_adopt_match(&in, rows, 1, &r);
	assert_int_equal(json_array_size(r.rows), 2);
	assert_string_equal(outcome(&r, 0), "adopted");
	assert_string_equal(outcome(&r, 1), "adopted");
	assert_non_null(strstr(message(&r, 0), "every file up to 2"));
	assert_int_equal(json_array_size(r.insert), 2);
	note = schema_adopt_note(&in, &r, 1);
	assert_non_null(note);
	assert_non_null(strstr(note, "kept only a current version"));
	free(note);
	report_free(&r);
}

static void
test_by_raw_hash(void **state)
{
	struct adopt_sha256 *raw = schema_adopt_raw_checksums(&dir);
	struct adopt_match_in in = input("drizzle", NULL, 0);
	struct adopt_foreign rows[] = {
	        {.foreign = "1", .hash = NULL, .state = "ok"},
	        {.foreign = "2", .hash = NULL, .state = "ok"},
	        {.foreign = "3", .hash = "beef", .state = "ok"},
	};
	struct adopt_report r = report();

	(void)state;
	assert_non_null(raw);
	/* the CRLF file: its raw sha256 is not the normalised checksum */
	assert_string_not_equal(raw[0].hex, files[0].checksum);
	assert_string_equal(raw[1].hex, files[1].checksum);
	in.raw = raw;
	rows[0].hash = raw[0].hex;
	rows[1].hash = files[1].checksum;
	schema_adopt_match(&in, rows, 3, &r);
	assert_string_equal(outcome(&r, 0), "adopted");
	assert_string_equal(outcome(&r, 1), "adopted");
	assert_string_equal(outcome(&r, 2), "unmatched");
	assert_non_null(strstr(message(&r, 2), "has sha256 beef"));
	assert_int_equal(inserted(&r, 0), 1);
	assert_int_equal(inserted(&r, 1), 2);
	free(raw);
	report_free(&r);
}

static void
test_gaps_and_empty(void **state)
{
	struct adopt_match_in in = input("flyway", NULL, 0);
	struct adopt_foreign rows[] = {ok_row("1", "1", NULL),
	                               ok_row("3", "3", "index email")};
	struct adopt_report r = report();
	char *note;

	(void)state;
	schema_adopt_match(&in, rows, 2, &r);
	assert_int_equal(r.blocked, 0);
	note = schema_adopt_note(&in, &r, 2);
	assert_non_null(note);
	assert_non_null(strstr(note, "older than the newest adopted version: "
	                             "/srv/schema/002_add_email.sql; they stay "
	                             "pending"));
	free(note);
	report_free(&r);

	r = report();
	note = schema_adopt_note(&in, &r, 0);
	assert_non_null(note);
	assert_string_equal(note, "Flyway is empty: nothing to adopt");
	free(note);
	report_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_by_version, setup),
	        cmocka_unit_test_setup(test_refusals_block, setup),
	        cmocka_unit_test_setup(test_history_says, setup),
	        cmocka_unit_test_setup(test_up_to_current_version, setup),
	        cmocka_unit_test_setup(test_by_raw_hash, setup),
	        cmocka_unit_test_setup(test_gaps_and_empty, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
