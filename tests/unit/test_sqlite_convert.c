/*
 * Unit tests for daemon/sqlite_convert.c: each rule of man 5
 * migrated.plan ("SQLite sources"), its edges, and values that must not
 * convert.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_convert.h"

static struct sqlite_cell
i_(int64_t v)
{
	return (struct sqlite_cell){.type = SQLITE_INTEGER, .i = v};
}

static struct sqlite_cell
r_(double v)
{
	return (struct sqlite_cell){.type = SQLITE_FLOAT, .r = v};
}

static struct sqlite_cell
t_(const char *s)
{
	return (struct sqlite_cell){.type = SQLITE_TEXT,
	                            .p = (const unsigned char *)s,
	                            .n = strlen(s)};
}

static struct sqlite_cell
b_(const char *s, size_t n)
{
	return (struct sqlite_cell){
	        .type = SQLITE_BLOB, .p = (const unsigned char *)s, .n = n};
}

/* Converts c for type; NULL when it does not convert. */
static char *
conv(struct sqlite_cell c, const char *type)
{
	struct evbuffer *out = evbuffer_new();
	char why[200];
	char *s = NULL;

	if (sqlite_convert(&c, sqlite_conv_class_of(type), out, why,
	                   sizeof(why)) == 0) {
		size_t n = evbuffer_get_length(out);
		s = calloc(1, n + 1);
		evbuffer_remove(out, s, n);
	} else {
		assert_true(strlen(why) > 0);
	}
	evbuffer_free(out);
	return s;
}

#define OK(cell, type, want)                                                   \
	do {                                                                   \
		char *got_ = conv(cell, type);                                 \
		assert_non_null(got_);                                         \
		assert_string_equal(got_, want);                               \
		free(got_);                                                    \
	} while (0)
#define BAD(cell, type) assert_null(conv(cell, type))

static void
test_classes(void **state)
{
	(void)state;
	assert_int_equal(sqlite_conv_class_of("bigint"), SQLITE_CONV_INT);
	assert_int_equal(sqlite_conv_class_of("numeric(10,2)"),
	                 SQLITE_CONV_NUMERIC);
	assert_int_equal(sqlite_conv_class_of("timestamp(3) without time zone"),
	                 SQLITE_CONV_TIMESTAMP);
	assert_int_equal(sqlite_conv_class_of("timestamp with time zone"),
	                 SQLITE_CONV_TIMESTAMPTZ);
	assert_int_equal(sqlite_conv_class_of("integer[]"), SQLITE_CONV_TEXT);
	assert_int_equal(sqlite_conv_class_of("uuid"), SQLITE_CONV_TEXT);
}

static void
test_numbers(void **state)
{
	(void)state;
	OK(i_(-42), "integer", "-42");
	OK(r_(7.0), "bigint", "7");
	OK(t_(" 12 "), "smallint", "12");
	BAD(t_("12.0"), "integer");
	BAD(t_(""), "integer");
	BAD(t_("0x10"), "integer");
	BAD(r_(1.5), "integer");
	BAD(t_("99999999999999999999"), "bigint");
	BAD(b_("1", 1), "integer");
	OK(r_(0.1), "double precision", "0.1");
	OK(r_(1e300), "double precision", "1e+300");
	OK(t_("-1.5E-3"), "numeric", "-1.5E-3");
	BAD(t_("1,5"), "numeric");
	BAD(t_("nan"), "numeric");
	BAD(t_("1e"), "numeric");
}

static void
test_text_and_bytes(void **state)
{
	(void)state;
	OK(t_("a\tb\nc\\d\re"), "text", "a\\tb\\nc\\\\d\\re");
	OK(r_(2.5), "text", "2.5");
	OK(b_("h\xc3\xa9", 3), "text", "h\xc3\xa9");
	BAD(b_("\xff", 1), "text");
	BAD(b_("a\0b", 3), "text");
	BAD(t_("\xc0\xaf"), "text"); /* overlong */
	OK(b_("\x00\x10\xff", 3), "bytea", "\\\\x0010ff");
	OK(t_("ab"), "bytea", "\\\\x6162");
	BAD(i_(1), "bytea");
	OK(t_("{\"a\": \"t\\tb\"}"), "jsonb", "{\"a\": \"t\\\\tb\"}");
	OK(i_(3), "json", "3");
	BAD(t_("{"), "json");
	struct sqlite_cell null = {.type = SQLITE_NULL};
	OK(null, "integer", "\\N");
	OK(null, "bytea", "\\N");
}

static void
test_booleans(void **state)
{
	(void)state;
	OK(i_(1), "boolean", "t");
	OK(i_(0), "boolean", "f");
	OK(t_("YES"), "boolean", "t");
	OK(t_(" off "), "boolean", "f");
	OK(t_("T"), "boolean", "t");
	BAD(i_(2), "boolean");
	BAD(r_(1.0), "boolean");
	BAD(t_("maybe"), "boolean");
	BAD(t_(""), "boolean");
}

static void
test_dates_and_times(void **state)
{
	(void)state;
	OK(t_("2024-02-29"), "date", "2024-02-29");
	OK(t_("2024-02-29 00:00:00"), "date", "2024-02-29");
	BAD(t_("2023-02-29"), "date");
	BAD(t_("2024-02-29 12:00"), "date");
	BAD(t_("2024-2-29"), "date");
	OK(i_(0), "date", "1970-01-01");
	OK(i_(-86400), "date", "1969-12-31");
	BAD(i_(1), "date");
	OK(t_("2024-02-29T13:45:30.25"), "timestamp without time zone",
	   "2024-02-29 13:45:30.250000");
	OK(t_("2024-02-29 13:45"), "timestamp", "2024-02-29 13:45:00");
	OK(t_("2024-03-01T01:00:00+02:00"), "timestamp with time zone",
	   "2024-02-29 23:00:00+00");
	OK(t_("2024-02-29T13:45:30-0530"), "timestamp with time zone",
	   "2024-02-29 19:15:30+00");
	OK(t_("2024-02-29T13:45:30Z"), "timestamp with time zone",
	   "2024-02-29 13:45:30+00");
	OK(i_(-1), "timestamp", "1969-12-31 23:59:59");
	OK(r_(1.5), "timestamp with time zone",
	   "1970-01-01 00:00:01.500000+00");
	OK(r_(-0.25), "timestamp", "1969-12-31 23:59:59.750000");
	OK(i_(253402300799), "timestamp", "9999-12-31 23:59:59");
	BAD(i_(253402300800), "timestamp");
	BAD(t_("2024-02-29T24:00"), "timestamp");
	BAD(t_("2024-02-29T13:45:30+2"), "timestamp");
	BAD(t_("2024-02-29T13:45:30 junk"), "timestamp");
	BAD(t_("yesterday"), "timestamp with time zone");
	BAD(r_(1.0 / 0.0), "timestamp");
}

static void
test_show(void **state)
{
	char buf[64];
	(void)state;
	assert_string_equal(
	        sqlite_cell_show(&(struct sqlite_cell){.type = SQLITE_NULL},
	                         buf, sizeof(buf)),
	        "NULL");
	struct sqlite_cell t = t_("a\nb");
	assert_string_equal(sqlite_cell_show(&t, buf, sizeof(buf)), "'a b'");
	struct sqlite_cell b = b_("\x01\xff", 2);
	assert_string_equal(sqlite_cell_show(&b, buf, sizeof(buf)), "x'01ff'");
	char long_text[300];
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	struct sqlite_cell l = t_(long_text);
	sqlite_cell_show(&l, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
	assert_non_null(strstr(buf, "...'"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_classes),
	        cmocka_unit_test(test_numbers),
	        cmocka_unit_test(test_text_and_bytes),
	        cmocka_unit_test(test_booleans),
	        cmocka_unit_test(test_dates_and_times),
	        cmocka_unit_test(test_show),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
