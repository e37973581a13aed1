/*
 * Unit tests for daemon/schema_files.c: the names of a set's files, their
 * order, refusals as "file: message", checksums independent of line ends,
 * down files and the no-transaction marker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "schema_files.h"
#include "schema_sums.h"

static char tmpdir[PATH_MAX];

/* A fresh empty directory for each test. */
static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_schema_files.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char path[PATH_MAX + 256];

	(void)state;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
		unlink(path);
	}
	closedir(d);
	return rmdir(tmpdir);
}

static void
put(const char *name, const char *text)
{
	char path[PATH_MAX + 256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
expect_error(const char *file, const char *message)
{
	char err[1024] = "", want[PATH_MAX + 1024];
	struct schema_dir *d = schema_dir_load(tmpdir, err, sizeof(err));

	assert_null(d);
	snprintf(want, sizeof(want), "%s/%s: %s", tmpdir, file, message);
	assert_string_equal(err, want);
}

static struct schema_dir *
load_ok(void)
{
	char err[1024] = "";
	struct schema_dir *d = schema_dir_load(tmpdir, err, sizeof(err));

	if (d == NULL)
		fail_msg("%s", err);
	return d;
}

static void
test_empty_dir(void **state)
{
	struct schema_dir *d;

	(void)state;
	put("README", "not SQL, not looked at\n");
	d = load_ok();
	assert_int_equal(d->n, 0);
	assert_null(schema_dir_find(d, 1));
	schema_dir_free(d);
}

static void
test_missing_dir(void **state)
{
	char err[1024], want[PATH_MAX + 64];

	(void)state;
	assert_null(schema_dir_load("/nonexistent/schema", err, sizeof(err)));
	assert_string_equal(err,
	                    "/nonexistent/schema: No such file or directory");
	(void)want;
}

static void
test_order_with_gaps(void **state)
{
	struct schema_dir *d;

	(void)state;
	put("010_orders.sql", "CREATE TABLE orders (id int);\n");
	put("2_users.sql", "CREATE TABLE users (id int);\n");
	put("0001_init.sql", "CREATE SCHEMA app;\n");
	put("100_big-one.sql", "SELECT 1;\n");
	d = load_ok();
	assert_int_equal(d->n, 4);
	assert_int_equal(d->files[0].version, 1);
	assert_string_equal(d->files[0].name, "init");
	assert_int_equal(d->files[1].version, 2);
	assert_string_equal(d->files[1].name, "users");
	assert_int_equal(d->files[2].version, 10);
	assert_string_equal(d->files[2].name, "orders");
	assert_int_equal(d->files[3].version, 100);
	assert_string_equal(d->files[3].name, "big-one");
	assert_string_equal(d->files[2].sql, "CREATE TABLE orders (id int);\n");
	assert_null(d->files[0].down_path);
	assert_ptr_equal(schema_dir_find(d, 10), &d->files[2]);
	assert_null(schema_dir_find(d, 3));
	schema_dir_free(d);
}

static void
test_duplicate_version(void **state)
{
	char err[1024] = "";

	(void)state;
	put("001_a.sql", "SELECT 1;\n");
	put("1_b.sql", "SELECT 2;\n");
	assert_null(schema_dir_load(tmpdir, err, sizeof(err)));
	/* both files are named, whichever is read first */
	assert_non_null(strstr(err, "001_a.sql"));
	assert_non_null(strstr(err, "1_b.sql"));
	assert_non_null(strstr(err, "version 1 is also"));
}

static void
test_bad_names(void **state)
{
	static const char *bad[] = {
	        "foo.sql",   "001.sql",     "001_.sql",  "_x.sql",
	        "a1_x.sql",  "001_a b.sql", "001_é.sql", "001_x.down.down.sql",
	        "001-x.sql",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(bad[i], "SELECT 1;\n");
		expect_error(bad[i], "expected NNN_name.sql (or "
		                     "NNN_name.down.sql): digits, '_', then "
		                     "letters, digits, '_' or '-'");
		teardown(state);
		setup(state);
	}
	/* what does not end in .sql is not a schema file */
	put("001_x.sql.orig", "junk");
	put("notes.txt", "junk");
	{
		struct schema_dir *d = load_ok();
		assert_int_equal(d->n, 0);
		schema_dir_free(d);
	}
}

static void
test_down_files(void **state)
{
	struct schema_dir *d;
	char sum[SCHEMA_CHECKSUM_LEN + 1];

	(void)state;
	put("001_users.sql", "CREATE TABLE users (id int);\n");
	put("001_users.down.sql", "DROP TABLE users;\n");
	put("002_orders.sql", "CREATE TABLE orders (id int);\n");
	d = load_ok();
	assert_int_equal(d->n, 2);
	assert_non_null(d->files[0].down_path);
	assert_non_null(strstr(d->files[0].down_path, "001_users.down.sql"));
	assert_string_equal(d->files[0].down_sql, "DROP TABLE users;\n");
	schema_checksum("DROP TABLE users;\n", 18, sum);
	assert_string_equal(d->files[0].down_checksum, sum);
	assert_null(d->files[1].down_path);
	schema_dir_free(d);

	/* a down file without its up file */
	put("003_x.down.sql", "SELECT 1;\n");
	expect_error("003_x.down.sql",
	             "a down file without its up file 3_x.sql");
	teardown(state);
	setup(state);
	put("003_x.sql", "SELECT 1;\n");
	put("003_y.down.sql", "SELECT 1;\n");
	{
		char err[1024];
		assert_null(schema_dir_load(tmpdir, err, sizeof(err)));
		assert_non_null(strstr(err, "003_y.down.sql: a down file "
		                            "without its up file"));
	}
}

static void
test_checksums(void **state)
{
	char a[SCHEMA_CHECKSUM_LEN + 1], b[SCHEMA_CHECKSUM_LEN + 1],
	        c[SCHEMA_CHECKSUM_LEN + 1];
	struct schema_dir *d;

	(void)state;
	/* sha256("abc"), FIPS 180-2's example */
	schema_checksum("abc", 3, a);
	assert_string_equal(a, "ba7816bf8f01cfea414140de5dae2223"
	                       "b00361a396177a9cb410ff61f20015ad");
	schema_checksum("", 0, a);
	assert_string_equal(a, "e3b0c44298fc1c149afbf4c8996fb924"
	                       "27ae41e4649b934ca495991b7852b855");
	/* CRLF, CR and LF line ends give one checksum */
	schema_checksum("SELECT 1;\nSELECT 2;\n", 20, a);
	schema_checksum("SELECT 1;\r\nSELECT 2;\r\n", 22, b);
	schema_checksum("SELECT 1;\rSELECT 2;\r", 20, c);
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	/* "\r\r\n" is two line ends */
	schema_checksum("x\r\r\n", 4, b);
	schema_checksum("x\n\n", 3, c);
	assert_string_equal(b, c);
	/* another text, another checksum */
	schema_checksum("SELECT 1;\nSELECT 3;\n", 20, b);
	assert_string_not_equal(a, b);

	put("001_lf.sql", "SELECT 1;\nSELECT 2;\n");
	put("002_crlf.sql", "SELECT 1;\r\nSELECT 2;\r\n");
	d = load_ok();
	assert_string_equal(d->files[0].checksum, d->files[1].checksum);
	assert_string_equal(d->files[0].checksum, a);
	/* the text is kept as read */
	assert_string_equal(d->files[1].sql, "SELECT 1;\r\nSELECT 2;\r\n");
	schema_dir_free(d);
}

static void
test_no_transaction(void **state)
{
	struct schema_dir *d;

	(void)state;
	put("001_a.sql", "-- migrated: no-transaction\nCREATE INDEX "
	                 "CONCURRENTLY i ON t (x);\n");
	put("002_b.sql", "  --Migrated :  No-Transaction  \r\nSELECT 1;\n");
	put("003_c.sql", "SELECT 1;\n-- migrated: no-transaction\n");
	put("004_d.sql", "-- migrated: no-transactions\n");
	put("005_e.sql", "-- migrated: no-transaction");
	d = load_ok();
	assert_true(d->files[0].no_transaction);
	assert_true(d->files[1].no_transaction);
	assert_false(d->files[2].no_transaction);
	assert_false(d->files[3].no_transaction);
	assert_true(d->files[4].no_transaction);
	schema_dir_free(d);
}

/* The stat of tmpdir/name. */
static struct stat
stat_of(const char *name)
{
	char path[PATH_MAX + 256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_int_equal(stat(path, &st), 0);
	return st;
}

static const char FAKE[] =
        "feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface";

/* The map: an entry holds while every field of the stat is the same. */
static void
test_sums_map(void **state)
{
	struct schema_sums *s = schema_sums_new();
	struct schema_sum sum = {.no_transaction = true};
	struct stat st, other;
	struct timespec later = {.tv_sec = time(NULL) + 3600};

	(void)state;
	put("001_a.sql", "SELECT 1;\n");
	st = stat_of("001_a.sql");
	memcpy(sum.checksum, FAKE, sizeof(sum.checksum));
	/* changed within the second before the read: not kept */
	schema_sums_put(s, "/x/001_a.sql", &st, &sum, &st.st_mtim);
	assert_int_equal(schema_sums_count(s), 0);
	schema_sums_put(s, "/x/001_a.sql", &st, &sum, &later);
	assert_int_equal(schema_sums_count(s), 1);
	assert_string_equal(schema_sums_find(s, "/x/001_a.sql", &st)->checksum,
	                    FAKE);
	assert_true(schema_sums_find(s, "/x/001_a.sql", &st)->no_transaction);
	assert_null(schema_sums_find(s, "/x/002_b.sql", &st));
	other = st;
	other.st_size++;
	assert_null(schema_sums_find(s, "/x/001_a.sql", &other));
	other = st;
	other.st_mtim.tv_nsec ^= 1;
	assert_null(schema_sums_find(s, "/x/001_a.sql", &other));
	other = st;
	other.st_ctim.tv_sec--;
	assert_null(schema_sums_find(s, "/x/001_a.sql", &other));
	other = st;
	other.st_ino++;
	assert_null(schema_sums_find(s, "/x/001_a.sql", &other));
	/* many entries: the table grows and finds each */
	for (int i = 0; i < 5000; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/y/%05d_v.sql", i);
		schema_sums_put(s, path, &st, &sum, &later);
	}
	assert_int_equal(schema_sums_count(s), 5001);
	assert_non_null(schema_sums_find(s, "/y/04999_v.sql", &st));
	assert_non_null(schema_sums_find(s, "/x/001_a.sql", &st));
	schema_sums_free(s);
}

/*
 * schema_dir_scan takes an unchanged file's checksum from the map (here
 * a fake one, so a read would show) and reads a changed one again.
 */
static void
test_scan_uses_sums(void **state)
{
	struct schema_sums *s = schema_sums_new();
	struct schema_sum sum = {.no_transaction = false};
	struct timespec later = {.tv_sec = time(NULL) + 3600};
	struct schema_dir *d, *full;
	struct stat st;
	char err[1024] = "", path[PATH_MAX + 64];

	(void)state;
	put("001_a.sql", "SELECT 1;\r\n");
	put("001_a.down.sql", "SELECT 0;\n");
	put("002_b.sql", "-- migrated: no-transaction\nSELECT 2;\n");
	full = load_ok();
	/* nothing kept yet (the files are new): the real checksums */
	d = schema_dir_scan(tmpdir, s, err, sizeof(err));
	assert_non_null(d);
	assert_int_equal(d->n, 2);
	assert_null(d->files[0].sql);
	assert_null(d->files[0].down_sql);
	assert_string_equal(d->files[0].checksum, full->files[0].checksum);
	assert_string_equal(d->files[0].down_checksum,
	                    full->files[0].down_checksum);
	assert_true(d->files[1].no_transaction);
	assert_int_equal(schema_sums_count(s), 0);
	schema_dir_free(d);

	st = stat_of("001_a.sql");
	memcpy(sum.checksum, FAKE, sizeof(sum.checksum));
	snprintf(path, sizeof(path), "%s/001_a.sql", tmpdir);
	schema_sums_put(s, path, &st, &sum, &later);
	d = schema_dir_scan(tmpdir, s, err, sizeof(err));
	assert_string_equal(d->files[0].checksum, FAKE);
	assert_string_equal(d->files[1].checksum, full->files[1].checksum);
	schema_dir_free(d);

	/* an edit changes the stat: read again */
	put("001_a.sql", "SELECT 11;\n");
	d = schema_dir_scan(tmpdir, s, err, sizeof(err));
	assert_string_not_equal(d->files[0].checksum, FAKE);
	assert_string_not_equal(d->files[0].checksum, full->files[0].checksum);
	schema_dir_free(d);
	schema_dir_free(full);
	schema_sums_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_empty_dir, setup,
	                                        teardown),
	        cmocka_unit_test(test_missing_dir),
	        cmocka_unit_test_setup_teardown(test_order_with_gaps, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_duplicate_version, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_bad_names, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_down_files, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_checksums, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_no_transaction, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_sums_map, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_scan_uses_sums, setup,
	                                        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
