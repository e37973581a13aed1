/*
 * Unit tests for schema_history_merge (daemon/schema_history.c): the
 * state of each version from the set's files and its history rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "schema_history.h"

#define SUM_A "aaaa"
#define SUM_B "bbbb"

/* A directory of files with versions v[0..n-1], checksum SUM_A each. */
static struct schema_dir *
dir_of(const long long *v, size_t n)
{
	struct schema_dir *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	d->dir = strdup("/schema/app");
	d->files = calloc(n > 0 ? n : 1, sizeof(*d->files));
	d->n = n;
	for (size_t i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "v%lld", v[i]);
		d->files[i].version = v[i];
		d->files[i].name = strdup(name);
		d->files[i].path = strdup(name);
		d->files[i].sql = strdup("SELECT 1;\n");
		strcpy(d->files[i].checksum, SUM_A);
	}
	return d;
}

static json_t *
row(long long version, const char *kind, const char *sum, bool failed)
{
	json_t *r =
	        json_pack("{s:I, s:s, s:s?, s:s?, s:n, s:s?, s:I, s:b, "
	                  "s:s?}",
	                  "version", (json_int_t)version, "name", "old", "kind",
	                  kind, "checksum", sum, "adopted_from", "applied_at",
	                  kind != NULL ? "2026-01-01T00:00:00.000Z" : NULL,
	                  "duration_ms", (json_int_t)5, "failed", failed,
	                  "error", failed ? "boom (SQLSTATE 42601)" : NULL);
	assert_non_null(r);
	return r;
}

static const char *
state(const json_t *set, size_t i)
{
	json_t *f = json_array_get(json_object_get(set, "files"), i);
	assert_non_null(f);
	return json_string_value(json_object_get(f, "state"));
}

static long long
version(const json_t *set, size_t i)
{
	json_t *f = json_array_get(json_object_get(set, "files"), i);
	return (long long)json_integer_value(json_object_get(f, "version"));
}

static void
test_empty(void **state_)
{
	struct schema_dir *d = dir_of(NULL, 0);
	json_t *rows = json_array();
	json_t *set = schema_history_merge("app", "target", d, rows);

	(void)state_;
	assert_non_null(set);
	assert_string_equal(json_string_value(json_object_get(set, "name")),
	                    "app");
	assert_string_equal(json_string_value(json_object_get(set, "dir")),
	                    "/schema/app");
	assert_true(json_is_null(json_object_get(set, "current")));
	assert_int_equal(json_integer_value(json_object_get(set, "pending")),
	                 0);
	assert_false(json_is_true(json_object_get(set, "needs_action")));
	assert_int_equal(json_array_size(json_object_get(set, "files")), 0);
	json_decref(set);
	json_decref(rows);
	schema_dir_free(d);
}

static void
test_all_pending(void **state_)
{
	static const long long v[] = {1, 2, 10};
	struct schema_dir *d = dir_of(v, 3);
	json_t *rows = json_array();
	json_t *set = schema_history_merge("app", "target", d, rows);

	(void)state_;
	assert_string_equal(state(set, 0), "pending");
	assert_string_equal(state(set, 2), "pending");
	assert_int_equal(json_integer_value(json_object_get(set, "pending")),
	                 3);
	assert_false(json_is_true(json_object_get(set, "needs_action")));
	json_decref(set);
	json_decref(rows);
	schema_dir_free(d);
}

/* Every state at once, in version order. */
static void
test_every_state(void **state_)
{
	static const long long v[] = {1, 2, 3, 4, 5, 6, 8, 9, 10, 11};
	struct schema_dir *d = dir_of(v, 10);
	json_t *rows = json_array();
	json_t *set, *f;

	(void)state_;
	json_array_append_new(rows, row(1, "baseline", SUM_A, false));
	json_array_append_new(rows, row(2, "applied", SUM_A, false));
	json_array_append_new(rows, row(3, "applied", SUM_B, false));
	json_array_append_new(rows, row(4, "adopted", NULL, false));
	/* 5: no row, older than the newest applied */
	json_array_append_new(rows, row(6, "repaired", SUM_A, false));
	json_array_append_new(rows, row(7, "applied", SUM_A, false));
	json_array_append_new(rows, row(8, NULL, NULL, true));
	json_array_append_new(rows, row(9, "reverted", "dddd", false));
	json_array_append_new(rows, row(10, "applied", SUM_A, false));
	json_array_append_new(rows, row(12, "forgotten", NULL, false));
	/* 11: no row, newer than every applied one */
	set = schema_history_merge("app", "legacy", d, rows);
	assert_non_null(set);
	assert_int_equal(json_array_size(json_object_get(set, "files")), 11);
	assert_string_equal(state(set, 0), "baseline");
	assert_string_equal(state(set, 1), "applied");
	assert_string_equal(state(set, 2), "edited");
	assert_string_equal(state(set, 3), "adopted");
	assert_string_equal(state(set, 4), "out_of_order");
	assert_string_equal(state(set, 5), "applied");
	assert_int_equal(version(set, 6), 7);
	assert_string_equal(state(set, 6), "missing");
	assert_string_equal(state(set, 7), "failed");
	assert_string_equal(state(set, 8), "out_of_order");
	assert_string_equal(state(set, 9), "applied");
	assert_int_equal(version(set, 10), 11);
	assert_string_equal(state(set, 10), "pending");
	assert_int_equal(json_integer_value(json_object_get(set, "current")),
	                 10);
	/* 5, 8, 9 and 11 */
	assert_int_equal(json_integer_value(json_object_get(set, "pending")),
	                 4);
	assert_true(json_is_true(json_object_get(set, "needs_action")));

	/* what each file says */
	f = json_array_get(json_object_get(set, "files"), 2);
	assert_string_equal(
	        json_string_value(json_object_get(f, "recorded_checksum")),
	        SUM_B);
	assert_string_equal(json_string_value(json_object_get(f, "checksum")),
	                    SUM_A);
	assert_string_equal(json_string_value(json_object_get(f, "applied_at")),
	                    "2026-01-01T00:00:00.000Z");
	f = json_array_get(json_object_get(set, "files"), 6);
	assert_true(json_is_null(json_object_get(f, "checksum")));
	assert_string_equal(json_string_value(json_object_get(f, "name")),
	                    "old");
	f = json_array_get(json_object_get(set, "files"), 7);
	assert_string_equal(json_string_value(json_object_get(f, "error")),
	                    "boom (SQLSTATE 42601)");
	f = json_array_get(json_object_get(set, "files"), 8);
	assert_string_equal(json_string_value(json_object_get(f, "kind")),
	                    "reverted");
	assert_true(json_is_null(json_object_get(f, "recorded_checksum")));
	assert_true(json_is_null(json_object_get(f, "applied_at")));
	json_decref(set);
	json_decref(rows);
	schema_dir_free(d);
}

/* Applied, but the last attempt (a revert) failed: failed, needs action. */
static void
test_failed_after_applied(void **state_)
{
	static const long long v[] = {1};
	struct schema_dir *d = dir_of(v, 1);
	json_t *rows = json_array();
	json_t *set;

	(void)state_;
	json_array_append_new(rows, row(1, "applied", SUM_A, true));
	set = schema_history_merge("app", "target", d, rows);
	assert_string_equal(state(set, 0), "failed");
	assert_int_equal(json_integer_value(json_object_get(set, "current")),
	                 1);
	json_decref(set);
	json_decref(rows);
	schema_dir_free(d);
}

/* A history of 10,000 versions merges quickly (one walk). */
static void
test_large_history(void **state_)
{
	enum { N = 10000 };
	long long *v = malloc(N * sizeof(*v));
	struct schema_dir *d;
	json_t *rows = json_array(), *set;

	(void)state_;
	for (long long i = 0; i < N; i++) {
		v[i] = i + 1;
		json_array_append_new(rows,
		                      row(i + 1, "applied", SUM_A, false));
	}
	d = dir_of(v, N);
	set = schema_history_merge("app", "target", d, rows);
	assert_int_equal(json_array_size(json_object_get(set, "files")), N);
	assert_string_equal(state(set, N - 1), "applied");
	assert_false(json_is_true(json_object_get(set, "needs_action")));
	json_decref(set);
	json_decref(rows);
	schema_dir_free(d);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_empty),
	        cmocka_unit_test(test_all_pending),
	        cmocka_unit_test(test_every_state),
	        cmocka_unit_test(test_failed_after_applied),
	        cmocka_unit_test(test_large_history),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
