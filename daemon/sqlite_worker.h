/*
 * SQLite off the event loop: one worker thread per SQLite database file,
 * with its own connection, a FIFO of requests and completions handed back
 * to the libevent loop through an eventfd the loop watches (the shape of
 * redis' bio.c). Every libsqlite3 call (open included) runs on the worker
 * thread; the loop thread only queues requests and runs their completion
 * callbacks.
 *
 * A request is a function run on the worker thread with the connection and
 * the caller's argument, and a completion callback run afterwards on the
 * loop thread with the outcome. The caller owns the argument and keeps it
 * alive until its completion callback has run; the work function may write
 * into it (results), the completion callback reads them on the loop. The
 * worker never touches the argument itself.
 *
 * Locking: a file locked by a writer (SQLITE_BUSY or SQLITE_LOCKED after the
 * busy timeout) completes with SQLITE_WORKER_BUSY, "busy, retry": the
 * caller waits and queues the request again; it is not an error.
 *
 * Users: copy steps reading a SQLite source (read-only) and schema sets on
 * SQLite (read-write).
 */
#ifndef SQLITE_WORKER_H
#define SQLITE_WORKER_H

#include <stddef.h>

#include <event2/event.h>
#include <sqlite3.h>

struct sqlite_worker;

enum sqlite_worker_mode {
	/* file:PATH?mode=ro, SQLITE_OPEN_READONLY: copy sources; never
	 * writes, never creates */
	SQLITE_WORKER_READONLY,
	/* SQLITE_OPEN_READWRITE: schema sets on an existing file */
	SQLITE_WORKER_READWRITE,
	/* SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE: creates a missing file */
	SQLITE_WORKER_CREATE,
};

enum sqlite_worker_status {
	SQLITE_WORKER_OK,        /* the work function returned SQLITE_OK */
	SQLITE_WORKER_BUSY,      /* the file is locked: wait and retry */
	SQLITE_WORKER_ERROR,     /* failed; error says why */
	SQLITE_WORKER_CANCELLED, /* cancelled or the worker is being freed */
};

/*
 * Runs on the worker thread with the open connection. Returns an SQLite
 * result code: SQLITE_OK, or the code of the call that failed (SQLITE_BUSY
 * and SQLITE_LOCKED mean "busy, retry"; SQLITE_INTERRUPT after a cancel).
 * A failing function may write its own message into err (errlen bytes,
 * starts empty); when it leaves err empty the worker fills it with
 * sqlite3_errmsg(db). The function must leave no transaction open: on
 * failure the worker rolls back whatever is left (sqlite3_get_autocommit).
 * It must not call into the loop thread's objects (libevent, libpq, the
 * caller's other state): only db, arg and err.
 */
typedef int (*sqlite_work_fn)(sqlite3 *db, void *arg, char *err, size_t errlen);

/*
 * Runs on the loop thread once per request, never from inside
 * sqlite_worker_submit. error is NULL for SQLITE_WORKER_OK, a message
 * otherwise (valid during the call only).
 */
typedef void (*sqlite_done_fn)(void *arg, enum sqlite_worker_status status,
                               const char *error);

/*
 * Starts the worker thread for the SQLite file path (name is for messages:
 * the [database NAME]). The file is opened on the worker thread by the first
 * request, and again by the next request after an open that failed; a
 * request whose open fails completes with SQLITE_WORKER_ERROR naming the
 * path. busy_ms is how long one SQLite call waits for a lock before the
 * request completes with SQLITE_WORKER_BUSY (sqlite3_busy_timeout; 0: not at
 * all). NULL with a message in err when the thread or its eventfd cannot be
 * set up.
 */
struct sqlite_worker *sqlite_worker_new(struct event_base *base,
                                        const char *name, const char *path,
                                        enum sqlite_worker_mode mode,
                                        int busy_ms, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/*
 * Stops the thread and frees. A running request is interrupted
 * (sqlite3_interrupt) and waited for; then every request not completed yet
 * completes with SQLITE_WORKER_CANCELLED, from inside this call; their
 * callbacks may not submit again (refused). Closes the connection.
 */
void sqlite_worker_free(struct sqlite_worker *w);

/*
 * Queues work(db, arg) and, after it, done(arg, ...) on the loop. Returns 0,
 * or -1 when the worker is being freed (nothing runs then).
 */
int sqlite_worker_submit(struct sqlite_worker *w, sqlite_work_fn work,
                         sqlite_done_fn done, void *arg)
        __attribute__((warn_unused_result));

/*
 * Cancels the requests of arg: queued ones complete with
 * SQLITE_WORKER_CANCELLED without running; a running one is interrupted
 * (sqlite3_interrupt) and completes with SQLITE_WORKER_CANCELLED. Their
 * done callbacks still run, later, on the loop: keep arg until then.
 */
void sqlite_worker_cancel(struct sqlite_worker *w, const void *arg);

/* Requests queued, running, or completed but not yet handed back. */
int sqlite_worker_pending(const struct sqlite_worker *w);

const char *sqlite_worker_path(const struct sqlite_worker *w);
const char *sqlite_worker_name(const struct sqlite_worker *w);
enum sqlite_worker_mode sqlite_worker_mode(const struct sqlite_worker *w);

/*
 * The status a work function's SQLite result code maps to: OK, BUSY for
 * SQLITE_BUSY/SQLITE_LOCKED (primary codes), CANCELLED for SQLITE_INTERRUPT,
 * ERROR for the rest. Pure (for tests and for callers' own mapping).
 */
enum sqlite_worker_status sqlite_worker_status_of(int rc);

/* "ok", "busy", "error", "cancelled". */
const char *sqlite_worker_status_name(enum sqlite_worker_status status);

#endif
