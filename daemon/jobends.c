#include "jobends.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg.h"

struct jobends_sub {
	struct jobends_sub *prev, *next;
	jobends_cb cb;
	void *arg;
};

struct jobends {
	struct pg_conn *conn;
	struct jobends_sub *subs;
	/* the subscriber being called: one that unsubscribes itself (or
	 * the next) from its callback is unlinked safely */
	struct jobends_sub *cursor;
	bool listening;
};

static void
tell(struct jobends *je, long long job)
{
	for (struct jobends_sub *s = je->subs; s != NULL; s = je->cursor) {
		je->cursor = s->next;
		s->cb(s->arg, job);
	}
	je->cursor = NULL;
}

static void
on_listen(void *arg, const PGresult *res, const char *error)
{
	struct jobends *je = arg;

	if (res == NULL || !pg_result_ok(res)) {
		log_warning("cannot LISTEN for job ends: %s; watches poll",
		            error != NULL ? error : "query failed");
		return;
	}
	je->listening = true;
	/* ends while we were not listening are not notified again */
	tell(je, 0);
}

static void
on_state(void *arg, enum pg_state state, const char *error)
{
	struct jobends *je = arg;

	(void)error;
	if (state != PG_READY) {
		je->listening = false;
		return;
	}
	if (pg_query(je->conn, "LISTEN " JOBENDS_CHANNEL, 0, NULL, on_listen,
	             je) < 0)
		log_debug("LISTEN deferred: connection gone");
}

static void
on_notify(void *arg, const char *channel, const char *payload)
{
	struct jobends *je = arg;
	char *end;
	long long job;

	if (strcmp(channel, JOBENDS_CHANNEL) != 0)
		return;
	job = strtoll(payload, &end, 10);
	if (end == payload || *end != '\0' || job <= 0)
		return;
	tell(je, job);
}

struct jobends *
jobends_new(struct event_base *base, const char *conninfo)
{
	struct jobends *je = calloc(1, sizeof(*je));

	if (je == NULL)
		return NULL;
	je->conn = pg_conn_new(base, conninfo, "migrated-listen", on_state, je);
	if (je->conn == NULL) {
		free(je);
		return NULL;
	}
	pg_conn_on_notify(je->conn, on_notify, je);
	return je;
}

void
jobends_free(struct jobends *je)
{
	if (je == NULL)
		return;
	pg_conn_free(je->conn);
	for (struct jobends_sub *s = je->subs, *next; s != NULL; s = next) {
		next = s->next;
		free(s);
	}
	free(je);
}

void
jobends_set_backoff_max(struct jobends *je, long long ms)
{
	pg_conn_set_backoff_max(je->conn, ms);
}

struct jobends_sub *
jobends_subscribe(struct jobends *je, jobends_cb cb, void *arg)
{
	struct jobends_sub *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cb = cb;
	s->arg = arg;
	s->next = je->subs;
	if (je->subs != NULL)
		je->subs->prev = s;
	je->subs = s;
	return s;
}

void
jobends_unsubscribe(struct jobends *je, struct jobends_sub *sub)
{
	if (sub == NULL)
		return;
	if (je->cursor == sub)
		je->cursor = sub->next;
	if (sub->prev != NULL)
		sub->prev->next = sub->next;
	else
		je->subs = sub->next;
	if (sub->next != NULL)
		sub->next->prev = sub->prev;
	free(sub);
}
