/*
 * The Prometheus endpoint ([metrics] listen): libevent's evhttp on the
 * daemon's loop serving GET /metrics from metrics_render. A client can
 * never hold the loop: every connection has read and write timeouts,
 * headers and bodies are capped, and at most METRICS_HTTP_MAX_CONNS
 * connections are open at once (the listener pauses until one closes;
 * further clients wait in the kernel's backlog). Anything but GET gets
 * 405, any other path 404.
 */
#ifndef METRICS_HTTP_H
#define METRICS_HTTP_H

#include <stddef.h>

#include <event2/event.h>

#define METRICS_HTTP_TIMEOUT_SEC 5
#define METRICS_HTTP_MAX_HEADERS 8192
#define METRICS_HTTP_MAX_CONNS 64

/*
 * Listens on listen ("ADDRESS:PORT", numeric, as config_listen_split
 * reads it); "" listens nowhere. -1 with err filled.
 */
int metrics_http_open(struct event_base *base, const char *listen, char *err,
                      size_t errlen) __attribute__((warn_unused_result));
/* Closes the listener and every connection. */
void metrics_http_close(void);

#endif
