/* Unit tests for daemon/worker.c: jobs run in order on the thread, their
 * done callbacks on the loop; a stop finishes or drops the queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>

#include "worker.h"

#define NJOBS 50

struct job {
	int index;
	int *ran_order; /* shared: where the thread writes its turn */
	int *next_turn;
	int turn; /* when it ran, on the thread */
	bool done, ran;
	int *ndone;
	struct event_base *base;
	useconds_t sleep_us;
};

static void
work(void *arg)
{
	struct job *j = arg;

	if (j->sleep_us > 0)
		usleep(j->sleep_us);
	j->turn = (*j->next_turn)++; /* only the thread writes it */
}

static void
done(void *arg, bool ran)
{
	struct job *j = arg;

	assert_false(j->done);
	j->done = true;
	j->ran = ran;
	if (++*j->ndone == NJOBS)
		event_base_loopbreak(j->base);
}

static void
setup_jobs(struct job *jobs, struct event_base *base, int *next_turn,
           int *ndone, useconds_t sleep_us)
{
	for (int i = 0; i < NJOBS; i++)
		jobs[i] = (struct job){.index = i,
		                       .next_turn = next_turn,
		                       .ndone = ndone,
		                       .base = base,
		                       .sleep_us = sleep_us};
}

static void
test_runs_in_order_and_calls_back_on_the_loop(void **state)
{
	struct event_base *base = event_base_new();
	struct worker *w = worker_new(base);
	struct job jobs[NJOBS];
	int next_turn = 0, ndone = 0;

	(void)state;
	assert_non_null(w);
	setup_jobs(jobs, base, &next_turn, &ndone, 0);
	for (int i = 0; i < NJOBS; i++)
		assert_int_equal(worker_run(w, work, done, &jobs[i]), 0);
	/* never inside worker_run */
	for (int i = 0; i < NJOBS; i++)
		assert_false(jobs[i].done);
	event_base_dispatch(base);
	for (int i = 0; i < NJOBS; i++) {
		assert_true(jobs[i].done);
		assert_true(jobs[i].ran);
		assert_int_equal(jobs[i].turn, i);
	}
	worker_free(w, false);
	event_base_free(base);
}

static void
test_free_finishing_runs_every_job(void **state)
{
	struct event_base *base = event_base_new();
	struct worker *w = worker_new(base);
	struct job jobs[NJOBS];
	int next_turn = 0, ndone = 0;

	(void)state;
	setup_jobs(jobs, base, &next_turn, &ndone, 100);
	for (int i = 0; i < NJOBS; i++)
		assert_int_equal(worker_run(w, work, done, &jobs[i]), 0);
	worker_free(w, true); /* without the loop ever running */
	assert_int_equal(ndone, NJOBS);
	for (int i = 0; i < NJOBS; i++) {
		assert_true(jobs[i].ran);
		assert_int_equal(jobs[i].turn, i);
	}
	event_base_free(base);
}

static void
test_free_dropping_calls_back_unrun(void **state)
{
	struct event_base *base = event_base_new();
	struct worker *w = worker_new(base);
	struct job jobs[NJOBS];
	int next_turn = 0, ndone = 0, ran = 0;

	(void)state;
	setup_jobs(jobs, base, &next_turn, &ndone, 2000);
	for (int i = 0; i < NJOBS; i++)
		assert_int_equal(worker_run(w, work, done, &jobs[i]), 0);
	usleep(5000);
	worker_free(w, false);
	/* every job is called back once, a prefix of them as run (the one
	 * running at the stop may be left to its thread) */
	for (int i = 0; i < NJOBS; i++) {
		if (jobs[i].ran)
			ran++;
		if (i > 0 && jobs[i].ran)
			assert_true(jobs[i - 1].ran);
	}
	assert_true(ran < NJOBS);
	assert_true(ndone >= NJOBS - 1);
	event_base_free(base);
	/* a job left running must not touch jobs[] after this returns */
	usleep(5000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_runs_in_order_and_calls_back_on_the_loop),
	        cmocka_unit_test(test_free_finishing_runs_every_job),
	        cmocka_unit_test(test_free_dropping_calls_back_unrun),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
