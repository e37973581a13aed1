/* Unit tests for daemon/pacing.c: adaptive batch size and the rows/s cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pacing.h"

static void
test_fixed_without_target(void **state)
{
	struct pacing p;

	(void)state;
	pacing_init(&p, 500, 0, 10, 10000);
	assert_int_equal(pacing_batch_done(&p, 500, 1), 500);
	assert_int_equal(pacing_batch_done(&p, 500, 100000), 500);
}

static void
test_grows_at_most_20_percent(void **state)
{
	struct pacing p;
	long long prev = 100;

	(void)state;
	pacing_init(&p, 100, 1000, 10, 100000);
	/* 100 rows in 10 ms: the target fits 10,000, yet each step is +20% */
	for (int i = 0; i < 10; i++) {
		long long next = pacing_batch_done(&p, prev, 10);
		assert_true(next > prev);
		assert_true(next <= prev * 12 / 10);
		prev = next;
	}
}

static void
test_shrinks_at_once_when_long(void **state)
{
	struct pacing p;

	(void)state;
	pacing_init(&p, 1000, 100, 10, 100000);
	(void)pacing_batch_done(&p, 1000, 50);
	/* 1000 rows took 1000 ms against a 100 ms target: 100 at once */
	assert_int_equal(pacing_batch_done(&p, 1000, 1000), 100);
}

static void
test_bounds(void **state)
{
	struct pacing p;

	(void)state;
	pacing_init(&p, 50, 100, 20, 60);
	assert_int_equal(p.size, 50);
	for (int i = 0; i < 10; i++)
		(void)pacing_batch_done(&p, p.size, 1);
	assert_int_equal(p.size, 60);
	assert_int_equal(pacing_batch_done(&p, 60, 100000), 20);
	pacing_init(&p, 0, 100, 0, 0);
	assert_int_equal(p.size, 1); /* never 0 */
	assert_int_equal(pacing_batch_done(&p, 1, 100000), 1);
}

static void
test_settles_near_target(void **state)
{
	struct pacing p;
	long long size = 10;

	(void)state;
	/* a table that does 10 rows a ms: 100 ms is about 1,000 rows */
	pacing_init(&p, size, 100, 1, 1000000);
	for (int i = 0; i < 40; i++)
		size = pacing_batch_done(&p, size, size / 10 + 1);
	assert_true(size > 800 && size <= 1000);
}

static void
test_set_size(void **state)
{
	struct pacing p;

	(void)state;
	pacing_init(&p, 100, 100, 10, 500);
	pacing_set_size(&p, 7);
	assert_int_equal(p.size, 10);
	pacing_set_size(&p, 300);
	assert_int_equal(p.size, 300);
}

static void
test_budget(void **state)
{
	struct pacing_budget b = {0};

	(void)state;
	/* 100 rows at 100 rows/s: the next batch one second later */
	assert_int_equal(pacing_budget_spend(&b, 1000, 100, 100), 1000);
	assert_int_equal(pacing_budget_wait(&b, 1500), 500);
	assert_int_equal(pacing_budget_wait(&b, 2500), 0);
	/* two jobs on one budget add up */
	assert_int_equal(pacing_budget_spend(&b, 2000, 50, 100), 500);
	assert_int_equal(pacing_budget_spend(&b, 2000, 50, 100), 1000);
	/* no cap: no wait */
	assert_int_equal(pacing_budget_spend(&b, 2000, 50, 0), 0);
	assert_int_equal(pacing_budget_wait(&b, 2000), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fixed_without_target),
	        cmocka_unit_test(test_grows_at_most_20_percent),
	        cmocka_unit_test(test_shrinks_at_once_when_long),
	        cmocka_unit_test(test_bounds),
	        cmocka_unit_test(test_settles_near_target),
	        cmocka_unit_test(test_set_size),
	        cmocka_unit_test(test_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
