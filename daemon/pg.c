#include "pg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "log.h"

#define BACKOFF_MIN_MS 250
#define CONNECT_TIMEOUT_SEC 10

struct pg_query {
	struct pg_query *next;
	char *sql;
	int nparams; /* -1: a script for the simple query protocol */
	char **values;
	pg_result_cb cb;
	void *arg;
	/* COPY: rows out of the server go to data (copy_out); rows into it
	 * come from data (copy_in), drained as they are sent. NULL for
	 * other statements, whose COPY data is discarded or refused. */
	struct evbuffer *data;
	bool copy_in;
	bool pipelined; /* may go out before the queries ahead have ended */
};

enum copying { COPY_NONE, COPY_OUT, COPY_IN };

struct pg_conn {
	struct event_base *base;
	char *conninfo;
	char *name;
	pg_state_cb state_cb;
	void *arg;
	pg_notify_cb notify_cb;
	void *notify_arg;

	PGconn *pg;
	enum pg_state state;
	char *error;
	struct event *io;    /* the socket, while connecting or connected */
	struct event *timer; /* back-off, connect timeout */
	struct event *defer; /* a reset pg_query must not run itself */
	int io_fd;
	short io_what;
	long long backoff_ms;
	long long backoff_max_ms;

	/* head..: nsent queries sent, results pending; unsent: the next to
	 * send. More than one is sent only in pipeline mode. */
	struct pg_query *head, *tail, *unsent;
	int nsent;
	bool pipeline;    /* libpq is in pipeline mode */
	PGresult *result; /* result kept for the running query */
	int pending;
	enum copying copying;    /* the running query is in a COPY */
	struct opening *opening; /* a connection being started off the loop */
};

/*
 * PQconnectStartParams resolves the host name before it returns, which can
 * take seconds (DNS, NSS): it runs on a thread of its own, which hands the
 * started PGconn back through a socket pair the loop watches. A connection
 * given up meanwhile (reset, freed) leaves the opening to clean up after
 * itself once the thread is done.
 */
struct opening {
	struct opening *next; /* in abandoned, once given up */
	struct pg_conn *conn; /* NULL once given up */
	struct event *done;
	int sv[2];
	char *conninfo, *name;
	PGconn *pg; /* written by the thread before it signals */
};

static void on_io(evutil_socket_t fd, short what, void *arg);
static void start_connect(struct pg_conn *conn);

static void
query_free(struct pg_query *q)
{
	/* values is NULL for scripts, and when its allocation failed */
	for (int i = 0; q->values != NULL && i < q->nparams; i++)
		free(q->values[i]);
	free(q->values);
	free(q->sql);
	free(q);
}

static void
set_error(struct pg_conn *conn, const char *error)
{
	char *copy = NULL;

	if (error != NULL) {
		copy = strdup(error);
		/* libpq messages end with a newline; logs and replies do not */
		size_t len = copy != NULL ? strlen(copy) : 0;
		while (len > 0 &&
		       (copy[len - 1] == '\n' || copy[len - 1] == ' '))
			copy[--len] = '\0';
	}
	free(conn->error);
	conn->error = copy;
}

static void
set_state(struct pg_conn *conn, enum pg_state state)
{
	if (conn->state == state)
		return;
	conn->state = state;
	if (conn->state_cb != NULL)
		conn->state_cb(conn->arg, state, conn->error);
}

/* Watches the socket for what; re-reads PQsocket, which may change. */
static int
watch(struct pg_conn *conn, short what)
{
	int fd = PQsocket(conn->pg);

	if (fd < 0)
		return -1;
	if (conn->io != NULL && conn->io_fd == fd && conn->io_what == what)
		return 0;
	if (conn->io != NULL)
		event_free(conn->io);
	conn->io = event_new(conn->base, fd, what | EV_PERSIST, on_io, conn);
	if (conn->io == NULL || event_add(conn->io, NULL) < 0)
		return -1;
	conn->io_fd = fd;
	conn->io_what = what;
	return 0;
}

/* Openings given up whose thread has not finished (kept reachable). */
static struct opening *abandoned;

static void
abandon_opening(struct pg_conn *conn)
{
	struct opening *op = conn->opening;

	if (op == NULL)
		return;
	op->conn = NULL;
	op->next = abandoned;
	abandoned = op;
	conn->opening = NULL;
}

static void
close_pg(struct pg_conn *conn)
{
	abandon_opening(conn);
	if (conn->io != NULL) {
		event_free(conn->io);
		conn->io = NULL;
	}
	if (conn->pg != NULL) {
		PQfinish(conn->pg);
		conn->pg = NULL;
	}
	PQclear(conn->result);
	conn->result = NULL;
	conn->nsent = 0;
	conn->pipeline = false;
	conn->copying = COPY_NONE;
}

/* Fails every queued query; callbacks may queue new ones (they fail). */
static void
fail_queries(struct pg_conn *conn, const char *why)
{
	struct pg_query *q = conn->head;

	conn->head = conn->tail = conn->unsent = NULL;
	conn->nsent = 0;
	while (q != NULL) {
		struct pg_query *next = q->next;
		conn->pending--;
		q->cb(q->arg, NULL, why);
		query_free(q);
		q = next;
	}
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pg_conn *conn = arg;

	(void)fd;
	(void)what;
	if (conn->state == PG_CONNECTING) {
		pg_conn_reset(conn, "timed out connecting to the database");
		return;
	}
	start_connect(conn);
}

static void
schedule_reconnect(struct pg_conn *conn)
{
	struct timeval tv = {
	        .tv_sec = conn->backoff_ms / 1000,
	        .tv_usec = (conn->backoff_ms % 1000) * 1000,
	};

	event_del(conn->timer);
	event_add(conn->timer, &tv);
	conn->backoff_ms *= 2;
	if (conn->backoff_ms > conn->backoff_max_ms)
		conn->backoff_ms = conn->backoff_max_ms;
}

void
pg_conn_reset(struct pg_conn *conn, const char *why)
{
	char *reason = strdup(why != NULL ? why : "connection lost");

	if (conn->state == PG_READY)
		log_warning("%s: database connection lost: %s", conn->name,
		            reason != NULL ? reason : "?");
	close_pg(conn);
	set_error(conn, reason);
	set_state(conn, PG_DISCONNECTED);
	fail_queries(conn, reason != NULL ? reason : "connection lost");
	free(reason);
	schedule_reconnect(conn);
}

static void
on_defer(evutil_socket_t fd, short what, void *arg)
{
	struct pg_conn *conn = arg;

	(void)fd;
	(void)what;
	if (conn->state == PG_READY)
		pg_conn_reset(conn, conn->error);
}

/*
 * Drops the connection: now, or on the next loop turn when called from
 * pg_query, whose callbacks must never run inside it.
 */
static void
reset_from(struct pg_conn *conn, bool in_call, const char *why)
{
	if (!in_call) {
		pg_conn_reset(conn, why);
		return;
	}
	set_error(conn, why);
	event_active(conn->defer, 0, 0);
}

/* Sends q: in pipeline mode with a sync of its own, so that it keeps its
 * own result, error and implicit transaction as if sent alone. */
static int
send_one(struct pg_conn *conn, struct pg_query *q)
{
	if (q->pipelined != conn->pipeline) { /* only with nothing in flight */
		if (!(q->pipelined ? PQenterPipelineMode(conn->pg)
		                   : PQexitPipelineMode(conn->pg)))
			return -1;
		conn->pipeline = q->pipelined;
	}
	if (q->nparams < 0)
		return PQsendQuery(conn->pg, q->sql) ? 0 : -1;
	if (!PQsendQueryParams(conn->pg, q->sql, q->nparams, NULL,
	                       (const char *const *)q->values, NULL, NULL, 0))
		return -1;
	return !q->pipelined || PQpipelineSync(conn->pg) ? 0 : -1;
}

/*
 * Sends what may go out now: the next query when none is in flight, and
 * every pipelined query after pipelined ones in flight.
 */
static void
send_next(struct pg_conn *conn, bool in_call)
{
	bool sent = false;

	while (conn->unsent != NULL && conn->state == PG_READY) {
		struct pg_query *q = conn->unsent;

		if (conn->nsent > 0 && !(q->pipelined && conn->pipeline))
			break;
		if (send_one(conn, q) < 0) {
			reset_from(conn, in_call, PQerrorMessage(conn->pg));
			return;
		}
		conn->unsent = q->next;
		conn->nsent++;
		sent = true;
		if (!q->pipelined)
			break;
	}
	if (sent && PQflush(conn->pg) == 1 &&
	    watch(conn, EV_READ | EV_WRITE) < 0)
		reset_from(conn, in_call, "cannot watch the database socket");
}

/* The running query has all its results: report and start the next. */
static void
finish_query(struct pg_conn *conn)
{
	struct pg_query *q = conn->head;
	PGresult *res = conn->result;

	conn->head = q->next;
	if (conn->head == NULL)
		conn->tail = NULL;
	conn->nsent--;
	conn->result = NULL;
	conn->pending--;
	q->cb(q->arg, res, res == NULL ? "no result" : NULL);
	PQclear(res);
	query_free(q);
	send_next(conn, false);
}

static void
keep_result(struct pg_conn *conn, PGresult *res)
{
	bool have_error = conn->result != NULL && !pg_result_ok(conn->result);

	if (have_error) {
		PQclear(res);
		return;
	}
	PQclear(conn->result);
	conn->result = res;
}

/* Watches for writing until libpq's output is flushed. */
static int
flush(struct pg_conn *conn)
{
	int rc = PQflush(conn->pg);

	if (rc < 0)
		return -1;
	return watch(conn, rc == 1 ? EV_READ | EV_WRITE : EV_READ);
}

/*
 * Sends the running query's rows (COPY ... FROM STDIN), then the end of
 * the data. A statement that was not sent as a copy gets refused data.
 */
static void
push_copy(struct pg_conn *conn)
{
	struct pg_query *q = conn->head;
	int rc;

	while (q->copy_in && evbuffer_get_length(q->data) > 0) {
		size_t len = evbuffer_get_contiguous_space(q->data);
		unsigned char *p = evbuffer_pullup(q->data, (ssize_t)len);

		rc = PQputCopyData(conn->pg, (const char *)p, (int)len);
		if (rc < 0)
			goto lost;
		if (rc == 0) /* libpq's buffer is full: wait for the socket */
			goto wait;
		evbuffer_drain(q->data, len);
	}
	rc = PQputCopyEnd(conn->pg,
	                  q->copy_in ? NULL
	                             : "COPY FROM STDIN is not supported in "
	                               "this statement");
	if (rc < 0)
		goto lost;
	if (rc == 0)
		goto wait;
	conn->copying = COPY_NONE;
wait:
	if (flush(conn) < 0)
		goto lost;
	return;
lost:
	pg_conn_reset(conn, PQerrorMessage(conn->pg));
}

/* Reads COPY TO STDOUT rows; 1 when the copy is over, 0 for more. */
static int
pull_copy(struct pg_conn *conn)
{
	struct pg_query *q = conn->head;
	char *buf;
	int n;

	while ((n = PQgetCopyData(conn->pg, &buf, 1)) > 0) {
		/* rows of a statement not sent as a copy are dropped */
		if (q->data != NULL && !q->copy_in &&
		    evbuffer_add(q->data, buf, (size_t)n) < 0) {
			PQfreemem(buf);
			pg_conn_reset(conn, "out of memory reading COPY data");
			return -1;
		}
		PQfreemem(buf);
	}
	if (n == 0)
		return 0;
	if (n == -2) {
		pg_conn_reset(conn, PQerrorMessage(conn->pg));
		return -1;
	}
	conn->copying = COPY_NONE;
	return 1;
}

/*
 * An error libpq made itself (no SQLSTATE from the server): out of memory
 * building a result, or a protocol it could not follow. What the server
 * did with the statement is unknown, so the connection is dropped: its
 * transaction rolls back, its advisory locks go, and its owner starts
 * again from what is committed, as after any lost connection.
 */
static bool
client_side_error(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE ||
	        st == PGRES_NONFATAL_ERROR) &&
	       PQresultErrorField(res, PG_DIAG_SQLSTATE) == NULL;
}

static void
read_results(struct pg_conn *conn)
{
	if (!PQconsumeInput(conn->pg)) {
		pg_conn_reset(conn, PQerrorMessage(conn->pg));
		return;
	}
	while (conn->pg != NULL && conn->nsent > 0) {
		PGresult *res;

		if (conn->copying == COPY_OUT && pull_copy(conn) <= 0)
			return;
		if (conn->copying == COPY_IN || PQisBusy(conn->pg))
			break;
		res = PQgetResult(conn->pg);
		if (res == NULL) {
			/* a pipelined query ends at its sync, once committed */
			if (!conn->head->pipelined)
				finish_query(conn);
			continue;
		}
		switch (PQresultStatus(res)) {
		case PGRES_PIPELINE_SYNC:
			PQclear(res);
			finish_query(conn);
			continue;
		case PGRES_COPY_OUT:
			conn->copying = COPY_OUT;
			PQclear(res);
			continue;
		case PGRES_COPY_IN:
			conn->copying = COPY_IN;
			PQclear(res);
			push_copy(conn);
			continue;
		default:
			if (client_side_error(res)) {
				/* out of memory in libpq, or a broken
				 * protocol: the session is in doubt */
				char why[256];
				snprintf(why, sizeof(why), "%s",
				         PQresultErrorMessage(res));
				PQclear(res);
				pg_conn_reset(conn, why[0] != '\0'
				                            ? why
				                            : "out of memory");
				return;
			}
			keep_result(conn, res);
		}
	}
	if (conn->pg != NULL && PQstatus(conn->pg) == CONNECTION_BAD)
		pg_conn_reset(conn, PQerrorMessage(conn->pg));
	/* notifications go to notify_cb, or are dropped */
	while (conn->pg != NULL) {
		PGnotify *n = PQnotifies(conn->pg);

		if (n == NULL)
			break;
		if (conn->notify_cb != NULL)
			conn->notify_cb(conn->notify_arg, n->relname, n->extra);
		PQfreemem(n);
	}
}

static void
poll_connect(struct pg_conn *conn)
{
	switch (PQconnectPoll(conn->pg)) {
	case PGRES_POLLING_READING:
		if (watch(conn, EV_READ) < 0)
			pg_conn_reset(conn, "cannot watch the database socket");
		return;
	case PGRES_POLLING_WRITING:
		if (watch(conn, EV_WRITE) < 0)
			pg_conn_reset(conn, "cannot watch the database socket");
		return;
	case PGRES_POLLING_OK:
		event_del(conn->timer);
		if (PQsetnonblocking(conn->pg, 1) < 0 ||
		    watch(conn, EV_READ) < 0) {
			pg_conn_reset(conn, PQerrorMessage(conn->pg));
			return;
		}
		conn->backoff_ms = BACKOFF_MIN_MS;
		set_error(conn, NULL);
		log_info("%s: connected to the database", conn->name);
		set_state(conn, PG_READY);
		send_next(conn, false);
		return;
	case PGRES_POLLING_FAILED:
	default:
		pg_conn_reset(conn, PQerrorMessage(conn->pg));
		return;
	}
}

static void
on_io(evutil_socket_t fd, short what, void *arg)
{
	struct pg_conn *conn = arg;

	(void)fd;
	if (conn->state == PG_CONNECTING) {
		poll_connect(conn);
		return;
	}
	if ((what & EV_WRITE) && conn->copying == COPY_IN) {
		push_copy(conn);
		if (conn->pg == NULL)
			return;
	} else if (what & EV_WRITE) {
		int rc = PQflush(conn->pg);
		if (rc < 0) {
			pg_conn_reset(conn, PQerrorMessage(conn->pg));
			return;
		}
		if (rc == 0 && watch(conn, EV_READ) < 0) {
			pg_conn_reset(conn, "cannot watch the database socket");
			return;
		}
	}
	if (what & EV_READ)
		read_results(conn);
}

/* Server notices go to the log, not straight to stderr. */
static void
on_notice(void *arg, const PGresult *res)
{
	struct pg_conn *conn = arg;
	const char *sev =
	        PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	bool warning = sev != NULL && strcmp(sev, "WARNING") == 0;

	log_msg(warning ? LOG_WARNING : LOG_DEBUG, "%s: server %s: %s",
	        conn->name, sev != NULL ? sev : "notice",
	        msg != NULL ? msg : "");
}

static void
opening_free(struct opening *op)
{
	if (op->done != NULL)
		event_free(op->done);
	if (op->sv[0] >= 0)
		close(op->sv[0]);
	free(op->conninfo);
	free(op->name);
	free(op);
}

static void *
open_thread(void *arg)
{
	struct opening *op = arg;
	const char *keys[] = {"dbname", "fallback_application_name", NULL};
	const char *values[] = {op->conninfo, op->name, NULL};
	char byte = 1;
	int fd = op->sv[1];

	op->pg = PQconnectStartParams(keys, values, 1);
	/* the write is the hand-over: op is the loop's after it, and may be
	 * freed at once, so nothing of it is touched again */
	if (send(fd, &byte, 1, MSG_NOSIGNAL) < 0)
		log_error("a connection could not be handed back to the loop");
	close(fd);
	return NULL;
}

/* The thread started the connection: poll it on the loop from now on. */
static void
on_opened(evutil_socket_t fd, short what, void *arg)
{
	struct opening *op = arg;
	struct pg_conn *conn = op->conn;
	char byte;

	(void)what;
	if (recv(fd, &byte, 1, 0) != 1)
		return;     /* spurious; the thread has not written yet */
	if (conn == NULL) { /* given up meanwhile */
		struct opening **p = &abandoned;

		while (*p != NULL && *p != op)
			p = &(*p)->next;
		if (*p != NULL)
			*p = op->next;
		PQfinish(op->pg);
		opening_free(op);
		return;
	}
	conn->opening = NULL;
	conn->pg = op->pg;
	opening_free(op);
	if (conn->pg == NULL || PQstatus(conn->pg) == CONNECTION_BAD) {
		pg_conn_reset(conn, conn->pg != NULL ? PQerrorMessage(conn->pg)
		                                     : "out of memory");
		return;
	}
	PQsetNoticeReceiver(conn->pg, on_notice, conn);
	if (watch(conn, EV_WRITE) < 0)
		pg_conn_reset(conn, "cannot watch the database socket");
}

static void
start_connect(struct pg_conn *conn)
{
	struct timeval timeout = {.tv_sec = CONNECT_TIMEOUT_SEC};
	struct opening *op = calloc(1, sizeof(*op));
	pthread_attr_t attr;
	pthread_t tid;

	close_pg(conn);
	set_state(conn, PG_CONNECTING);
	/* the connect timeout covers the name lookup too */
	event_del(conn->timer);
	event_add(conn->timer, &timeout);
	if (op == NULL)
		goto oom;
	op->sv[0] = op->sv[1] = -1;
	op->conn = conn;
	op->conninfo = strdup(conn->conninfo);
	op->name = strdup(conn->name);
	if (op->conninfo == NULL || op->name == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, op->sv) < 0)
		goto oom;
	op->done = event_new(conn->base, op->sv[0], EV_READ | EV_PERSIST,
	                     on_opened, op);
	if (op->done == NULL || event_add(op->done, NULL) < 0 ||
	    pthread_attr_init(&attr) != 0)
		goto oom;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, open_thread, op) != 0) {
		pthread_attr_destroy(&attr);
		goto oom;
	}
	pthread_attr_destroy(&attr);
	conn->opening = op;
	return;
oom:
	if (op != NULL) {
		if (op->sv[1] >= 0)
			close(op->sv[1]);
		opening_free(op);
	}
	pg_conn_reset(conn, "cannot start connecting: out of resources");
}

struct pg_conn *
pg_conn_new(struct event_base *base, const char *conninfo, const char *name,
            pg_state_cb state_cb, void *arg)
{
	struct pg_conn *conn = calloc(1, sizeof(*conn));

	if (conn == NULL)
		return NULL;
	conn->base = base;
	conn->conninfo = strdup(conninfo);
	conn->name = strdup(name);
	conn->state_cb = state_cb;
	conn->arg = arg;
	conn->backoff_ms = BACKOFF_MIN_MS;
	conn->backoff_max_ms = 5000;
	conn->timer = evtimer_new(base, on_timer, conn);
	conn->defer = event_new(base, -1, 0, on_defer, conn);
	if (conn->conninfo == NULL || conn->name == NULL ||
	    conn->timer == NULL || conn->defer == NULL) {
		pg_conn_free(conn);
		return NULL;
	}
	start_connect(conn);
	return conn;
}

void
pg_conn_free(struct pg_conn *conn)
{
	if (conn == NULL)
		return;
	close_pg(conn);
	conn->state = PG_DISCONNECTED;
	conn->state_cb = NULL;
	fail_queries(conn, "the daemon is stopping");
	if (conn->timer != NULL)
		event_free(conn->timer);
	if (conn->defer != NULL)
		event_free(conn->defer);
	free(conn->conninfo);
	free(conn->name);
	free(conn->error);
	free(conn);
}

void
pg_conn_on_notify(struct pg_conn *conn, pg_notify_cb cb, void *arg)
{
	conn->notify_cb = cb;
	conn->notify_arg = arg;
}

void
pg_conn_set_backoff_max(struct pg_conn *conn, long long ms)
{
	conn->backoff_max_ms = ms < BACKOFF_MIN_MS ? BACKOFF_MIN_MS : ms;
	if (conn->backoff_ms > conn->backoff_max_ms)
		conn->backoff_ms = conn->backoff_max_ms;
}

enum pg_state
pg_conn_state(const struct pg_conn *conn)
{
	return conn->state;
}

const char *
pg_conn_error(const struct pg_conn *conn)
{
	return conn->error;
}

int
pg_conn_pending(const struct pg_conn *conn)
{
	return conn->pending;
}

static int
enqueue(struct pg_conn *conn, const char *sql, int nparams,
        const char *const *values, pg_result_cb cb, void *arg,
        struct evbuffer *data, bool copy_in, bool pipelined)
{
	struct pg_query *q;

	if (conn->state != PG_READY)
		return -1;
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		reset_from(conn, true, "out of memory queueing a query");
		return -1;
	}
	q->sql = strdup(sql);
	q->nparams = nparams;
	q->cb = cb;
	q->arg = arg;
	q->data = data;
	q->copy_in = copy_in;
	q->pipelined = pipelined;
	if (nparams > 0)
		q->values = calloc((size_t)nparams, sizeof(char *));
	if (q->sql == NULL || (nparams > 0 && q->values == NULL))
		goto oom;
	for (int i = 0; i < nparams; i++) {
		if (values[i] == NULL)
			continue;
		q->values[i] = strdup(values[i]);
		if (q->values[i] == NULL)
			goto oom;
	}
	if (conn->tail != NULL)
		conn->tail->next = q;
	else
		conn->head = q;
	conn->tail = q;
	if (conn->unsent == NULL)
		conn->unsent = q;
	conn->pending++;
	send_next(conn, true);
	return 0;
oom:
	query_free(q);
	/* the caller takes -1 for a lost connection: make it one, so that
	 * nobody waits on a live session (holding its locks) forever */
	reset_from(conn, true, "out of memory queueing a query");
	return -1;
}

int
pg_query(struct pg_conn *conn, const char *sql, int nparams,
         const char *const *values, pg_result_cb cb, void *arg)
{
	return enqueue(conn, sql, nparams < 0 ? 0 : nparams, values, cb, arg,
	               NULL, false, false);
}

int
pg_query_pipelined(struct pg_conn *conn, const char *sql, int nparams,
                   const char *const *values, pg_result_cb cb, void *arg)
{
	return enqueue(conn, sql, nparams < 0 ? 0 : nparams, values, cb, arg,
	               NULL, false, true);
}

int
pg_script(struct pg_conn *conn, const char *sql, pg_result_cb cb, void *arg)
{
	return enqueue(conn, sql, -1, NULL, cb, arg, NULL, false, false);
}

int
pg_copy_out(struct pg_conn *conn, const char *sql, struct evbuffer *sink,
            pg_result_cb cb, void *arg)
{
	return enqueue(conn, sql, -1, NULL, cb, arg, sink, false, false);
}

int
pg_copy_in(struct pg_conn *conn, const char *sql, struct evbuffer *rows,
           pg_result_cb cb, void *arg)
{
	return enqueue(conn, sql, -1, NULL, cb, arg, rows, true, false);
}

bool
pg_result_ok(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ||
	       st == PGRES_EMPTY_QUERY;
}

const char *
pg_result_error(const PGresult *res, char *buf, size_t len)
{
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (msg == NULL)
		msg = PQresultErrorMessage(res);
	snprintf(buf, len, "%s (SQLSTATE %s)", msg != NULL ? msg : "?",
	         state != NULL ? state : "?????");
	return buf;
}

char *
pg_escape_ident(struct pg_conn *conn, const char *name)
{
	char *q, *copy;

	if (conn->pg == NULL)
		return NULL;
	q = PQescapeIdentifier(conn->pg, name, strlen(name));
	if (q == NULL)
		return NULL;
	copy = strdup(q);
	PQfreemem(q);
	return copy;
}
