#include "schema_sqlite_call.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "schema_sqlite_history.h"

struct schema_sqlite_call {
	struct event_base *base;
	struct sqlite_worker *worker;
	sqlite_work_fn work;
	sqlite_done_fn done;
	void *arg;
};

const char *
schema_sqlite_path(const struct config *cfg, const char *database)
{
	const struct config_database *db = config_database(cfg, database);

	return db != NULL ? db->sqlite : NULL;
}

static void
reap(evutil_socket_t fd, short what, void *arg)
{
	struct schema_sqlite_call *c = arg;

	(void)fd;
	(void)what;
	sqlite_worker_free(c->worker);
	free(c);
}

static void
on_done(void *arg, enum sqlite_worker_status status, const char *error)
{
	struct schema_sqlite_call *c = arg;
	struct timeval now = {0, 0};

	c->done(c->arg, status, error);
	/* not from inside the worker's own completion (if this cannot be
	 * queued, the worker is leaked rather than freed while in use) */
	if (event_base_once(c->base, -1, EV_TIMEOUT, reap, c, &now) < 0)
		log_warning("%s: cannot free the SQLite worker",
		            sqlite_worker_name(c->worker));
}

static int
run(sqlite3 *db, void *arg, char *err, size_t errlen)
{
	struct schema_sqlite_call *c = arg;

	return c->work(db, c->arg, err, errlen);
}

struct schema_sqlite_call *
schema_sqlite_call(struct event_base *base, const char *name, const char *path,
                   sqlite_work_fn work, sqlite_done_fn done, void *arg,
                   char *err, size_t errlen)
{
	struct schema_sqlite_call *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*c = (struct schema_sqlite_call){
	        .base = base, .work = work, .done = done, .arg = arg};
	c->worker = sqlite_worker_new(base, name, path, SQLITE_WORKER_CREATE,
	                              SCHEMA_SQLITE_BUSY_MS, err, errlen);
	if (c->worker == NULL) {
		free(c);
		return NULL;
	}
	if (sqlite_worker_submit(c->worker, run, on_done, c) < 0) {
		snprintf(err, errlen, "%s: the SQLite worker is stopping",
		         name);
		sqlite_worker_free(c->worker);
		free(c);
		return NULL;
	}
	return c;
}

const char *
schema_sqlite_call_error(enum sqlite_worker_status status, const char *error,
                         char *buf, size_t len)
{
	if (status == SQLITE_WORKER_BUSY)
		snprintf(
		        buf, len,
		        "%s: the SQLite file is locked by another writer (waited "
		        "%d ms); try again when it is done",
		        error != NULL ? error : "busy", SCHEMA_SQLITE_BUSY_MS);
	else
		snprintf(buf, len, "%s", error != NULL ? error : "?");
	return buf;
}

int
schema_sqlite_rows_work(sqlite3 *db, void *arg, char *err, size_t errlen)
{
	struct schema_sqlite_rows *r = arg;

	r->rows = schema_sqlite_history_rows(db, r->set, err, errlen);
	return r->rows != NULL ? SQLITE_OK : SQLITE_ERROR;
}
