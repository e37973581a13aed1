/* Unit tests for daemon/duration.c: 250ms, 2s, 5m, 1h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "duration.h"

static void
test_parse(void **state)
{
	long long ms = -1;

	(void)state;
	assert_int_equal(duration_parse("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(duration_parse("2s", &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(duration_parse("5m", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(duration_parse("24h", &ms), 0);
	assert_int_equal(ms, DURATION_MAX_MS);
	assert_int_equal(duration_parse("0", &ms), 0);
	assert_int_equal(ms, 0);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
	        "",    "5",    "s",
	        "-1s", "1.5s", "2 s",
	        "25h", "1d",   "99999999999999999999s",
	        "1sx"};
	long long ms;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(duration_parse(bad[i], &ms), -1);
}

static void
test_format_round_trip(void **state)
{
	static const long long values[] = {
	        0, 1, 999, 1000, 1500, 60000, DURATION_MAX_MS};
	char buf[32];
	long long ms;

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		duration_format(values[i], buf, sizeof(buf));
		assert_int_equal(duration_parse(buf, &ms), 0);
		assert_int_equal(ms, values[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse),
	        cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_format_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
