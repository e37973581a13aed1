/* Unit tests for daemon/sql_params.c: named parameters and SELECT columns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sql_params.h"

static const char *const plan_params[] = {"tenant", "lo", "hi", "org"};
#define NPLAN (sizeof plan_params / sizeof plan_params[0])

/* Compiles sql with the usual parameters and checks the text and names. */
static void
expect_compiled(const char *sql, const char *text, const char *names)
{
	struct sql_stmt st;
	char err[256] = "", got[256] = "";
	unsigned line = 0;

	if (sql_compile(sql, plan_params, NPLAN, &st, &line, err, sizeof err) !=
	    0)
		fail_msg("sql_compile failed at line %u: %s", line, err);
	assert_string_equal(st.text, text);
	for (size_t i = 0; i < st.nparams; i++)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s",
		         i ? "," : "", st.names[i]);
	assert_string_equal(got, names);
	sql_stmt_free(&st);
	assert_null(st.text);
	assert_int_equal(st.nparams, 0);
}

static void
expect_refused(const char *sql, unsigned want_line, const char *msg)
{
	struct sql_stmt st;
	char err[256] = "";
	unsigned line = 0;

	assert_int_equal(sql_compile(sql, plan_params, NPLAN, &st, &line, err,
	                             sizeof err),
	                 -1);
	assert_string_equal(err, msg);
	assert_int_equal(line, want_line);
	assert_null(st.text);
	assert_null(st.names);
	assert_int_equal(st.nparams, 0);
}

static void
test_rewrites_and_reuses_numbers(void **state)
{
	(void)state;
	expect_compiled("UPDATE t SET o = :org WHERE tenant_id = :tenant AND "
	                "id > :lo AND id <= :hi AND o <> :org",
	                "UPDATE t SET o = $1 WHERE tenant_id = $2 AND id > $3 "
	                "AND id <= $4 AND o <> $1",
	                "org,tenant,lo,hi");
	expect_compiled("x=:lo", "x=$1", "lo");
	expect_compiled("(:hi)", "($1)", "hi");
	expect_compiled("SELECT 1", "SELECT 1", "");
	expect_compiled("", "", "");
}

static void
test_literals_untouched(void **state)
{
	(void)state;
	expect_compiled("SELECT ':org', 'it''s :org', :lo",
	                "SELECT ':org', 'it''s :org', $1", "lo");
	/* In '..' a backslash is an ordinary character... */
	expect_compiled("SELECT 'a\\' = :lo", "SELECT 'a\\' = $1", "lo");
	/* ...and in E'..' it escapes the quote. */
	expect_compiled("SELECT E'a\\' :org' || :lo, e'\\\\' || :hi",
	                "SELECT E'a\\' :org' || $1, e'\\\\' || $2", "lo,hi");
	expect_compiled("SELECT E'it''s :org', B'101', X'1F' || :lo",
	                "SELECT E'it''s :org', B'101', X'1F' || $1", "lo");
	expect_compiled("SELECT 'multi\nline :org' FROM t WHERE a = :lo",
	                "SELECT 'multi\nline :org' FROM t WHERE a = $1", "lo");
}

static void
test_identifiers_and_comments_untouched(void **state)
{
	(void)state;
	expect_compiled("SELECT \"col:org\", \"a\"\":lo\" FROM t WHERE x = :hi",
	                "SELECT \"col:org\", \"a\"\":lo\" FROM t WHERE x = $1",
	                "hi");
	expect_compiled("SELECT 1 -- :org\n, :lo", "SELECT 1 -- :org\n, $1",
	                "lo");
	expect_compiled("SELECT :lo -- :org", "SELECT $1 -- :org", "lo");
	expect_compiled("/* :org /* nested :hi */ still :tenant */ :lo",
	                "/* :org /* nested :hi */ still :tenant */ $1", "lo");
	expect_compiled("SELECT 2/*x*/-:lo", "SELECT 2/*x*/-$1", "lo");
}

static void
test_dollar_quotes_untouched(void **state)
{
	(void)state;
	expect_compiled("SELECT $$ :org ' \" $$, :lo",
	                "SELECT $$ :org ' \" $$, $1", "lo");
	expect_compiled("SELECT $f$ :org $$ $g$ :hi $f$ || :lo",
	                "SELECT $f$ :org $$ $g$ :hi $f$ || $1", "lo");
	/* A $ inside an identifier does not open a dollar quote. */
	expect_compiled("SELECT foo$$ + :lo", "SELECT foo$$ + $1", "lo");
}

static void
test_casts_and_colons_untouched(void **state)
{
	(void)state;
	/* "org" is an allowed name, but after :: it is a type. */
	expect_compiled("SELECT :lo::bigint, x::org, :hi::int[], y :: text",
	                "SELECT $1::bigint, x::org, $2::int[], y :: text",
	                "lo,hi");
	expect_compiled("SELECT a[1:2], f(x := 1), b[lo: hi]",
	                "SELECT a[1:2], f(x := 1), b[lo: hi]", "");
}

static void
test_unknown_parameters(void **state)
{
	struct sql_stmt st;
	char err[256];
	unsigned line = 0;

	(void)state;
	expect_refused("UPDATE t\nSET o = :org\nWHERE t = :orgg", 3,
	               "unknown parameter :orgg (known: tenant, lo, hi, org)");
	expect_refused(
	        ":Tenant", 1,
	        "unknown parameter :Tenant (known: tenant, lo, hi, org)");
	assert_int_equal(sql_compile("SELECT x FROM t\n\n WHERE a = :tenant",
	                             NULL, 0, &st, &line, err, sizeof err),
	                 -1);
	assert_string_equal(err, "unknown parameter :tenant (this SQL takes no "
	                         "parameters)");
	assert_int_equal(line, 3);
	/* errline is optional */
	assert_int_equal(sql_compile(":x", NULL, 0, &st, NULL, err, sizeof err),
	                 -1);
}

static void
test_refuses_positional_and_bad_names(void **state)
{
	(void)state;
	expect_refused("SELECT 1\nWHERE a = $12", 2,
	               "positional parameter $12 is not allowed; use named "
	               "parameters such as :tenant");
	expect_refused("SELECT :lo$x", 1,
	               "bad parameter name :lo$x; use letters, digits and _");
}

static void
test_refuses_unterminated(void **state)
{
	(void)state;
	expect_refused("SELECT 1,\n'abc", 2,
	               "unterminated quoted string (started at line 2)");
	expect_refused("SELECT 'it''s", 1,
	               "unterminated quoted string (started at line 1)");
	expect_refused("SELECT E'a\\'\n\n", 1,
	               "unterminated E'' string (started at line 1)");
	expect_refused("SELECT E'a\\", 1,
	               "unterminated E'' string (started at line 1)");
	expect_refused("SELECT \"abc", 1,
	               "unterminated quoted identifier (started at line 1)");
	expect_refused("\nSELECT $q$ abc $Q$", 2,
	               "unterminated dollar-quoted string $q$ (started at line "
	               "2)");
	expect_refused("SELECT 1 /* a /* b */", 1,
	               "unterminated /* comment (started at line 1)");
	expect_refused("SELECT f(\n(1)", 1,
	               "unbalanced '(' (opened at line 1)");
	expect_refused("SELECT 1)\n", 1, "unbalanced ')'");
}

/* Repeats s n times. */
static char *
repeat(const char *s, size_t n, const char *tail)
{
	size_t len = strlen(s);
	char *out = malloc(len * n + strlen(tail) + 1);

	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * len, s, len);
	strcpy(out + len * n, tail);
	return out;
}

static void
test_deep_nesting(void **state)
{
	char *open = repeat("/*", 10000, ""), *close = repeat("*/", 10000, "");
	char *sql = malloc(strlen(open) + strlen(close) + 16), *tmp;
	char *parens = repeat("(", 10000, ":lo"),
	     *closing = repeat(")", 10000, "");
	struct sql_stmt st;
	char err[256];

	(void)state;
	assert_non_null(sql);
	sprintf(sql, "%s:org%s :lo", open, close);
	assert_int_equal(sql_compile(sql, plan_params, NPLAN, &st, NULL, err,
	                             sizeof err),
	                 0);
	assert_int_equal(st.nparams, 1);
	assert_string_equal(st.names[0], "lo");
	sql_stmt_free(&st);
	/* One close short: everything after is comment. */
	sprintf(sql, "%s:org%s :lo", open, close + 2);
	assert_int_equal(sql_compile(sql, plan_params, NPLAN, &st, NULL, err,
	                             sizeof err),
	                 -1);
	assert_string_equal(err, "unterminated /* comment (started at line 1)");

	tmp = realloc(sql, strlen(parens) + strlen(closing) + 1);
	assert_non_null(tmp);
	sql = tmp;
	sprintf(sql, "%s%s", parens, closing);
	assert_int_equal(sql_compile(sql, plan_params, NPLAN, &st, NULL, err,
	                             sizeof err),
	                 0);
	assert_int_equal(st.nparams, 1);
	sql_stmt_free(&st);
	free(open);
	free(close);
	free(parens);
	free(closing);
	free(sql);
}

static void
test_huge_input(void **state)
{
	char *sql = repeat(":lo + ':org' + ", 200000, ":hi");
	struct sql_stmt st;
	char err[256];

	(void)state;
	assert_int_equal(sql_compile(sql, plan_params, NPLAN, &st, NULL, err,
	                             sizeof err),
	                 0);
	assert_int_equal(st.nparams, 2);
	assert_int_equal(strlen(st.text), strlen(sql) - 200000 - 1);
	assert_memory_equal(st.text, "$1 + ':org' + $1", 16);
	assert_string_equal(st.text + strlen(st.text) - 2, "$2");
	sql_stmt_free(&st);
	free(sql);

	/* A huge unknown name is cut in the message, not overflowed. */
	sql = repeat("x", 100000, "");
	sql[0] = ':';
	assert_int_equal(sql_compile(sql, plan_params, NPLAN, &st, NULL, err,
	                             sizeof err),
	                 -1);
	assert_true(strncmp(err, "unknown parameter :xxx", 22) == 0);
	assert_true(strlen(err) < 150);
	free(sql);
}

/* Random bytes 1..255: never a crash, always a clean answer. */
static void
test_binary_junk(void **state)
{
	char *sql = malloc(65537);
	struct sql_stmt st;
	char err[256], **names;
	size_t n;

	(void)state;
	assert_non_null(sql);
	srand(42);
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)(rand() % 65536);

		for (size_t i = 0; i < len; i++)
			sql[i] = (char)(1 + rand() % 255);
		sql[len] = '\0';
		if (sql_compile(sql, plan_params, NPLAN, &st, NULL, err,
		                sizeof err) == 0) {
			assert_non_null(st.text);
			assert_true(st.nparams <= NPLAN);
			sql_stmt_free(&st);
		} else {
			assert_true(err[0] != '\0');
		}
		if (sql_select_columns(sql, &names, &n, NULL, err,
		                       sizeof err) == 0)
			sql_names_free(names, n);
		else
			assert_null(names);
	}
	free(sql);
}

/* --- sql_select_columns ----------------------------------------------- */

static void
expect_columns(const char *sql, const char *want)
{
	char err[256] = "", got[256] = "", **names;
	unsigned line = 0;
	size_t n;

	if (sql_select_columns(sql, &names, &n, &line, err, sizeof err) != 0)
		fail_msg("sql_select_columns failed at line %u: %s", line, err);
	for (size_t i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s",
		         i ? "," : "", names[i]);
	assert_string_equal(got, want);
	sql_names_free(names, n);
}

static void
expect_no_columns(const char *sql, unsigned want_line, const char *msg)
{
	char err[256] = "", **names;
	unsigned line = 0;
	size_t n;

	assert_int_equal(
	        sql_select_columns(sql, &names, &n, &line, err, sizeof err),
	        -1);
	assert_string_equal(err, msg);
	assert_int_equal(line, want_line);
	assert_null(names);
	assert_int_equal(n, 0);
}

static void
test_columns_named(void **state)
{
	(void)state;
	expect_columns("SELECT organization_id AS org FROM tenant_org_mappings "
	               "WHERE tenant_id = :tenant",
	               "org");
	expect_columns("select a, t.b, s.t.c, \"Mixed\", X AS \"Y\"\"z\", Foo, "
	               "\"s\".\"T\" from t",
	               "a,b,c,Mixed,Y\"z,foo,T");
	expect_columns("SELECT DISTINCT a FROM t", "a");
	expect_columns("SELECT DISTINCT ON (a, b) a, b FROM t", "a,b");
	expect_columns("SELECT ALL a FROM t", "a");
	expect_columns("SELECT 42 AS org", "org");
	expect_columns("SELECT 42 AS org LIMIT 1", "org");
	expect_columns("SELECT 1 AS from, 2 AS \"select\"", "from,select");
	expect_columns(
	        "SELECT (SELECT x, y FROM z LIMIT 1) AS v, f(a, b) AS w, "
	        "'x,y' AS s, $$,$$ AS d FROM t",
	        "v,w,s,d");
	expect_columns("WITH m AS (SELECT a FROM t) SELECT a AS b FROM m", "b");
	expect_columns("SELECT a -- , b\n, c /* , d */ FROM t", "a,c");
	expect_columns("SELECT a AS x UNION SELECT b FROM u", "x");
	expect_columns("SELECT x::bigint AS y, z FROM t WHERE w", "y,z");
}

static void
test_columns_refused(void **state)
{
	(void)state;
	expect_no_columns("SELECT count(*) FROM t", 1,
	                  "column 1 has no name; give it one with AS");
	expect_no_columns("SELECT a,\n  1 + 2\nFROM t", 2,
	                  "column 2 has no name; give it one with AS");
	expect_no_columns("SELECT a b FROM t", 1,
	                  "column 1 has no name; give it one with AS");
	expect_no_columns("SELECT true", 1,
	                  "column 1 has no name; give it one with AS");
	expect_no_columns("SELECT a.", 1,
	                  "column 1 has no name; give it one with AS");
	expect_no_columns("SELECT * FROM t", 1,
	                  "column 1 is *; list the columns by name");
	expect_no_columns("SELECT a, t.* FROM t", 1,
	                  "column 2 is *; list the columns by name");
	expect_no_columns("SELECT a, FROM t", 1, "column 2 is empty");
	expect_no_columns("SELECT", 1, "column 1 is empty");
	expect_no_columns("UPDATE t SET a = 1", 1, "not a SELECT");
	expect_no_columns("SELECT 'abc", 1,
	                  "unterminated quoted string (started at line 1)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rewrites_and_reuses_numbers),
	        cmocka_unit_test(test_literals_untouched),
	        cmocka_unit_test(test_identifiers_and_comments_untouched),
	        cmocka_unit_test(test_dollar_quotes_untouched),
	        cmocka_unit_test(test_casts_and_colons_untouched),
	        cmocka_unit_test(test_unknown_parameters),
	        cmocka_unit_test(test_refuses_positional_and_bad_names),
	        cmocka_unit_test(test_refuses_unterminated),
	        cmocka_unit_test(test_deep_nesting),
	        cmocka_unit_test(test_huge_input),
	        cmocka_unit_test(test_binary_junk),
	        cmocka_unit_test(test_columns_named),
	        cmocka_unit_test(test_columns_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
