/*
 * Unit tests for daemon/sqlite_worker.c on a real libevent loop and real
 * SQLite files in a temporary directory: work runs on the worker thread,
 * completions on the loop, read-only really is read-only, a locked file is
 * "busy, retry", a failed open is retried, cancel and free complete every
 * request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sqlite_worker.h"

struct call {
	const char *sql;
	long long value;
	pthread_t thread;
	int done;
	enum sqlite_worker_status status;
	char error[512];
};

static char dir[] = "/tmp/sqlite-worker-XXXXXX";

static int
exec_work(sqlite3 *db, void *arg, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	struct call *c = arg;
	c->thread = pthread_self();
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, c->sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		c->value = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void
on_done(void *arg, enum sqlite_worker_status status, const char *error)
{
	struct call *c = arg;
	c->done++;
	c->status = status;
	snprintf(c->error, sizeof c->error, "%s", error ? error : "");
}

static void
wait_for(struct event_base *base, const struct call *c)
{
	while (!c->done)
		event_base_loop(base, EVLOOP_ONCE);
}

static void
make_db(const char *path, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
path_in_dir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void
run_sql(struct event_base *base, struct sqlite_worker *w, struct call *c)
{
	assert_int_equal(sqlite_worker_submit(w, exec_work, on_done, c), 0);
	assert_int_equal(c->done, 0); /* never from inside submit */
	wait_for(base, c);
	assert_int_equal(c->done, 1);
}

static void
test_read_on_thread(void **state)
{
	(void)state;
	char path[256];
	path_in_dir(path, sizeof path, "a.db");
	make_db(path, "CREATE TABLE t(x); INSERT INTO t VALUES (1),(2),(3);");
	struct event_base *base = event_base_new();
	char err[256];
	struct sqlite_worker *w =
	        sqlite_worker_new(base, "legacy", path, SQLITE_WORKER_READONLY,
	                          0, err, sizeof err);
	assert_non_null(w);
	struct call c = {.sql = "SELECT sum(x) FROM t"};
	run_sql(base, w, &c);
	assert_int_equal(c.status, SQLITE_WORKER_OK);
	assert_int_equal(c.value, 6);
	assert_false(pthread_equal(c.thread, pthread_self()));
	assert_int_equal(sqlite_worker_pending(w), 0);

	/* read-only: a write is refused, the file is unchanged */
	struct call wr = {.sql = "INSERT INTO t VALUES (4)"};
	run_sql(base, w, &wr);
	assert_int_equal(wr.status, SQLITE_WORKER_ERROR);
	assert_non_null(strstr(wr.error, "readonly"));
	struct call again = {.sql = "SELECT count(*) FROM t"};
	run_sql(base, w, &again);
	assert_int_equal(again.value, 3);
	sqlite_worker_free(w);
	event_base_free(base);
}

static void
test_open_retried(void **state)
{
	(void)state;
	char path[256];
	path_in_dir(path, sizeof path, "later?#%.db");
	struct event_base *base = event_base_new();
	char err[256];
	struct sqlite_worker *w =
	        sqlite_worker_new(base, "legacy", path, SQLITE_WORKER_READONLY,
	                          0, err, sizeof err);
	assert_non_null(w);
	struct call c = {.sql = "SELECT 1"};
	run_sql(base, w, &c);
	assert_int_equal(c.status, SQLITE_WORKER_ERROR);
	assert_non_null(strstr(c.error, path));
	assert_non_null(strstr(c.error, "database legacy"));

	/* the file appears (a name URIs must escape): the next request opens */
	make_db(path, "CREATE TABLE t(x); INSERT INTO t VALUES (7);");
	struct call d = {.sql = "SELECT x FROM t"};
	run_sql(base, w, &d);
	assert_int_equal(d.status, SQLITE_WORKER_OK);
	assert_int_equal(d.value, 7);
	sqlite_worker_free(w);
	event_base_free(base);
}

static void
test_locked_is_busy(void **state)
{
	(void)state;
	char path[256];
	path_in_dir(path, sizeof path, "locked.db");
	make_db(path, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
	sqlite3 *writer;
	assert_int_equal(sqlite3_open(path, &writer), SQLITE_OK);
	assert_int_equal(
	        sqlite3_exec(writer, "BEGIN EXCLUSIVE", NULL, NULL, NULL),
	        SQLITE_OK);
	struct event_base *base = event_base_new();
	char err[256];
	struct sqlite_worker *w =
	        sqlite_worker_new(base, "legacy", path, SQLITE_WORKER_READONLY,
	                          20, err, sizeof err);
	assert_non_null(w);
	struct call c = {.sql = "SELECT count(*) FROM t"};
	run_sql(base, w, &c);
	assert_int_equal(c.status, SQLITE_WORKER_BUSY);

	assert_int_equal(sqlite3_exec(writer,
	                              "INSERT INTO t VALUES (2); COMMIT", NULL,
	                              NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(writer);
	struct call d = {.sql = "SELECT count(*) FROM t"};
	run_sql(base, w, &d);
	assert_int_equal(d.status, SQLITE_WORKER_OK);
	assert_int_equal(d.value, 2);
	sqlite_worker_free(w);
	event_base_free(base);
}

static void
test_readwrite_and_create(void **state)
{
	(void)state;
	char path[256];
	path_in_dir(path, sizeof path, "new.db");
	struct event_base *base = event_base_new();
	char err[256];
	struct sqlite_worker *rw = sqlite_worker_new(
	        base, "app", path, SQLITE_WORKER_READWRITE, 0, err, sizeof err);
	assert_non_null(rw);
	struct call c = {.sql = "CREATE TABLE t(x)"};
	run_sql(base, rw, &c);
	assert_int_equal(c.status, SQLITE_WORKER_ERROR); /* no such file */
	assert_int_not_equal(access(path, F_OK), 0);
	sqlite_worker_free(rw);

	struct sqlite_worker *cr = sqlite_worker_new(
	        base, "app", path, SQLITE_WORKER_CREATE, 0, err, sizeof err);
	assert_non_null(cr);
	struct call d = {.sql = "CREATE TABLE t(x)"};
	run_sql(base, cr, &d);
	assert_int_equal(d.status, SQLITE_WORKER_OK);
	struct call e = {.sql = "INSERT INTO t VALUES (5)"};
	run_sql(base, cr, &e);
	assert_int_equal(e.status, SQLITE_WORKER_OK);
	struct call f = {.sql = "SELECT x FROM t"};
	run_sql(base, cr, &f);
	assert_int_equal(f.value, 5);
	sqlite_worker_free(cr);
	event_base_free(base);
}

static void
test_cancel_and_free(void **state)
{
	(void)state;
	char path[256];
	path_in_dir(path, sizeof path, "cancel.db");
	make_db(path, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
	struct event_base *base = event_base_new();
	char err[256];
	struct sqlite_worker *w =
	        sqlite_worker_new(base, "legacy", path, SQLITE_WORKER_READONLY,
	                          0, err, sizeof err);
	assert_non_null(w);
	/* a long query, then two behind it; the middle one is cancelled */
	struct call slow = {.sql = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL "
	                           "SELECT i + 1 FROM r WHERE i < 2000000) "
	                           "SELECT count(*) FROM r"};
	struct call mid = {.sql = "SELECT 1"};
	struct call last = {.sql = "SELECT 2"};
	assert_int_equal(sqlite_worker_submit(w, exec_work, on_done, &slow), 0);
	assert_int_equal(sqlite_worker_submit(w, exec_work, on_done, &mid), 0);
	assert_int_equal(sqlite_worker_submit(w, exec_work, on_done, &last), 0);
	assert_int_equal(sqlite_worker_pending(w), 3);
	sqlite_worker_cancel(w, &mid);
	wait_for(base, &mid);
	wait_for(base, &slow);
	wait_for(base, &last);
	assert_int_equal(mid.status, SQLITE_WORKER_CANCELLED);
	assert_int_equal(mid.value, 0); /* never ran */
	assert_int_equal(last.status, SQLITE_WORKER_OK);
	assert_int_equal(last.value, 2);

	/* free while one runs and one waits: both complete, once, cancelled */
	struct call s2 = {.sql = "WITH RECURSIVE r(i) AS (SELECT 1 UNION "
	                         "ALL SELECT i + 1 FROM r WHERE i < 500000000) "
	                         "SELECT count(*) FROM r"};
	struct call q2 = {.sql = "SELECT 3"};
	assert_int_equal(sqlite_worker_submit(w, exec_work, on_done, &s2), 0);
	assert_int_equal(sqlite_worker_submit(w, exec_work, on_done, &q2), 0);
	usleep(20000);
	sqlite_worker_free(w);
	assert_int_equal(s2.done, 1);
	assert_int_equal(q2.done, 1);
	assert_int_equal(s2.status, SQLITE_WORKER_CANCELLED);
	assert_int_equal(q2.status, SQLITE_WORKER_CANCELLED);
	event_base_free(base);
}

static void
test_status_of(void **state)
{
	(void)state;
	assert_int_equal(sqlite_worker_status_of(SQLITE_OK), SQLITE_WORKER_OK);
	assert_int_equal(sqlite_worker_status_of(SQLITE_BUSY),
	                 SQLITE_WORKER_BUSY);
	assert_int_equal(sqlite_worker_status_of(SQLITE_BUSY_SNAPSHOT),
	                 SQLITE_WORKER_BUSY);
	assert_int_equal(sqlite_worker_status_of(SQLITE_LOCKED_SHAREDCACHE),
	                 SQLITE_WORKER_BUSY);
	assert_int_equal(sqlite_worker_status_of(SQLITE_INTERRUPT),
	                 SQLITE_WORKER_CANCELLED);
	assert_int_equal(sqlite_worker_status_of(SQLITE_CORRUPT),
	                 SQLITE_WORKER_ERROR);
	assert_string_equal(sqlite_worker_status_name(SQLITE_WORKER_BUSY),
	                    "busy");
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_read_on_thread),
	        cmocka_unit_test(test_open_retried),
	        cmocka_unit_test(test_locked_is_busy),
	        cmocka_unit_test(test_readwrite_and_create),
	        cmocka_unit_test(test_cancel_and_free),
	        cmocka_unit_test(test_status_of),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
