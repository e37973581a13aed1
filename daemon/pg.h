/*
 * Asynchronous libpq connections on the libevent loop: connect, a FIFO of
 * queries, reconnect with back-off when the server goes away. Nothing here
 * blocks.
 */
#ifndef PG_H
#define PG_H

#include <stdbool.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <libpq-fe.h>

enum pg_state { PG_DISCONNECTED, PG_CONNECTING, PG_READY };

struct pg_conn;

/*
 * Result of one query. res is the query's result (cleared by pg after the
 * callback returns: copy what you keep). When the query could not run (the
 * connection was lost, or is being freed) res is NULL and error says why.
 * A result whose status is an error is passed as is.
 */
typedef void (*pg_result_cb)(void *arg, const PGresult *res, const char *error);

/* The connection changed state; error says why it is not ready. */
typedef void (*pg_state_cb)(void *arg, enum pg_state state, const char *error);

/*
 * Starts connecting at once and keeps the connection up until freed.
 * conninfo is a libpq connection string or URI (application_name defaults
 * to name).
 */
struct pg_conn *pg_conn_new(struct event_base *base, const char *conninfo,
                            const char *name, pg_state_cb state_cb, void *arg)
        __attribute__((warn_unused_result));

/*
 * Closes and frees. Pending queries fail first: their callbacks run with
 * res NULL, and new queries they try to queue are refused.
 */
void pg_conn_free(struct pg_conn *conn);

void pg_conn_set_backoff_max(struct pg_conn *conn, long long ms);
enum pg_state pg_conn_state(const struct pg_conn *conn);
/* Why the connection is not ready (or the last error), or NULL. */
const char *pg_conn_error(const struct pg_conn *conn);
/* Number of queries queued or running. */
int pg_conn_pending(const struct pg_conn *conn);

/*
 * Queues one statement with nparams text parameters (values may be NULL for
 * SQL NULL). The callback always runs exactly once, later, never from
 * inside this call. Returns -1 when the connection is not ready.
 */
int pg_query(struct pg_conn *conn, const char *sql, int nparams,
             const char *const *values, pg_result_cb cb, void *arg)
        __attribute__((warn_unused_result));

/*
 * Like pg_query, but sent at once, without waiting for the queries ahead
 * of it when they are pipelined too (libpq pipeline mode): a batch's
 * statements cost one round trip instead of one each. Each query has a
 * sync point of its own, so its result, its error and its implicit
 * transaction are those it would have sent alone; only the order of
 * sending changes. Not for statements that may be a COPY.
 */
int pg_query_pipelined(struct pg_conn *conn, const char *sql, int nparams,
                       const char *const *values, pg_result_cb cb, void *arg)
        __attribute__((warn_unused_result));

/*
 * Queues a script of several statements without parameters (simple query
 * protocol; one implicit transaction unless it says otherwise). The callback
 * gets the first error result, or the last result.
 */
int pg_script(struct pg_conn *conn, const char *sql, pg_result_cb cb, void *arg)
        __attribute__((warn_unused_result));

/*
 * COPY ... TO STDOUT (sql, simple query protocol, no parameters): every
 * row's data is appended to sink, which must live until the callback has
 * run; the callback gets the command's result ("COPY n") or its error.
 * A statement sent with pg_query or pg_script that turns out to be a COPY
 * never hangs the connection: its rows are dropped, and COPY FROM STDIN is
 * refused (the server answers with an error).
 */
int pg_copy_out(struct pg_conn *conn, const char *sql, struct evbuffer *sink,
                pg_result_cb cb, void *arg) __attribute__((warn_unused_result));

/*
 * COPY ... FROM STDIN (sql, no parameters) with the data in rows, in the
 * COPY text format; rows is drained as it is sent and must live until the
 * callback has run.
 */
int pg_copy_in(struct pg_conn *conn, const char *sql, struct evbuffer *rows,
               pg_result_cb cb, void *arg) __attribute__((warn_unused_result));

/* A NOTIFY on a channel the connection LISTENs on. */
typedef void (*pg_notify_cb)(void *arg, const char *channel,
                             const char *payload);

/*
 * Hands every notification the connection receives to cb (NULL: drop
 * them), from the loop, after the results read with it.
 */
void pg_conn_on_notify(struct pg_conn *conn, pg_notify_cb cb, void *arg);

/* Drops the connection and reconnects (after a back-off). */
void pg_conn_reset(struct pg_conn *conn, const char *why);

/* An identifier quoted for SQL text (malloc'd), or NULL. */
char *pg_escape_ident(struct pg_conn *conn, const char *name)
        __attribute__((warn_unused_result));

/* "message (SQLSTATE xxxxx)" of an error result, in buf. */
const char *pg_result_error(const PGresult *res, char *buf, size_t len);
/* True when res is a command or tuples result. */
bool pg_result_ok(const PGresult *res);

#endif
