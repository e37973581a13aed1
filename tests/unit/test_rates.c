/* Rates from counters sampled at two times (daemon/rates.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rates.h"

static void
test_rate_is_the_difference_over_the_time(void **state)
{
	struct rates *r = rates_new();

	(void)state;
	assert_non_null(r);
	assert_true(rates_get(r, "a", 100.0, 10) < 0);
	assert_int_equal(rates_add(r, "a", 100.0, 1000), 0);
	assert_true(rates_get(r, "a", 100.0, 10) < 0); /* one sample */
	assert_int_equal(rates_add(r, "a", 100.5, 1100), 0);
	assert_true(rates_get(r, "a", 100.5, 10) < 0); /* under 1 s apart */
	assert_int_equal(rates_add(r, "a", 102.0, 1400), 0);
	assert_true(rates_get(r, "a", 102.0, 10) == 200.0);
	/* no sample for longer than the window: the counter stopped */
	assert_true(rates_get(r, "a", 111.0, 10) == 200.0);
	assert_true(rates_get(r, "a", 112.5, 10) < 0);
	/* another counter is its own */
	assert_int_equal(rates_add(r, "b", 102.0, 5), 0);
	assert_true(rates_get(r, "b", 102.0, 10) < 0);
	rates_free(r);
}

static void
test_window_takes_the_oldest_sample_inside_it(void **state)
{
	struct rates *r = rates_new();

	(void)state;
	for (int i = 0; i <= 20; i++)
		assert_int_equal(rates_add(r, "a", (double)i,
		                           i <= 10 ? 0 : (i - 10) * 50),
		                 0);
	/* 10..20: 500 rows in 10 s; 0..20: 500 rows in 20 s */
	assert_true(rates_get(r, "a", 20.0, 10) == 50.0);
	assert_true(rates_get(r, "a", 20.0, 100) == 25.0);
	rates_free(r);
}

static void
test_a_reset_counter_starts_over(void **state)
{
	struct rates *r = rates_new();

	(void)state;
	assert_int_equal(rates_add(r, "a", 0.0, 100), 0);
	assert_int_equal(rates_add(r, "a", 5.0, 600), 0);
	assert_int_equal(rates_add(r, "a", 6.0, 10), 0);
	assert_true(rates_get(r, "a", 6.0, 60) < 0);
	assert_int_equal(rates_add(r, "a", 8.0, 30), 0);
	assert_true(rates_get(r, "a", 8.0, 60) == 10.0);
	rates_free(r);
}

static void
test_old_and_extra_samples_are_dropped(void **state)
{
	struct rates *r = rates_new();

	(void)state;
	for (int i = 0; i < 3 * RATES_SAMPLES; i++)
		assert_int_equal(rates_add(r, "a", (double)i, i * 10LL), 0);
	assert_true(rates_get(r, "a", 3.0 * RATES_SAMPLES, 1000) == 10.0);
	assert_int_equal(rates_add(r, "a", 10000.0, 10000000), 0);
	/* the rest was too old */
	assert_true(rates_get(r, "a", 10000.0, 1e9) < 0);
	rates_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rate_is_the_difference_over_the_time),
	        cmocka_unit_test(test_window_takes_the_oldest_sample_inside_it),
	        cmocka_unit_test(test_a_reset_counter_starts_over),
	        cmocka_unit_test(test_old_and_extra_samples_are_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
