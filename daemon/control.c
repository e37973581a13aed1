#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "metrics.h"
#include "vl_frame.h"
#include "vl_names.h"

#define ACCEPT_BACKOFF_MS 500
/* A client turned away gets this long to read why before it is closed. */
#define REJECT_LINGER_SEC 2

struct control_conn {
	struct control_conn *prev, *next;
	struct bufferevent *bev; /* NULL once the client is gone */
	struct event *resume;    /* processes the next buffered call */
	size_t scanned;          /* framing progress, see vl_frame_pop */
	struct ucred peer;
	struct control_req *active;
	bool eof; /* the client sends no more; close once answered */
	int id;
};

/* A client past a limit: told why, then closed (see reject_client). */
struct control_reject {
	struct control_reject *prev, *next;
	struct event *ev;
	int fd;
};

struct control_req {
	struct control_conn *conn;
	struct vl_call call;
	control_cancel_fn cancel;
	void *cancel_arg;
	control_end_fn end;
	void *end_arg;
};

static struct {
	struct event_base *base;
	int fd;
	char *bound_path; /* set when we bound it, to unlink */
	struct event *accept_ev;
	struct event *backoff_ev;
	control_dispatch_fn dispatch;
	void *arg;
	struct control_conn *conns;
	int nconns;
	int next_id;
	struct control_reject *rejects;
	long long rejected; /* clients turned away so far */
	time_t rejected_at; /* when that was last logged */
	struct control_limits limits;
} ctl = {.fd = -1,
         .limits = {.clients = CONTROL_DEFAULT_CLIENTS,
                    .clients_per_uid = CONTROL_DEFAULT_CLIENTS_PER_UID,
                    .output_max = CONTROL_DEFAULT_OUTPUT_MAX}};

static void conn_free(struct control_conn *conn);
static void process_calls(struct control_conn *conn);

static void
drop_client(struct control_conn *conn, const char *why)
{
	log_debug("client %d: %s", conn->id, why);
	if (conn->bev != NULL) {
		bufferevent_free(conn->bev);
		conn->bev = NULL;
	}
}

static void
conn_hangup(struct control_conn *conn, const char *why)
{
	struct control_req *req = conn->active;

	drop_client(conn, why);
	if (req == NULL) {
		conn_free(conn);
		return;
	}
	/* the request still points at conn; it is freed when req ends */
	if (req->cancel != NULL)
		req->cancel(req, req->cancel_arg);
}

static void
conn_free(struct control_conn *conn)
{
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		ctl.conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	ctl.nconns--;
	if (conn->bev != NULL)
		bufferevent_free(conn->bev);
	if (conn->resume != NULL)
		event_free(conn->resume);
	free(conn);
}

static void
send_text(struct control_conn *conn, char *text)
{
	struct evbuffer *out;

	if (conn->bev == NULL || text == NULL) {
		free(text);
		return;
	}
	out = bufferevent_get_output(conn->bev);
	if (vl_frame_push(out, text, strlen(text)) < 0 ||
	    evbuffer_get_length(out) > (size_t)ctl.limits.output_max) {
		free(text);
		/* the request is ending or streaming: its owner sees
		 * control_gone() and ends it */
		log_info("client %d (uid %d): does not read its replies (over "
		         "%lld bytes unread); dropped",
		         conn->id, (int)conn->peer.uid, ctl.limits.output_max);
		drop_client(conn, "does not read its replies");
		return;
	}
	free(text);
}

/*
 * The method's name for the calls metric: a name the daemon does not
 * serve counts as "unknown", so that clients cannot grow the registry.
 */
static const char *
metric_method(const struct control_req *req, const char *error)
{
	if (req->call.method == NULL ||
	    (error != NULL && (strcmp(error, VL_ERR_METHOD_NOT_FOUND) == 0 ||
	                       strcmp(error, VL_ERR_INTERFACE_NOT_FOUND) == 0)))
		return "unknown";
	return req->call.method;
}

/*
 * Ends the active request; the next buffered call, or the teardown of a
 * connection whose client is gone, follows on the next loop turn (never
 * here: a method may reply from inside process_calls, which then still
 * uses conn).
 */
static void
req_end(struct control_req *req, const char *error)
{
	struct control_conn *conn = req->conn;

	metrics_control_call(metric_method(req, error), error);
	if (req->end != NULL)
		req->end(req, error, req->end_arg);
	vl_call_clear(&req->call);
	free(req);
	conn->active = NULL;
	event_active(conn->resume, 0, 0);
}

void
control_reply(struct control_req *req, json_t *params)
{
	if (req->call.oneway || req->conn->bev == NULL)
		json_decref(params);
	else
		send_text(req->conn, vl_reply_encode(params, false));
	req_end(req, NULL);
}

void
control_reply_member(struct control_req *req, const char *name,
                     const char *json)
{
	char *text = NULL;

	if (!req->call.oneway && req->conn->bev != NULL &&
	    asprintf(&text, "{\"parameters\":{\"%s\":%s}}", name, json) >= 0)
		send_text(req->conn, text);
	req_end(req, NULL);
}

void
control_stream(struct control_req *req, json_t *params)
{
	if (!req->call.more || req->conn->bev == NULL) {
		json_decref(params);
		return;
	}
	send_text(req->conn, vl_reply_encode(params, true));
}

void
control_error(struct control_req *req, const char *error, json_t *params)
{
	if (req->call.oneway || req->conn->bev == NULL)
		json_decref(params);
	else
		send_text(req->conn, vl_error_encode(error, params));
	req_end(req, error);
}

void
control_invalid_param(struct control_req *req, const char *parameter)
{
	control_error(req, VL_ERR_INVALID_PARAMETER,
	              json_pack("{s:s}", "parameter", parameter));
}

const struct vl_call *
control_call(const struct control_req *req)
{
	return &req->call;
}

uid_t
control_peer_uid(const struct control_req *req)
{
	return req->conn->peer.uid;
}

gid_t
control_peer_gid(const struct control_req *req)
{
	return req->conn->peer.gid;
}

pid_t
control_peer_pid(const struct control_req *req)
{
	return req->conn->peer.pid;
}

bool
control_gone(const struct control_req *req)
{
	return req->conn->bev == NULL;
}

void
control_on_cancel(struct control_req *req, control_cancel_fn fn, void *arg)
{
	req->cancel = fn;
	req->cancel_arg = arg;
}

void
control_on_end(struct control_req *req, control_end_fn fn, void *arg)
{
	req->end = fn;
	req->end_arg = arg;
}

int
control_clients(void)
{
	return ctl.nconns;
}

void
control_set_limits(const struct control_limits *limits)
{
	ctl.limits = *limits;
}

/* Takes one call off the input; returns 0 when none is complete yet. */
static int
next_call(struct control_conn *conn)
{
	struct evbuffer *in = bufferevent_get_input(conn->bev);
	struct control_req *req;
	char errbuf[256];
	char *text;
	size_t len;

	switch (vl_frame_pop(in, &conn->scanned, &text, &len)) {
	case VL_FRAME_PARTIAL:
		return 0;
	case VL_FRAME_TOO_BIG:
		conn_hangup(conn, "message over 16 MiB; connection closed");
		return -1;
	case VL_FRAME_OK:
		break;
	}
	req = calloc(1, sizeof(*req));
	if (req == NULL) {
		free(text);
		conn_hangup(conn, "out of memory");
		return -1;
	}
	if (vl_call_decode(text, len, &req->call, errbuf, sizeof(errbuf)) < 0) {
		free(text);
		free(req);
		log_info("client %d (uid %d): %s; connection closed", conn->id,
		         (int)conn->peer.uid, errbuf);
		conn_hangup(conn, "malformed message");
		return -1;
	}
	free(text);
	req->conn = conn;
	conn->active = req;
	ctl.dispatch(req, ctl.arg);
	return 1;
}

/*
 * A client that closed its sending side (socat, nc -N) still gets the
 * answers to every call it sent; the connection closes once they are
 * written.
 */
static void
finish_if_done(struct control_conn *conn)
{
	if (!conn->eof || conn->bev == NULL || conn->active != NULL)
		return;
	if (evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0)
		conn_hangup(conn, "closed its end; every call answered");
}

static void
process_calls(struct control_conn *conn)
{
	while (conn->bev != NULL && conn->active == NULL) {
		int rc = next_call(conn);
		if (rc < 0)
			return; /* conn may be gone */
		if (rc == 0) {
			finish_if_done(conn);
			return;
		}
	}
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	finish_if_done(arg);
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct control_conn *conn = arg;

	(void)fd;
	(void)what;
	if (conn->bev == NULL) {
		if (conn->active == NULL)
			conn_free(conn);
		return;
	}
	process_calls(conn);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	process_calls(arg);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_conn *conn = arg;

	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    (conn->active == NULL || conn->active->cancel == NULL)) {
		/* no more calls; answer those buffered (a client that is
		 * gone altogether makes the next write fail). A stream in
		 * progress ends: nobody is left to watch it. */
		conn->eof = true;
		bufferevent_disable(bev, EV_READ);
		if (conn->active == NULL)
			process_calls(conn);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_hangup(conn, "disconnected");
}

static void
reject_close(struct control_reject *r)
{
	event_free(r->ev);
	close(r->fd);
	free(r);
}

static void
reject_free(struct control_reject *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		ctl.rejects = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	reject_close(r);
}

/* Drains what the client sends until it hangs up or its time is up. */
static void
on_reject(evutil_socket_t fd, short what, void *arg)
{
	char buf[4096];

	if ((what & EV_READ) && recv(fd, buf, sizeof(buf), 0) > 0)
		return;
	reject_free(arg);
}

static int
clients_of(uid_t uid)
{
	int n = 0;

	for (const struct control_conn *c = ctl.conns; c != NULL; c = c->next)
		if (c->bev != NULL && c->peer.uid == uid)
			n++;
	return n;
}

/*
 * Answers a client past a limit with TooManyClients (the reply to its
 * first call) and closes it: at once its sending side, so it reads the
 * error and end of file; the rest once it hangs up or after
 * REJECT_LINGER_SEC (closing at once could make its first write fail
 * before it reads why).
 */
static void
reject_client(int fd, const struct ucred *peer, long long limit, bool per_uid)
{
	struct timeval tv = {.tv_sec = REJECT_LINGER_SEC};
	struct control_reject *r = calloc(1, sizeof(*r));
	json_t *p = json_pack("{s:I}", "limit", (json_int_t)limit);
	char *text;

	if (per_uid && p != NULL)
		json_object_set_new(p, "uid",
		                    json_integer((json_int_t)peer->uid));
	text = vl_error_encode(VL_ERROR_TOO_MANY_CLIENTS, p);
	/* at most one line a second, however many are turned away */
	if (time(NULL) != ctl.rejected_at) {
		ctl.rejected_at = time(NULL);
		log_warning("client (uid %d, pid %d) turned away: %s %lld "
		            "clients connected (%lld turned away before it)",
		            (int)peer->uid, (int)peer->pid,
		            per_uid ? "its user has" : "there are", limit,
		            ctl.rejected);
	}
	ctl.rejected++;
	if (text != NULL)
		(void)send(fd, text, strlen(text) + 1,
		           MSG_NOSIGNAL | MSG_DONTWAIT);
	free(text);
	shutdown(fd, SHUT_WR);
	if (r == NULL ||
	    (r->ev = event_new(ctl.base, fd, EV_READ | EV_PERSIST, on_reject,
	                       r)) == NULL ||
	    event_add(r->ev, &tv) < 0) {
		if (r != NULL && r->ev != NULL)
			event_free(r->ev);
		free(r);
		close(fd);
		return;
	}
	r->fd = fd;
	r->next = ctl.rejects;
	if (ctl.rejects != NULL)
		ctl.rejects->prev = r;
	ctl.rejects = r;
}

static void
add_conn(int fd)
{
	struct control_conn *conn = calloc(1, sizeof(*conn));
	socklen_t len = sizeof(conn != NULL ? conn->peer : (struct ucred){0});

	if (conn == NULL) {
		close(fd);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &conn->peer, &len) < 0) {
		log_warning("cannot read peer credentials: %s",
		            strerror(errno));
		close(fd);
		free(conn);
		return;
	}
	if (ctl.nconns >= ctl.limits.clients ||
	    clients_of(conn->peer.uid) >= ctl.limits.clients_per_uid) {
		bool per_uid = ctl.nconns < ctl.limits.clients;
		reject_client(fd, &conn->peer,
		              per_uid ? ctl.limits.clients_per_uid
		                      : ctl.limits.clients,
		              per_uid);
		free(conn);
		return;
	}
	conn->bev = bufferevent_socket_new(ctl.base, fd, BEV_OPT_CLOSE_ON_FREE);
	conn->resume = event_new(ctl.base, -1, 0, on_resume, conn);
	if (conn->bev == NULL || conn->resume == NULL) {
		if (conn->bev == NULL)
			close(fd);
		else
			bufferevent_free(conn->bev);
		if (conn->resume != NULL)
			event_free(conn->resume);
		free(conn);
		return;
	}
	conn->id = ++ctl.next_id;
	conn->next = ctl.conns;
	if (ctl.conns != NULL)
		ctl.conns->prev = conn;
	ctl.conns = conn;
	ctl.nconns++;
	bufferevent_setcb(conn->bev, on_read, on_write, on_event, conn);
	/* stop reading while a whole message's worth of calls is waiting */
	bufferevent_setwatermark(conn->bev, EV_READ, 0, VL_MAX_MESSAGE + 2);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
	log_debug("client %d connected (uid %d, pid %d)", conn->id,
	          (int)conn->peer.uid, (int)conn->peer.pid);
}

static void
on_backoff(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_add(ctl.accept_ev, NULL);
}

static void
on_accept(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	(void)arg;
	for (int i = 0; i < 64; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			add_conn(cfd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			struct timeval tv = {0, (suseconds_t)ACCEPT_BACKOFF_MS *
			                                1000};
			log_warning("accept: %s; pausing new connections",
			            strerror(errno));
			event_del(ctl.accept_ev);
			event_add(ctl.backoff_ev, &tv);
		}
		return;
	}
}

/* A socket file left by a daemon that died is removed; a live one is not. */
static int
clear_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		snprintf(err, errlen,
		         "%s is in use: another migrated is running", path);
		return -1;
	}
	close(fd);
	unlink(path);
	return 0;
}

static int
bind_socket(const char *path, unsigned mode, gid_t gid, char *err,
            size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -1;
	}
	if (clear_stale(path, err, errlen) < 0)
		return -1;
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0777 & ~mode);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		snprintf(err, errlen, "cannot bind %s: %s", path,
		         strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, mode) < 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) ||
	    listen(fd, SOMAXCONN) < 0) {
		snprintf(err, errlen, "cannot set up %s: %s", path,
		         strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	ctl.bound_path = strdup(path);
	return fd;
}

static int
activated_socket(char *err, size_t errlen)
{
	int n = sd_listen_fds(1);

	if (n <= 0)
		return -1;
	if (n > 1)
		log_warning("systemd passed %d sockets; using the first", n);
	if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <=
	    0) {
		snprintf(
		        err, errlen,
		        "the socket systemd passed is not a listening unix stream "
		        "socket");
		return -2;
	}
	if (fcntl(SD_LISTEN_FDS_START, F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		return -2;
	}
	log_info("using the control socket passed by systemd");
	return SD_LISTEN_FDS_START;
}

int
control_open(struct event_base *base, const char *path, unsigned mode,
             gid_t gid, control_dispatch_fn dispatch, void *arg, char *err,
             size_t errlen)
{
	int fd = activated_socket(err, errlen);

	if (fd == -2)
		return -1;
	if (fd < 0)
		fd = bind_socket(path, mode, gid, err, errlen);
	if (fd < 0)
		return -1;
	ctl.base = base;
	ctl.fd = fd;
	ctl.dispatch = dispatch;
	ctl.arg = arg;
	ctl.accept_ev =
	        event_new(base, fd, EV_READ | EV_PERSIST, on_accept, NULL);
	ctl.backoff_ev = evtimer_new(base, on_backoff, NULL);
	if (ctl.accept_ev == NULL || ctl.backoff_ev == NULL ||
	    event_add(ctl.accept_ev, NULL) < 0) {
		snprintf(err, errlen, "cannot watch the control socket");
		control_close();
		return -1;
	}
	return 0;
}

void
control_close(void)
{
	/* owners of streams end them when told; the rest are dropped */
	for (struct control_conn *conn = ctl.conns; conn != NULL;) {
		struct control_conn *next = conn->next;
		if (conn->active != NULL && conn->active->cancel != NULL)
			conn_hangup(conn, "daemon stopping");
		conn = next;
	}
	for (struct control_conn *conn = ctl.conns, *next; conn != NULL;
	     conn = next) {
		struct control_req *req = conn->active;
		next = conn->next;
		if (req != NULL) {
			vl_call_clear(&req->call);
			free(req);
			conn->active = NULL;
		}
		conn_free(conn);
	}
	for (struct control_reject *r = ctl.rejects, *next; r != NULL;
	     r = next) {
		next = r->next;
		reject_close(r);
	}
	ctl.rejects = NULL;
	if (ctl.accept_ev != NULL)
		event_free(ctl.accept_ev);
	if (ctl.backoff_ev != NULL)
		event_free(ctl.backoff_ev);
	ctl.accept_ev = ctl.backoff_ev = NULL;
	if (ctl.fd >= 0)
		close(ctl.fd);
	ctl.fd = -1;
	if (ctl.bound_path != NULL) {
		unlink(ctl.bound_path);
		free(ctl.bound_path);
		ctl.bound_path = NULL;
	}
}
