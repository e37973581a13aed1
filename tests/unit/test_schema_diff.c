/* Unit tests for daemon/schema_diff.c: comparing normalised snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema_diff.h"

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);

	if (v == NULL)
		fail_msg("bad JSON in test: %s: %s", text, e.text);
	return v;
}

/* The differences of a and b, as "kind name change" lines. */
static char *
lines(const char *a, const char *b)
{
	json_t *ja = parse(a), *jb = parse(b);
	json_t *d = schema_diff(ja, jb);
	char *out = calloc(1, 4096);
	size_t i;
	json_t *row;

	assert_non_null(d);
	json_array_foreach(d, i, row)
	{
		char line[512];
		snprintf(line, sizeof(line), "%s %s %s\n",
		         json_string_value(json_object_get(row, "kind")),
		         json_string_value(json_object_get(row, "name")),
		         json_string_value(json_object_get(row, "change")));
		strcat(out, line);
	}
	json_decref(d);
	json_decref(ja);
	json_decref(jb);
	return out;
}

static void
test_same(void **state)
{
	char *out;

	(void)state;
	out = lines("{\"table\": {\"app.t\": \"table\"}, \"column\": "
	            "{\"app.t.id\": \"integer not null\"}}",
	            "{\"column\": {\"app.t.id\": \"integer not null\"}, "
	            "\"table\": {\"app.t\": \"table\"}}");
	assert_string_equal(out, "");
	free(out);
	out = lines("{}", "{\"index\": {}}");
	assert_string_equal(out, "");
	free(out);
}

static void
test_only_and_differs_sorted(void **state)
{
	char *out;

	(void)state;
	out = lines("{\"column\": {\"app.t.b\": \"text\", \"app.t.a\": "
	            "\"integer default 1\", \"app.t.z\": \"text\"},"
	            " \"enum\": {\"app.mood\": \"'a', 'b'\"}}",
	            "{\"column\": {\"app.t.a\": \"integer default 2\", "
	            "\"app.t.c\": \"text\", \"app.t.z\": \"text\"},"
	            " \"enum\": {\"app.mood\": \"'a', 'b', 'c'\"}}");
	/* kinds in report order (enum before column), names sorted */
	assert_string_equal(out, "enum app.mood differs\n"
	                         "column app.t.a differs\n"
	                         "column app.t.b only_in_a\n"
	                         "column app.t.c only_in_b\n");
	free(out);
}

static void
test_definitions_reported(void **state)
{
	json_t *a = parse("{\"index\": {\"CREATE INDEX ON app.t USING btree "
	                  "(x)\": \"CREATE INDEX ON app.t USING btree (x)\"}}");
	json_t *b = parse("{}");
	json_t *d = schema_diff(a, b);
	json_t *row;

	(void)state;
	assert_int_equal(json_array_size(d), 1);
	row = json_array_get(d, 0);
	assert_string_equal(json_string_value(json_object_get(row, "change")),
	                    "only_in_a");
	assert_string_equal(json_string_value(json_object_get(row, "a")),
	                    "CREATE INDEX ON app.t USING btree (x)");
	assert_true(json_is_null(json_object_get(row, "b")));
	json_decref(d);
	d = schema_diff(b, a);
	row = json_array_get(d, 0);
	assert_string_equal(json_string_value(json_object_get(row, "change")),
	                    "only_in_b");
	assert_true(json_is_null(json_object_get(row, "a")));
	json_decref(d);
	json_decref(a);
	json_decref(b);
}

static void
test_white_space_does_not_count(void **state)
{
	char *out;
	char *s;

	(void)state;
	out = lines("{\"function\": {\"app.f()\": \"CREATE FUNCTION app.f()\\n"
	            " RETURNS integer\\n LANGUAGE sql\\nAS $$\\n  SELECT 1\\n"
	            "$$\\n\"}}",
	            "{\"function\": {\"app.f()\": \"CREATE FUNCTION app.f() "
	            "RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$\"}}");
	assert_string_equal(out, "");
	free(out);
	/* but a changed body does */
	out = lines("{\"function\": {\"app.f()\": \"AS $$ SELECT 1 $$\"}}",
	            "{\"function\": {\"app.f()\": \"AS $$ SELECT 2 $$\"}}");
	assert_string_equal(out, "function app.f() differs\n");
	free(out);
	s = schema_diff_squeeze("  a \t\r\n b  ");
	assert_string_equal(s, "a b");
	free(s);
	s = schema_diff_squeeze("");
	assert_string_equal(s, "");
	free(s);
}

static void
test_unknown_kinds_and_shapes(void **state)
{
	char *out;

	(void)state;
	/* a kind this build does not know is still compared, after the rest */
	out = lines("{\"domain\": {\"app.d\": \"text\"}, \"table\": {\"app.t\":"
	            " \"table\"}}",
	            "{\"domain\": {\"app.d\": \"integer\"}}");
	assert_string_equal(out, "table app.t only_in_a\n"
	                         "domain app.d differs\n");
	free(out);
	/* a kind that is not an object counts as empty */
	out = lines("{\"table\": null}", "{\"table\": {\"app.t\": \"table\"}}");
	assert_string_equal(out, "table app.t only_in_b\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_same),
	        cmocka_unit_test(test_only_and_differs_sorted),
	        cmocka_unit_test(test_definitions_reported),
	        cmocka_unit_test(test_white_space_does_not_count),
	        cmocka_unit_test(test_unknown_kinds_and_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
