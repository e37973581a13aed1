/*
 * Watch: a streamed reply of job progress until the jobs end. Progress is
 * polled every WATCH_INTERVAL_MS; an end is heard at once (jobends.c).
 * Declared in jobs.h with the other job methods.
 */
#include "jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "dbcall.h"
#include "jobends.h"
#include "log.h"
#include "pg.h"
#include "store.h"
#include "vl_dispatch.h"
#include "vl_names.h"

#define WATCH_INTERVAL_MS 1000

struct watch {
	struct control_req *req;
	struct daemon *d;
	struct event *timer;
	char *ids;    /* JSON array, NULL: unfinished at start */
	json_t *last; /* id -> last info sent */
	struct jobends_sub *sub;
	bool querying;
	bool again; /* a job ended during the query: look again at once */
	bool cancelled;
};

static const char watch_sql[] =
        "SELECT id, info,"
        " state IN ('succeeded', 'failed', 'cancelled', 'rolled_back')"
        " FROM migrated.job_info"
        " WHERE id IN (SELECT x::bigint FROM json_array_elements_text($1::json) x)"
        " ORDER BY id";
static const char watch_unfinished_sql[] =
        "SELECT coalesce(json_agg(id ORDER BY id), '[]') FROM migrated.jobs"
        " WHERE state IN ('queued', 'running', 'paused')";

static struct timeval
watch_interval(void)
{
	return (struct timeval){WATCH_INTERVAL_MS / 1000,
	                        (suseconds_t)(WATCH_INTERVAL_MS % 1000) * 1000};
}

static void
watch_free(struct watch *w)
{
	jobends_unsubscribe(w->d->ends, w->sub);
	if (w->timer != NULL)
		event_free(w->timer);
	free(w->ids);
	json_decref(w->last);
	free(w);
}

static void
watch_cancel(struct control_req *req, void *arg)
{
	struct watch *w = arg;

	(void)req;
	w->cancelled = true;
	control_reply(w->req, NULL);
	w->req = NULL;
	if (!w->querying)
		watch_free(w);
}

/* Sends the jobs that changed; ends the call when all have ended. */
static void
watch_send(struct watch *w, const PGresult *res)
{
	int n = PQntuples(res);
	bool ended = true;
	json_t *changed = json_array();

	for (int i = 0; i < n; i++) {
		const char *id = PQgetvalue(res, i, 0);
		const char *info = PQgetvalue(res, i, 1);
		json_t *prev = json_object_get(w->last, id);
		if (strcmp(PQgetvalue(res, i, 2), "t") != 0)
			ended = false;
		if (prev != NULL && strcmp(json_string_value(prev), info) == 0)
			continue;
		json_object_set_new(w->last, id, json_string(info));
		json_array_append_new(changed, dbcall_json_cell(res, i, 1));
	}
	size_t count = json_array_size(changed);
	for (size_t i = 0; i < count; i++) {
		json_t *job = json_incref(json_array_get(changed, i));
		bool last = ended && i + 1 == count;
		json_t *reply =
		        json_pack("{s:o, s:b}", "job", job, "ended", last);
		if (last)
			control_reply(w->req, reply);
		else
			control_stream(w->req, reply);
	}
	json_decref(changed);
	if (ended && count == 0)
		control_reply(w->req,
		              json_pack("{s:n, s:b}", "job", "ended", 1));
	if (ended) {
		w->req = NULL;
		watch_free(w);
		return;
	}
	if (w->again) {
		w->again = false;
		event_active(w->timer, EV_TIMEOUT, 0);
		return;
	}
	struct timeval tv = watch_interval();
	event_add(w->timer, &tv);
}

/* A job ended somewhere: one of ours? Look now, not at the next poll. */
static void
on_job_end(void *arg, long long job)
{
	struct watch *w = arg;
	char id[24];

	snprintf(id, sizeof(id), "%lld", job);
	if (w->cancelled || (job != 0 && json_object_size(w->last) > 0 &&
	                     json_object_get(w->last, id) == NULL))
		return;
	if (w->querying) {
		w->again = true;
		return;
	}
	event_del(w->timer);
	event_active(w->timer, EV_TIMEOUT, 0);
}

static void
on_watch_result(void *arg, const PGresult *res, const char *error)
{
	struct watch *w = arg;
	struct timeval tv = watch_interval();

	w->querying = false;
	if (w->cancelled) {
		watch_free(w);
		return;
	}
	if (res == NULL || !pg_result_ok(res)) {
		/* the database is away: keep watching until it is back */
		log_debug("watch: %s", error != NULL ? error : "query failed");
		event_add(w->timer, &tv);
		return;
	}
	if (w->ids == NULL) {
		w->ids = strdup(PQgetvalue(res, 0, 0));
		event_active(w->timer, 0, 0);
		return;
	}
	watch_send(w, res);
}

static void
on_watch_timer(evutil_socket_t fd, short what, void *arg)
{
	struct watch *w = arg;
	struct timeval tv = watch_interval();
	const char *values[1] = {w->ids};
	int rc;

	(void)fd;
	(void)what;
	if (control_gone(w->req)) {
		watch_cancel(w->req, w);
		return;
	}
	/* not while the store checks or upgrades its schema: its
	 * transactions share the connection */
	if (!store_ready(w->d->store))
		rc = -1;
	else if (w->ids == NULL)
		rc = pg_query(store_conn(w->d->store), watch_unfinished_sql, 0,
		              NULL, on_watch_result, w);
	else
		rc = pg_query(store_conn(w->d->store), watch_sql, 1, values,
		              on_watch_result, w);
	if (rc < 0) {
		event_add(w->timer, &tv);
		return;
	}
	w->querying = true;
}

struct watch_args {
	json_t *ids;
};

static const struct vl_field watch_fields[] = {
        VL_FIELD_INTS("ids", 0, struct watch_args, ids, 1, INT64_MAX),
        VL_FIELDS_END,
};
const struct vl_params jobs_watch_params =
        VL_PARAMS(struct watch_args, watch_fields);

void
jobs_watch(struct control_req *req, struct daemon *d, const void *args)
{
	json_t *ids = ((const struct watch_args *)args)->ids;
	struct watch *w;

	if (!control_call(req)->more) {
		control_error(req, VL_ERR_EXPECTED_MORE, NULL);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		dbcall_unavailable(req, "out of memory");
		return;
	}
	w->req = req;
	w->d = d;
	w->last = json_object();
	w->timer = evtimer_new(d->base, on_watch_timer, w);
	if (ids != NULL && json_array_size(ids) > 0)
		w->ids = json_dumps(ids, JSON_COMPACT);
	if (w->last == NULL || w->timer == NULL) {
		watch_free(w);
		dbcall_unavailable(req, "out of memory");
		return;
	}
	/* without it (out of memory) the watch still polls */
	w->sub = jobends_subscribe(d->ends, on_job_end, w);
	control_on_cancel(req, watch_cancel, w);
	event_active(w->timer, 0, 0);
}
