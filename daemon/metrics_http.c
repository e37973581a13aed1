#include "metrics_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "config.h"
#include "log.h"
#include "metrics.h"

#define SWEEP_MS 200

/*
 * evhttp (libevent 2.1) has no connection limit and tells nobody when it
 * frees a connection. So each connection's bufferevent is made here
 * (evhttp_set_bevcb) and kept with a reference of ours: evhttp's
 * bufferevent_free clears its callbacks, which the sweep sees, and then
 * drops our reference, which closes the socket.
 */
static struct {
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct event *sweep;
	struct bufferevent *conns[METRICS_HTTP_MAX_CONNS];
	int nconns;
	bool paused; /* the listener waits for a free slot */
} mh;

static void
send_page(struct evhttp_request *req)
{
	struct evbuffer *out = evbuffer_new();

	if (out == NULL || metrics_render(out) < 0) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		if (out != NULL)
			evbuffer_free(out);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	                  "Content-Type",
	                  "text/plain; version=0.0.4; "
	                  "charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	const char *path =
	        evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

	(void)arg;
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND,
		                  "only /metrics is served here");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		                  "Allow", "GET");
		evhttp_send_error(req, 405, "only GET is allowed");
		return;
	}
	send_page(req);
}

static void
set_paused(bool paused)
{
	struct evconnlistener *l = evhttp_bound_socket_get_listener(mh.bound);

	if (paused == mh.paused)
		return;
	mh.paused = paused;
	if (paused) {
		evconnlistener_disable(l);
		log_warning("metrics: %d connections open; new ones wait",
		            METRICS_HTTP_MAX_CONNS);
	} else {
		evconnlistener_enable(l);
	}
}

/* Drops the connections evhttp has freed. */
static void
sweep(void)
{
	int kept = 0;

	for (int i = 0; i < mh.nconns; i++) {
		bufferevent_data_cb rd = NULL;
		bufferevent_event_cb evcb = NULL;

		bufferevent_getcb(mh.conns[i], &rd, NULL, &evcb, NULL);
		if (rd == NULL && evcb == NULL)
			bufferevent_decref(mh.conns[i]);
		else
			mh.conns[kept++] = mh.conns[i];
	}
	mh.nconns = kept;
	if (mh.nconns < METRICS_HTTP_MAX_CONNS)
		set_paused(false);
}

static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sweep();
}

static struct bufferevent *
on_connection(struct event_base *base, void *arg)
{
	struct bufferevent *bev =
	        bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);

	(void)arg;
	/* a connection accepted in the same turn as the one that filled the
	 * slots: evhttp makes its own, untracked (the listener is paused) */
	if (bev == NULL || mh.nconns >= METRICS_HTTP_MAX_CONNS)
		return bev;
	bufferevent_incref(bev);
	mh.conns[mh.nconns++] = bev;
	if (mh.nconns >= METRICS_HTTP_MAX_CONNS)
		set_paused(true);
	return bev;
}

int
metrics_http_open(struct event_base *base, const char *listen, char *err,
                  size_t errlen)
{
	struct timeval tv = {0, (suseconds_t)SWEEP_MS * 1000};
	char host[64], why[256];
	unsigned port;

	if (listen[0] == '\0')
		return 0;
	if (config_listen_split(listen, host, sizeof(host), &port, why,
	                        sizeof(why)) < 0) {
		snprintf(err, errlen, "[metrics] listen: %s", why);
		return -1;
	}
	mh.http = evhttp_new(base);
	mh.sweep = event_new(base, -1, EV_PERSIST, on_sweep, NULL);
	if (mh.http == NULL || mh.sweep == NULL ||
	    event_add(mh.sweep, &tv) < 0) {
		snprintf(err, errlen, "[metrics] listen: out of memory");
		metrics_http_close();
		return -1;
	}
	evhttp_set_timeout(mh.http, METRICS_HTTP_TIMEOUT_SEC);
	evhttp_set_max_headers_size(mh.http, METRICS_HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(mh.http, METRICS_HTTP_MAX_HEADERS);
	/* every method reaches on_request, which answers 405 (evhttp's own
	 * refusal is 501) */
	evhttp_set_allowed_methods(
	        mh.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	                         EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	                         EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	                         EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_bevcb(mh.http, on_connection, NULL);
	evhttp_set_gencb(mh.http, on_request, NULL);
	mh.bound = evhttp_bind_socket_with_handle(mh.http, host,
	                                          (ev_uint16_t)port);
	if (mh.bound == NULL) {
		snprintf(err, errlen,
		         "[metrics] listen: cannot listen on %s: %s", listen,
		         strerror(errno));
		metrics_http_close();
		return -1;
	}
	log_info("metrics: serving http://%s/metrics", listen);
	return 0;
}

void
metrics_http_close(void)
{
	if (mh.http != NULL)
		evhttp_free(mh.http); /* frees its connections */
	mh.http = NULL;
	mh.bound = NULL;
	for (int i = 0; i < mh.nconns; i++)
		bufferevent_decref(mh.conns[i]);
	mh.nconns = 0;
	if (mh.sweep != NULL)
		event_free(mh.sweep);
	mh.sweep = NULL;
	mh.paused = false;
}
