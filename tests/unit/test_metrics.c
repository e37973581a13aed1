/* The metrics registry and its Prometheus text page (daemon/metrics.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>

#include "metrics.h"

/* The page as a NUL-terminated string (malloc'd). */
static char *
page(void)
{
	struct evbuffer *out = evbuffer_new();
	size_t len;
	char *text;

	assert_non_null(out);
	assert_int_equal(metrics_render(out), 0);
	len = evbuffer_get_length(out);
	text = malloc(len + 1);
	assert_non_null(text);
	evbuffer_remove(out, text, len);
	text[len] = '\0';
	evbuffer_free(out);
	return text;
}

static int
reset(void **state)
{
	(void)state;
	metrics_reset();
	return 0;
}

static void
test_every_family_has_help_and_type(void **state)
{
	char *p = page();

	(void)state;
	assert_non_null(strstr(p, "# TYPE migrated_rows_total counter\n"));
	assert_non_null(strstr(p, "# TYPE migrated_batch_duration_seconds "
	                          "histogram\n"));
	assert_non_null(strstr(p, "# TYPE migrated_throttle_active gauge\n"));
	assert_non_null(strstr(p, "# HELP migrated_jobs "));
	/* nothing pushed: no samples, and no progress time yet */
	assert_null(strstr(p, "{"));
	assert_null(strstr(p, "\nmigrated_last_progress_timestamp_seconds "));
	free(p);
}

static void
test_counters_add_and_gauges_set(void **state)
{
	char *p;

	(void)state;
	metrics_batch("p", "s", 100, 0.02);
	metrics_batch("p", "s", 50, 3.0);
	metrics_batch("p", "t", 7, 0.001);
	metrics_batch_size("p", "s", 100);
	metrics_batch_size("p", "s", 250);
	metrics_jobs("running", 4);
	metrics_jobs("running", 2);
	p = page();
	assert_non_null(strstr(p, "migrated_rows_total{plan=\"p\",step=\"s\"} "
	                          "150\n"));
	assert_non_null(strstr(p, "migrated_rows_total{plan=\"p\",step=\"t\"} "
	                          "7\n"));
	assert_non_null(strstr(p,
	                       "migrated_batches_total{plan=\"p\",step=\"s\"}"
	                       " 2\n"));
	assert_non_null(strstr(p, "migrated_batch_size{plan=\"p\",step=\"s\"} "
	                          "250\n"));
	assert_non_null(strstr(p, "migrated_jobs{state=\"running\"} 2\n"));
	/* buckets are cumulative: 0.02 is in le=0.025 on, 3.0 from le=5 */
	assert_non_null(strstr(p, "migrated_batch_duration_seconds_bucket{plan="
	                          "\"p\",step=\"s\",le=\"0.01\"} 0\n"));
	assert_non_null(strstr(p, "migrated_batch_duration_seconds_bucket{plan="
	                          "\"p\",step=\"s\",le=\"0.025\"} 1\n"));
	assert_non_null(strstr(p, "migrated_batch_duration_seconds_bucket{plan="
	                          "\"p\",step=\"s\",le=\"5\"} 2\n"));
	assert_non_null(strstr(p, "migrated_batch_duration_seconds_bucket{plan="
	                          "\"p\",step=\"s\",le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(p, "migrated_batch_duration_seconds_sum{plan="
	                          "\"p\",step=\"s\"} 3.02\n"));
	assert_non_null(strstr(p, "migrated_batch_duration_seconds_count{plan="
	                          "\"p\",step=\"s\"} 2\n"));
	assert_non_null(
	        strstr(p, "\nmigrated_last_progress_timestamp_seconds "));
	free(p);
}

static void
test_label_values_are_escaped(void **state)
{
	char *p;

	(void)state;
	metrics_throttle_active("a \"quoted\"\\reason\nnext", true);
	p = page();
	assert_non_null(strstr(p, "migrated_throttle_active{reason=\"a "
	                          "\\\"quoted\\\"\\\\reason\\nnext\"} 1\n"));
	free(p);
}

static void
test_database_state_is_one_of_three(void **state)
{
	char *p;

	(void)state;
	metrics_db_state("target", "connecting");
	metrics_db_state("target", "connected");
	p = page();
	assert_non_null(strstr(p, "{database=\"target\",state=\"connected\"} "
	                          "1\n"));
	assert_non_null(strstr(p, "{database=\"target\",state=\"connecting\"} "
	                          "0\n"));
	assert_non_null(strstr(p, "{database=\"target\",state=\"disconnected\"}"
	                          " 0\n"));
	free(p);
}

static void
test_a_family_is_capped(void **state)
{
	char name[32], *p;

	(void)state;
	for (int i = 0; i < METRICS_MAX_SERIES + 5; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		metrics_throttled_add(name, 1.5);
	}
	p = page();
	assert_non_null(strstr(p, "migrated_throttled_seconds_total{reason="
	                          "\"r999\"} 1.5\n"));
	assert_null(strstr(p, "reason=\"r1000\""));
	assert_non_null(strstr(p, "\nmigrated_metrics_dropped_total 5\n"));
	free(p);
}

static void
test_control_calls_by_method_and_error(void **state)
{
	char *p;

	(void)state;
	metrics_control_call("io.migrated.GetStatus", NULL);
	metrics_control_call("io.migrated.GetStatus", NULL);
	metrics_control_call("io.migrated.ShowJob", "io.migrated.NoSuchJob");
	p = page();
	assert_non_null(strstr(p, "migrated_control_calls_total{method=\"io."
	                          "migrated.GetStatus\",error=\"\"} 2\n"));
	assert_non_null(strstr(p, "migrated_control_calls_total{method=\"io."
	                          "migrated.ShowJob\",error=\"io.migrated."
	                          "NoSuchJob\"} 1\n"));
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_every_family_has_help_and_type,
	                               reset),
	        cmocka_unit_test_setup(test_counters_add_and_gauges_set, reset),
	        cmocka_unit_test_setup(test_label_values_are_escaped, reset),
	        cmocka_unit_test_setup(test_database_state_is_one_of_three,
	                               reset),
	        cmocka_unit_test_setup(test_a_family_is_capped, reset),
	        cmocka_unit_test_setup(test_control_calls_by_method_and_error,
	                               reset),
	};

	return cmocka_run_group_tests(tests, NULL, reset);
}
