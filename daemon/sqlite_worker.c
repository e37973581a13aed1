/*
 * One worker thread per SQLite file: requests queue under a mutex, the
 * thread runs them one at a time on its own connection, and completions go
 * back to the loop through an eventfd (see sqlite_worker.h).
 */
#include "sqlite_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct sqlite_req {
	struct sqlite_req *next;
	sqlite_work_fn work;
	sqlite_done_fn done;
	void *arg;
	bool cancelled;
	enum sqlite_worker_status status;
	char err[1024];
};

struct req_list {
	struct sqlite_req *head, *tail;
};

struct sqlite_worker {
	struct event_base *base;
	char *name, *path, *uri;
	enum sqlite_worker_mode mode;
	int busy_ms;
	int efd;
	struct event *ev;
	pthread_t thread;
	bool thread_started;
	int pending;  /* loop thread only */
	bool freeing; /* loop thread only */

	/* under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct req_list todo, done;
	struct sqlite_req *running;
	sqlite3 *db; /* set and closed by the thread, interrupted by others */
	bool stopping;
};

static void
list_push(struct req_list *l, struct sqlite_req *r)
{
	r->next = NULL;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
}

static struct sqlite_req *
list_pop(struct req_list *l)
{
	struct sqlite_req *r = l->head;
	if (r) {
		l->head = r->next;
		if (!l->head)
			l->tail = NULL;
		r->next = NULL;
	}
	return r;
}

enum sqlite_worker_status
sqlite_worker_status_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return SQLITE_WORKER_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return SQLITE_WORKER_BUSY;
	case SQLITE_INTERRUPT:
		return SQLITE_WORKER_CANCELLED;
	default:
		return SQLITE_WORKER_ERROR;
	}
}

const char *
sqlite_worker_status_name(enum sqlite_worker_status status)
{
	switch (status) {
	case SQLITE_WORKER_OK:
		return "ok";
	case SQLITE_WORKER_BUSY:
		return "busy";
	case SQLITE_WORKER_ERROR:
		return "error";
	case SQLITE_WORKER_CANCELLED:
		return "cancelled";
	}
	return "error";
}

/* file:PATH?mode=ro with the characters a URI path cannot hold escaped. */
static char *
make_uri(const char *path, enum sqlite_worker_mode mode)
{
	static const char keep[] = "/-._~!$&'()*+,;=:@";
	size_t n = strlen(path);
	char *uri = malloc(3 * n + 32);
	if (!uri)
		return NULL;
	char *p = uri;
	p += sprintf(p, "file:");
	for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr(keep, *s))
			*p++ = (char)*s;
		else
			p += sprintf(p, "%%%02X", *s);
	}
	*p = '\0';
	if (mode == SQLITE_WORKER_READONLY)
		strcat(p, "?mode=ro");
	return uri;
}

/* Worker thread: opens the connection if it is not open. */
static int
open_db(struct sqlite_worker *w, char *err, size_t errlen)
{
	if (w->db)
		return 0;
	int flags = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
	switch (w->mode) {
	case SQLITE_WORKER_READONLY:
		flags |= SQLITE_OPEN_READONLY;
		break;
	case SQLITE_WORKER_READWRITE:
		flags |= SQLITE_OPEN_READWRITE;
		break;
	case SQLITE_WORKER_CREATE:
		flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
		break;
	}
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(w->uri, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "database %s: cannot open %s: %s",
		         w->name, w->path,
		         db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, w->busy_ms);
	pthread_mutex_lock(&w->mu);
	w->db = db;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

static void
run_one(struct sqlite_worker *w, struct sqlite_req *r)
{
	r->err[0] = '\0';
	if (open_db(w, r->err, sizeof r->err) < 0) {
		r->status = SQLITE_WORKER_ERROR;
		return;
	}
	int rc = r->work(w->db, r->arg, r->err, sizeof r->err);
	r->status = sqlite_worker_status_of(rc);
	if (r->status != SQLITE_WORKER_OK && !r->err[0])
		snprintf(r->err, sizeof r->err, "%s", sqlite3_errmsg(w->db));
	if (!sqlite3_get_autocommit(w->db))
		(void)sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
}

static void *
worker_main(void *p)
{
	struct sqlite_worker *w = p;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stopping && !w->todo.head)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stopping)
			break;
		struct sqlite_req *r = list_pop(&w->todo);
		w->running = r;
		bool skip = r->cancelled;
		pthread_mutex_unlock(&w->mu);

		if (!skip)
			run_one(w, r);

		pthread_mutex_lock(&w->mu);
		w->running = NULL;
		if (r->cancelled) {
			r->status = SQLITE_WORKER_CANCELLED;
			snprintf(r->err, sizeof r->err, "cancelled");
		}
		list_push(&w->done, r);
		uint64_t one = 1;
		ssize_t n = write(w->efd, &one, sizeof one);
		(void)n; /* a full counter still wakes the loop */
	}
	sqlite3 *db = w->db;
	w->db = NULL;
	pthread_mutex_unlock(&w->mu);
	sqlite3_close(db);
	return NULL;
}

static void
complete(struct sqlite_worker *w, struct sqlite_req *r)
{
	w->pending--;
	r->done(r->arg, r->status,
	        r->status == SQLITE_WORKER_OK ? NULL : r->err);
	free(r);
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct sqlite_worker *w = arg;
	uint64_t n;
	if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&w->mu);
	struct req_list l = w->done;
	w->done.head = w->done.tail = NULL;
	pthread_mutex_unlock(&w->mu);
	struct sqlite_req *r;
	while ((r = list_pop(&l)))
		complete(w, r);
}

struct sqlite_worker *
sqlite_worker_new(struct event_base *base, const char *name, const char *path,
                  enum sqlite_worker_mode mode, int busy_ms, char *err,
                  size_t errlen)
{
	struct sqlite_worker *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->base = base;
	w->mode = mode;
	w->busy_ms = busy_ms < 0 ? 0 : busy_ms;
	w->efd = -1;
	w->name = strdup(name);
	w->path = strdup(path);
	w->uri = make_uri(path, mode);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (!w->name || !w->path || !w->uri) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		snprintf(err, errlen, "database %s: eventfd: %s", name,
		         strerror(errno));
		goto fail;
	}
	w->ev = event_new(base, w->efd, EV_READ | EV_PERSIST, on_wake, w);
	if (!w->ev || event_add(w->ev, NULL) < 0) {
		snprintf(err, errlen, "database %s: cannot watch its eventfd",
		         name);
		goto fail;
	}
	int rc = pthread_create(&w->thread, NULL, worker_main, w);
	if (rc != 0) {
		snprintf(err, errlen,
		         "database %s: cannot start its thread: %s", name,
		         strerror(rc));
		goto fail;
	}
	w->thread_started = true;
	return w;
fail:
	sqlite_worker_free(w);
	return NULL;
}

void
sqlite_worker_free(struct sqlite_worker *w)
{
	if (!w)
		return;
	w->freeing = true;
	if (w->thread_started) {
		pthread_mutex_lock(&w->mu);
		w->stopping = true;
		if (w->running && w->db) {
			w->running->cancelled = true;
			sqlite3_interrupt(w->db);
		}
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
	}
	/* the thread is gone: no lock needed */
	struct sqlite_req *r;
	while ((r = list_pop(&w->done)))
		complete(w, r);
	while ((r = list_pop(&w->todo))) {
		r->status = SQLITE_WORKER_CANCELLED;
		snprintf(r->err, sizeof r->err, "database %s is being closed",
		         w->name);
		complete(w, r);
	}
	if (w->ev)
		event_free(w->ev);
	if (w->efd >= 0)
		close(w->efd);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->name);
	free(w->path);
	free(w->uri);
	free(w);
}

int
sqlite_worker_submit(struct sqlite_worker *w, sqlite_work_fn work,
                     sqlite_done_fn done, void *arg)
{
	if (w->freeing)
		return -1;
	struct sqlite_req *r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	r->work = work;
	r->done = done;
	r->arg = arg;
	w->pending++;
	pthread_mutex_lock(&w->mu);
	list_push(&w->todo, r);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void
sqlite_worker_cancel(struct sqlite_worker *w, const void *arg)
{
	pthread_mutex_lock(&w->mu);
	for (struct sqlite_req *r = w->todo.head; r; r = r->next)
		if (r->arg == arg)
			r->cancelled = true;
	if (w->running && w->running->arg == arg && w->db) {
		w->running->cancelled = true;
		sqlite3_interrupt(w->db);
	}
	pthread_mutex_unlock(&w->mu);
}

int
sqlite_worker_pending(const struct sqlite_worker *w)
{
	return w->pending;
}

const char *
sqlite_worker_path(const struct sqlite_worker *w)
{
	return w->path;
}

const char *
sqlite_worker_name(const struct sqlite_worker *w)
{
	return w->name;
}

enum sqlite_worker_mode
sqlite_worker_mode(const struct sqlite_worker *w)
{
	return w->mode;
}
