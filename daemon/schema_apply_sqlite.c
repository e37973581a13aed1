#include "schema_apply_sqlite.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_sqlite_call.h"
#include "schema_sqlite_file.h"
#include "schema_sqlite_history.h"

#define RETRY_MS 1000

enum req_kind { REQ_HISTORY, REQ_FILE, REQ_DRY };

/* An item copied with its file, so that it outlives the run's directory. */
struct owned_item {
	struct schema_item it;
	struct schema_file f;
};

static void
owned_clear(struct owned_item *o)
{
	free((char *)o->it.sql);
	free((char *)o->it.path);
	free((char *)o->it.checksum);
	free(o->f.name);
	free(o->f.down_path);
}

static int
owned_copy(struct owned_item *o, const struct schema_item *it)
{
	o->it = *it;
	o->f = (struct schema_file){.version = it->f->version};
	memcpy(o->f.down_checksum, it->f->down_checksum,
	       sizeof(o->f.down_checksum));
	o->f.name = strdup(it->f->name);
	o->f.down_path =
	        it->f->down_path != NULL ? strdup(it->f->down_path) : NULL;
	o->it.f = &o->f;
	o->it.sql = strdup(it->sql);
	o->it.path = strdup(it->path);
	o->it.checksum = it->checksum != NULL ? strdup(it->checksum) : NULL;
	return o->f.name != NULL && o->it.sql != NULL && o->it.path != NULL
	               ? 0
	               : -1;
}

/*
 * One request on the worker. It belongs to the request until it
 * completes: the side may go first, and then only orphans it.
 */
struct req {
	struct schema_sqlite_side *sq; /* NULL once orphaned */
	enum req_kind kind;
	struct schema_sqlite_file_in in;
	struct owned_item *items; /* one for a file, all for a dry run */
	size_t nitems;
	char set[256];
	/* results */
	json_t *rows;
	struct schema_sqlite_file_out out;
	struct schema_sqlite_file_out *dry; /* a dry run's, per item */
};

struct schema_sqlite_side {
	struct event_base *base;
	char *name, *path;
	struct schema_file_ctx ctx;
	char *set, *uid, *username, *job;
	struct schema_sqlite_side_events ev;
	const struct log_ctx *log;
	struct req *pending;
	struct event *retry;
	struct schema_sqlite_file_out *dry; /* per item, after a dry run */
	size_t ndry;
};

static void
req_free(struct req *r)
{
	for (size_t i = 0; r->items != NULL && i < r->nitems; i++)
		owned_clear(&r->items[i]);
	free(r->items);
	json_decref(r->rows);
	free(r->dry);
	free(r);
}

/* The failure's code: busy ("wait and retry") or an error. */
static int
failed_rc(sqlite3 *db)
{
	int rc = sqlite3_errcode(db) & 0xff;

	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? rc : SQLITE_ERROR;
}

static int
req_work(sqlite3 *db, void *arg, char *err, size_t errlen)
{
	struct req *r = arg;

	switch (r->kind) {
	case REQ_HISTORY:
		if (schema_sqlite_history_ensure(db, err, errlen) < 0)
			return failed_rc(db);
		r->rows = schema_sqlite_history_rows(db, r->set, err, errlen);
		return r->rows != NULL ? SQLITE_OK : failed_rc(db);
	case REQ_FILE:
		if (schema_sqlite_file_run(db, &r->in, &r->out) < 0) {
			/* a busy lock is "wait and retry", not a failure */
			snprintf(err, errlen, "%s", r->out.error);
			return r->out.busy ? SQLITE_BUSY : SQLITE_ERROR;
		}
		return SQLITE_OK;
	case REQ_DRY:
		if (schema_sqlite_exec(db, "BEGIN IMMEDIATE", err, errlen) < 0)
			return failed_rc(db);
		for (size_t i = 0; i < r->nitems; i++) {
			struct schema_sqlite_file_in in = r->in;

			in.it = &r->items[i].it;
			if (r->items[i].it.no_tx)
				continue; /* it cannot be rolled back */
			if (schema_sqlite_file_run(db, &in, &r->dry[i]) < 0) {
				snprintf(err, errlen, "%s", r->dry[i].error);
				return SQLITE_ERROR; /* the worker rolls back */
			}
		}
		return schema_sqlite_exec(db, "ROLLBACK", err, errlen) < 0
		               ? SQLITE_ERROR
		               : SQLITE_OK;
	}
	return SQLITE_ERROR;
}

static void submit(struct schema_sqlite_side *sq, struct req *r);

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct schema_sqlite_side *sq = arg;
	struct req *r = sq->pending;

	(void)fd;
	(void)what;
	sq->pending = NULL;
	if (r != NULL)
		submit(sq, r);
}

static void
on_req(void *arg, enum sqlite_worker_status status, const char *error)
{
	struct req *r = arg;
	struct schema_sqlite_side *sq = r->sq;
	char buf[4096];

	if (sq == NULL) { /* the run is gone */
		req_free(r);
		return;
	}
	sq->pending = NULL;
	if (status == SQLITE_WORKER_BUSY) {
		struct timeval tv = {RETRY_MS / 1000, 0};
		log_ctx(LOG_INFO, sq->log,
		        "%s is locked by another writer; waiting for it",
		        sq->path);
		memset(&r->out, 0, sizeof(r->out));
		sq->pending = r;
		evtimer_add(sq->retry, &tv);
		return;
	}
	if (status != SQLITE_WORKER_OK) {
		snprintf(buf, sizeof(buf), "%s",
		         error != NULL ? error : "the SQLite request failed");
		req_free(r);
		sq->ev.file.failed(sq->ev.file.arg, buf);
		return;
	}
	switch (r->kind) {
	case REQ_HISTORY:
		sq->ev.history(sq->ev.file.arg, r->rows);
		break;
	case REQ_FILE:
		if (r->out.skipped) {
			snprintf(buf, sizeof(buf), "%s: %s",
			         r->items[0].it.step, r->out.tags);
			sq->ev.file.warning(sq->ev.file.arg, buf);
		}
		sq->ev.file.ran(sq->ev.file.arg,
		                r->out.tags[0] != '\0' ? r->out.tags : NULL,
		                r->out.changed, r->out.ms);
		break;
	case REQ_DRY:
		free(sq->dry);
		sq->dry = r->dry;
		sq->ndry = r->nitems;
		r->dry = NULL;
		sq->ev.dry_done(sq->ev.file.arg);
		break;
	}
	req_free(r);
}

static void
submit(struct schema_sqlite_side *sq, struct req *r)
{
	char err[1024];

	r->sq = sq;
	sq->pending = r;
	if (schema_sqlite_call(sq->base, sq->name, sq->path, req_work, on_req,
	                       r, err, sizeof(err)) == NULL) {
		sq->pending = NULL;
		req_free(r);
		sq->ev.file.failed(sq->ev.file.arg, err);
	}
}

static struct req *
req_new(struct schema_sqlite_side *sq, enum req_kind kind)
{
	struct req *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		sq->ev.file.failed(sq->ev.file.arg, "out of memory");
		return NULL;
	}
	r->kind = kind;
	snprintf(r->set, sizeof(r->set), "%s", sq->set);
	r->in = (struct schema_sqlite_file_in){.set = sq->set,
	                                       .uid = sq->uid,
	                                       .username = sq->username,
	                                       .job = sq->job,
	                                       .revert = sq->ctx.revert,
	                                       .dry_run = sq->ctx.dry_run};
	return r;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

struct schema_sqlite_side *
schema_apply_sqlite_new(struct event_base *base, const char *name,
                        const char *path, const struct schema_file_ctx *ctx,
                        const struct schema_sqlite_side_events *ev,
                        const struct log_ctx *log)
{
	struct schema_sqlite_side *sq = calloc(1, sizeof(*sq));

	if (sq == NULL)
		return NULL;
	sq->base = base;
	sq->ev = *ev;
	sq->log = log;
	sq->ctx = *ctx;
	sq->name = strdup(name);
	sq->path = strdup(path);
	sq->set = strdup(ctx->set);
	sq->uid = dup_or_null(ctx->uid);
	sq->username = dup_or_null(ctx->username);
	sq->job = dup_or_null(ctx->job);
	sq->retry = evtimer_new(base, on_retry, sq);
	if (sq->name == NULL || sq->path == NULL || sq->set == NULL ||
	    sq->retry == NULL) {
		schema_apply_sqlite_free(sq);
		return NULL;
	}
	return sq;
}

void
schema_apply_sqlite_history(struct schema_sqlite_side *sq)
{
	struct req *r = req_new(sq, REQ_HISTORY);

	if (r != NULL)
		submit(sq, r);
}

void
schema_apply_sqlite_file(struct schema_sqlite_side *sq,
                         const struct schema_item *it, size_t idx)
{
	struct req *r;

	if (sq->ctx.dry_run) { /* ran already, in schema_apply_sqlite_dry */
		const struct schema_sqlite_file_out *o =
		        sq->dry != NULL && idx < sq->ndry ? &sq->dry[idx]
		                                          : NULL;
		sq->ev.file.ran(
		        sq->ev.file.arg,
		        o != NULL && o->tags[0] != '\0' ? o->tags : NULL,
		        o != NULL ? o->changed : 0, o != NULL ? o->ms : 0);
		return;
	}
	r = req_new(sq, REQ_FILE);
	if (r == NULL)
		return;
	r->items = calloc(1, sizeof(*r->items));
	if (r->items == NULL || owned_copy(&r->items[0], it) < 0) {
		r->nitems = r->items != NULL;
		req_free(r);
		sq->ev.file.failed(sq->ev.file.arg, "out of memory");
		return;
	}
	r->nitems = 1;
	r->in.it = &r->items[0].it;
	submit(sq, r);
}

void
schema_apply_sqlite_dry(struct schema_sqlite_side *sq,
                        const struct schema_item *items, size_t n)
{
	struct req *r = req_new(sq, REQ_DRY);

	if (r == NULL)
		return;
	r->items = calloc(n + 1, sizeof(*r->items));
	r->dry = calloc(n + 1, sizeof(*r->dry));
	for (size_t i = 0; r->items != NULL && i < n; i++) {
		r->nitems = i + 1;
		if (owned_copy(&r->items[i], &items[i]) < 0)
			break;
	}
	if (r->dry == NULL || r->items == NULL ||
	    (n > 0 && r->items[n - 1].it.sql == NULL)) {
		req_free(r);
		sq->ev.file.failed(sq->ev.file.arg, "out of memory");
		return;
	}
	submit(sq, r);
}

void
schema_apply_sqlite_free(struct schema_sqlite_side *sq)
{
	if (sq == NULL)
		return;
	if (sq->pending != NULL) {
		if (evtimer_pending(sq->retry, NULL))
			req_free(
			        sq->pending); /* waiting here, not on a worker */
		else
			sq->pending->sq = NULL; /* frees itself when done */
	}
	if (sq->retry != NULL)
		event_free(sq->retry);
	free(sq->dry);
	free(sq->name);
	free(sq->path);
	free(sq->set);
	free(sq->uid);
	free(sq->username);
	free(sq->job);
	free(sq);
}
