/*
 * Unit tests for sql_split() and sql_position() (daemon/sql_params.c): the
 * statements of a no-transaction schema file, and where in a file a
 * server's error position is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sql_params.h"

/* The statements of sql joined with " | ", with their first lines. */
static void
expect_split(const char *sql, const char *want, const char *lines)
{
	struct sql_span *spans;
	size_t n;
	char err[256] = "", got[1024] = "", got_lines[128] = "";
	unsigned line = 0;

	if (sql_split(sql, &spans, &n, &line, err, sizeof err) != 0)
		fail_msg("sql_split failed at line %u: %s", line, err);
	for (size_t i = 0; i < n; i++) {
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%.*s",
		         i ? " | " : "", (int)spans[i].len,
		         sql + spans[i].start);
		snprintf(got_lines + strlen(got_lines),
		         sizeof got_lines - strlen(got_lines), "%s%u",
		         i ? "," : "", spans[i].line);
	}
	free(spans);
	assert_string_equal(got, want);
	assert_string_equal(got_lines, lines);
}

static void
test_split_plain(void **state)
{
	(void)state;
	expect_split("CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n",
	             "CREATE TABLE t (a int) | INSERT INTO t VALUES (1)",
	             "1,2");
	expect_split("SELECT 1", "SELECT 1", "1");
	expect_split(";;  ;\n", "", "");
	expect_split("", "", "");
}

static void
test_split_knows_literals_and_comments(void **state)
{
	(void)state;
	expect_split("-- migrated: no-transaction\n"
	             "SELECT 'a;b', \"x;y\", E'\\';';\n"
	             "/* one; /* nested; */ */ SELECT $$;$$, $f$ ; $f$;\n"
	             "SELECT 1 -- trailing; comment\n;",
	             "SELECT 'a;b', \"x;y\", E'\\';' | "
	             "SELECT $$;$$, $f$ ; $f$ | SELECT 1",
	             "2,3,4");
	expect_split("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\n"
	             "BEGIN RETURN 1; END $$;\nSELECT f();",
	             "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\n"
	             "BEGIN RETURN 1; END $$ | SELECT f()",
	             "1,3");
	/* ':' and ')' are the server's business here */
	expect_split("SELECT a:b; SELECT 1)", "SELECT a:b | SELECT 1)", "1,1");
}

static void
test_split_begin_atomic(void **state)
{
	(void)state;
	expect_split("CREATE FUNCTION g() RETURNS int LANGUAGE sql\n"
	             "BEGIN ATOMIC\n SELECT CASE WHEN true THEN 1 END;\n"
	             " SELECT 2;\nEND;\nSELECT g();",
	             "CREATE FUNCTION g() RETURNS int LANGUAGE sql\n"
	             "BEGIN ATOMIC\n SELECT CASE WHEN true THEN 1 END;\n"
	             " SELECT 2;\nEND | SELECT g()",
	             "1,6");
}

static void
test_split_refuses_unterminated(void **state)
{
	struct sql_span *spans = (void *)1;
	size_t n = 7;
	char err[256] = "";
	unsigned line = 0;

	(void)state;
	assert_int_equal(sql_split("SELECT 1;\nSELECT 'open", &spans, &n, &line,
	                           err, sizeof err),
	                 -1);
	assert_null(spans);
	assert_int_equal(n, 0);
	assert_int_equal(line, 2);
	assert_non_null(strstr(err, "unterminated quoted string"));
}

static void
expect_position(const char *text, size_t start, long pos, unsigned line,
                unsigned col)
{
	unsigned l = 0, c = 0;

	sql_position(text, start, pos, &l, &c);
	assert_int_equal(l, line);
	assert_int_equal(c, col);
}

static void
test_position(void **state)
{
	const char *lf = "-- x\nSELECT 1\n  FROM nope;\n";
	const char *crlf = "-- x\r\nSELECT 1\r\n  FROM nope;\r\n";

	(void)state;
	expect_position(lf, 0, 1, 1, 1);
	expect_position(lf, 0, 22, 3, 8); /* "nope" */
	expect_position(crlf, 0, 24, 3, 8);
	/* a statement sent on its own: positions count from its start */
	expect_position(lf, 5, 17, 3, 8);
	/* characters, not bytes: "é" is one */
	expect_position("SELECT 'é', nope", 0, 13, 1, 13);
	/* an old Mac's CR */
	expect_position("a\rb", 0, 3, 2, 1);
	/* past the end: the end */
	expect_position("ab", 0, 99, 1, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_split_plain),
	        cmocka_unit_test(test_split_knows_literals_and_comments),
	        cmocka_unit_test(test_split_begin_atomic),
	        cmocka_unit_test(test_split_refuses_unterminated),
	        cmocka_unit_test(test_position),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
