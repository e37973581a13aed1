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

/* The rows of a test, by version. */
struct rowset {
	struct schema_history_row *r;
	size_t n;
};

static struct schema_history_row
row(long long version, const char *kind, const char *sum, bool failed)
{
	/* 2026-01-01T00:00:00Z */
	return (struct schema_history_row){
	        .version = version,
	        .name = "old",
	        .kind = kind,
	        .checksum = sum,
	        .applied_at = kind != NULL ? "1767225600.000000" : NULL,
	        .duration_ms = 5,
	        .failed = failed,
	        .error = failed ? "boom (SQLSTATE 42601)" : NULL};
}

static void
add(struct rowset *rs, struct schema_history_row r)
{
	struct schema_history_row *more =
	        realloc(rs->r, (rs->n + 1) * sizeof(*more));

	assert_non_null(more);
	rs->r = more;
	rs->r[rs->n++] = r;
}

/*
 * The history of test_every_state's directory (versions 1-6, 8-11): every
 * state once or more.
 */
static void
add_every_state(struct rowset *rows)
{
	add(rows, row(1, "baseline", SUM_A, false));
	add(rows, row(2, "applied", SUM_A, false));
	add(rows, row(3, "applied", SUM_B, false));
	add(rows, row(4, "adopted", NULL, false));
	/* 5: no row, older than the newest applied */
	add(rows, row(6, "repaired", SUM_A, false));
	add(rows, row(7, "applied", SUM_A, false));
	add(rows, row(8, NULL, NULL, true));
	add(rows, row(9, "reverted", "dddd", false));
	add(rows, row(10, "applied", SUM_A, false));
	add(rows, row(12, "forgotten", NULL, false));
	/* 11: no row, newer than every applied one */
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
	struct rowset rows = {0};
	json_t *set =
	        schema_history_merge("app", "target", d, rows.r, rows.n, true);

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
	free(rows.r);
	schema_dir_free(d);
}

static void
test_all_pending(void **state_)
{
	static const long long v[] = {1, 2, 10};
	struct schema_dir *d = dir_of(v, 3);
	struct rowset rows = {0};
	json_t *set =
	        schema_history_merge("app", "target", d, rows.r, rows.n, true);

	(void)state_;
	assert_string_equal(state(set, 0), "pending");
	assert_string_equal(state(set, 2), "pending");
	assert_int_equal(json_integer_value(json_object_get(set, "pending")),
	                 3);
	assert_false(json_is_true(json_object_get(set, "needs_action")));
	json_decref(set);
	free(rows.r);
	schema_dir_free(d);
}

/* Every state at once, in version order. */
static void
test_every_state(void **state_)
{
	static const long long v[] = {1, 2, 3, 4, 5, 6, 8, 9, 10, 11};
	struct schema_dir *d = dir_of(v, 10);
	struct rowset rows = {0};
	json_t *set, *f;

	(void)state_;
	add_every_state(&rows);
	set = schema_history_merge("app", "legacy", d, rows.r, rows.n, true);
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
	free(rows.r);
	schema_dir_free(d);
}

/* Without all: counts of every state, files only those to act on. */
static void
test_summary(void **state_)
{
	static const long long v[] = {1, 2, 3, 4, 5, 6, 8, 9, 10, 11};
	static const struct {
		const char *state;
		long long n;
	} want[] = {{"applied", 3}, {"baseline", 1},     {"adopted", 1},
	            {"pending", 1}, {"out_of_order", 2}, {"failed", 1},
	            {"edited", 1},  {"missing", 1}};
	struct schema_dir *d = dir_of(v, 10);
	struct rowset rows = {0};
	json_t *set, *counts;

	(void)state_;
	add_every_state(&rows);
	set = schema_history_merge("app", "target", d, rows.r, rows.n, false);
	assert_non_null(set);
	assert_false(json_is_true(json_object_get(set, "all")));
	counts = json_object_get(set, "counts");
	assert_int_equal(json_object_size(counts), 8);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(json_integer_value(json_object_get(
		                         counts, want[i].state)),
		                 want[i].n);
	/* 3 edited, 5 and 9 out of order, 7 missing, 8 failed, 11 pending */
	assert_int_equal(json_array_size(json_object_get(set, "files")), 6);
	assert_int_equal(version(set, 0), 3);
	assert_string_equal(state(set, 0), "edited");
	assert_int_equal(version(set, 1), 5);
	assert_int_equal(version(set, 2), 7);
	assert_string_equal(state(set, 2), "missing");
	assert_int_equal(version(set, 3), 8);
	assert_int_equal(version(set, 4), 9);
	assert_int_equal(version(set, 5), 11);
	assert_string_equal(state(set, 5), "pending");
	/* the totals are those of the whole set */
	assert_int_equal(json_integer_value(json_object_get(set, "pending")),
	                 4);
	assert_int_equal(json_integer_value(json_object_get(set, "current")),
	                 10);
	assert_true(json_is_true(json_object_get(set, "needs_action")));
	json_decref(set);
	free(rows.r);
	schema_dir_free(d);
}

/* Applied, but the last attempt (a revert) failed: failed, needs action. */
static void
test_failed_after_applied(void **state_)
{
	static const long long v[] = {1};
	struct schema_dir *d = dir_of(v, 1);
	struct rowset rows = {0};
	json_t *set;

	(void)state_;
	add(&rows, row(1, "applied", SUM_A, true));
	set = schema_history_merge("app", "target", d, rows.r, rows.n, true);
	assert_string_equal(state(set, 0), "failed");
	assert_int_equal(json_integer_value(json_object_get(set, "current")),
	                 1);
	json_decref(set);
	free(rows.r);
	schema_dir_free(d);
}

/* A history of 10,000 versions merges quickly (one walk). */
static void
test_large_history(void **state_)
{
	enum { N = 10000 };
	long long *v = malloc(N * sizeof(*v));
	struct schema_dir *d;
	struct rowset rows = {0};
	json_t *set;

	(void)state_;
	for (long long i = 0; i < N; i++) {
		v[i] = i + 1;
		add(&rows, row(i + 1, "applied", SUM_A, false));
	}
	d = dir_of(v, N);
	set = schema_history_merge("app", "target", d, rows.r, rows.n, true);
	assert_int_equal(json_array_size(json_object_get(set, "files")), N);
	assert_string_equal(state(set, N - 1), "applied");
	json_decref(set);
	/* the summary of a settled set lists nothing */
	set = schema_history_merge("app", "target", d, rows.r, rows.n, false);
	assert_int_equal(json_array_size(json_object_get(set, "files")), 0);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(set, "counts"), "applied")),
	                 N);
	assert_false(json_is_true(json_object_get(set, "needs_action")));
	json_decref(set);
	free(rows.r);
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
	        cmocka_unit_test(test_summary),
	        cmocka_unit_test(test_failed_after_applied),
	        cmocka_unit_test(test_large_history),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
