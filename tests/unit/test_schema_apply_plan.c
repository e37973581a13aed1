/*
 * Unit tests for daemon/schema_apply_plan.c: which files an apply or a
 * revert runs, in which order, and the refusals before anything runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "schema_apply_plan.h"

static char dirname[] = "/srv/schema";
static struct schema_file files[3];
static struct schema_dir dir = {.dir = dirname, .files = files, .n = 3};
static struct schema_item items[4];

static void
set_file(size_t i, long long version, const char *name, bool down)
{
	static char paths[3][64], downs[3][64], names[3][32];

	snprintf(names[i], sizeof(names[i]), "%s", name);
	snprintf(paths[i], sizeof(paths[i]), "/srv/schema/%03lld_%s.sql",
	         version, name);
	snprintf(downs[i], sizeof(downs[i]), "/srv/schema/%03lld_%s.down.sql",
	         version, name);
	files[i] = (struct schema_file){.version = version,
	                                .name = names[i],
	                                .path = paths[i],
	                                .down_path = down ? downs[i] : NULL};
	snprintf(files[i].checksum, sizeof(files[i].checksum), "%064lld",
	         version);
	snprintf(files[i].down_checksum, sizeof(files[i].down_checksum),
	         "d%063lld", version);
}

static int
setup(void **state)
{
	(void)state;
	set_file(0, 1, "users", true);
	set_file(1, 2, "email", false);
	set_file(2, 3, "index", true);
	files[2].no_transaction = true;
	return 0;
}

static int
plan(bool revert, long long to, const struct schema_applied *a, size_t na,
     struct schema_plan *p)
{
	struct schema_plan_in in = {.dir = &dir,
	                            .applied = a,
	                            .napplied = na,
	                            .set = "app",
	                            .dbname = "target",
	                            .dir_path = dirname,
	                            .revert = revert,
	                            .to = to};

	p->items = items;
	return schema_apply_plan(&in, p);
}

static void
test_apply_pending_in_order(void **state)
{
	struct schema_applied a[] = {{.version = 1,
	                              .kind = "applied",
	                              .checksum = files[0].checksum}};
	struct schema_plan p;

	(void)state;
	assert_int_equal(plan(false, -1, a, 1, &p), 0);
	assert_int_equal(p.nitems, 2);
	assert_string_equal(p.items[0].step, "002_email");
	assert_string_equal(p.items[0].path, files[1].path);
	assert_false(p.items[0].no_tx);
	assert_string_equal(p.items[1].step, "003_index");
	assert_true(p.items[1].no_tx);
	assert_string_equal(p.note, "");

	assert_int_equal(plan(false, 2, a, 1, &p), 0);
	assert_int_equal(p.nitems, 1);
}

static void
test_apply_out_of_order(void **state)
{
	struct schema_applied a[] = {{.version = 3, .kind = "baseline"}};
	struct schema_plan p;

	(void)state;
	assert_int_equal(plan(false, -1, a, 1, &p), 0);
	assert_int_equal(p.nitems, 2);
	assert_string_equal(p.note, "version 1 is older than the newest "
	                            "applied (3); applying it out of order");
}

static void
test_apply_refusals(void **state)
{
	struct schema_applied gone[] = {
	        {.version = 7, .kind = "applied", .name = "old"}};
	struct schema_applied edited[] = {
	        {.version = 2, .kind = "applied", .checksum = "ab12"}};
	struct schema_plan p;

	(void)state;
	assert_int_equal(plan(false, -1, gone, 1, &p), -1);
	assert_non_null(strstr(p.err, "version 7 (old) is recorded as applied "
	                              "to target but has no file in "
	                              "/srv/schema"));
	assert_non_null(strstr(p.err, "schema repair app 7 forget"));
	assert_int_equal(plan(false, -1, edited, 1, &p), -1);
	assert_non_null(strstr(p.err, "002_email.sql was edited"));
	assert_non_null(strstr(p.err, "schema repair app 2 accept"));
}

static void
test_revert(void **state)
{
	char down[80];
	struct schema_applied a[] = {
	        {.version = 1, .kind = "applied"},
	        {.version = 3, .kind = "applied", .down = down},
	};
	struct schema_plan p;

	(void)state;
	snprintf(down, sizeof(down), SCHEMA_DOWN_PREFIX "%s",
	         files[2].down_checksum);
	assert_int_equal(plan(true, -1, a, 2, &p), 0);
	assert_int_equal(p.nitems, 1);
	assert_string_equal(p.items[0].path, files[2].down_path);
	assert_string_equal(p.items[0].checksum, files[2].down_checksum);
	assert_false(p.items[0].no_tx);

	assert_int_equal(plan(true, 0, a, 2, &p), 0);
	assert_int_equal(p.nitems, 2);
	assert_string_equal(p.items[1].step, "001_users");

	snprintf(down, sizeof(down), SCHEMA_DOWN_PREFIX "beef");
	assert_int_equal(plan(true, -1, a, 2, &p), -1);
	assert_non_null(strstr(p.err, "003_index.down.sql changed since "
	                              "version 3 was applied"));
}

static void
test_revert_without_down_file(void **state)
{
	struct schema_applied a[] = {{.version = 2, .kind = "applied"}};
	struct schema_plan p;

	(void)state;
	assert_int_equal(plan(true, -1, a, 1, &p), -1);
	assert_non_null(strstr(p.err, "version 2 (email) has no down file "
	                              "(/srv/schema/002_email.down.sql)"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_apply_pending_in_order, setup),
	        cmocka_unit_test_setup(test_apply_out_of_order, setup),
	        cmocka_unit_test_setup(test_apply_refusals, setup),
	        cmocka_unit_test_setup(test_revert, setup),
	        cmocka_unit_test_setup(test_revert_without_down_file, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
