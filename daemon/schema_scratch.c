#include "schema_scratch.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "log.h"
#include "pg.h"

#define APP_NAME "migrated schema scratch"

enum phase {
	BUILDING, /* creating, then applying the files */
	BUILT,    /* cb is due (built or failed) */
	HANDED,   /* cb ran; waiting for schema_scratch_drop */
	DROPPING, /* DROP DATABASE sent */
	DROPPED,  /* dropped_cb is due */
};

struct schema_scratch {
	struct event_base *base;
	enum phase phase;
	char name[64];
	char *server_conninfo, *conninfo;
	struct pg_conn *admin, *db;
	bool admin_ready, db_ready, created;
	struct schema_scratch_file *files;
	size_t nfiles, next;
	struct event *kick;
	char *error;
	bool unavailable;
	bool closing;
	schema_scratch_cb cb;
	void *arg;
	schema_scratch_dropped_cb dropped_cb;
	void *dropped_arg;
};

static unsigned scratch_counter;

/*
 * This host's part of a scratch database's name: 8 hex digits of a hash
 * of the host name, so that a daemon sweeping leftovers only looks at the
 * databases of daemons of its own host, whose pids it can check.
 */
static const char *
host_tag(void)
{
	static char tag[9];
	char host[256] = "";
	uint32_t h = 2166136261u;

	if (tag[0] != '\0')
		return tag;
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	for (const unsigned char *p = (const unsigned char *)host; *p; p++)
		h = (h ^ *p) * 16777619u;
	snprintf(tag, sizeof(tag), "%08x", (unsigned)h);
	return tag;
}

void
schema_scratch_position(const char *text, long pos, unsigned *line,
                        unsigned *column)
{
	long chars = 1;

	*line = 1;
	*column = 1;
	for (const unsigned char *p = (const unsigned char *)text;
	     *p != '\0' && chars < pos; p++) {
		if ((*p & 0xC0) == 0x80)
			continue; /* a UTF-8 continuation byte */
		chars++;
		if (*p == '\n') {
			(*line)++;
			*column = 1;
		} else {
			(*column)++;
		}
	}
}

/* value quoted for a conninfo: 'it''s' is written 'it\'s' */
static void
append_value(char *out, size_t *n, const char *v)
{
	out[(*n)++] = '\'';
	for (; *v != '\0'; v++) {
		if (*v == '\'' || *v == '\\')
			out[(*n)++] = '\\';
		out[(*n)++] = *v;
	}
	out[(*n)++] = '\'';
}

char *
schema_scratch_conninfo(const char *conninfo, const char *dbname,
                        char **password, char *err, size_t errlen)
{
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
	size_t room = 1, n = 0;
	char *out;

	if (password != NULL)
		*password = NULL;
	if (opts == NULL) {
		snprintf(err, errlen, "bad conninfo: %s",
		         perr != NULL ? perr : "out of memory");
		PQfreemem(perr);
		return NULL;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (o->val != NULL)
			room += strlen(o->keyword) + 2 * strlen(o->val) + 4;
	room += dbname != NULL ? 2 * strlen(dbname) + 12 : 0;
	out = malloc(room);
	if (out == NULL) {
		PQconninfoFree(opts);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		const char *v = o->val;
		if (strcmp(o->keyword, "dbname") == 0 && dbname != NULL)
			continue;
		if (v == NULL)
			continue;
		if (strcmp(o->keyword, "password") == 0 && password != NULL) {
			*password = strdup(v);
			continue;
		}
		if (n > 0)
			out[n++] = ' ';
		memcpy(out + n, o->keyword, strlen(o->keyword));
		n += strlen(o->keyword);
		out[n++] = '=';
		append_value(out, &n, v);
	}
	if (dbname != NULL) {
		if (n > 0)
			out[n++] = ' ';
		memcpy(out + n, "dbname=", 7);
		n += 7;
		append_value(out, &n, dbname);
	}
	out[n] = '\0';
	PQconninfoFree(opts);
	return out;
}

static void
scratch_free(struct schema_scratch *s)
{
	s->closing = true;
	pg_conn_free(s->db);
	pg_conn_free(s->admin);
	if (s->kick != NULL)
		event_free(s->kick);
	for (size_t i = 0; s->files != NULL && i < s->nfiles; i++) {
		free((char *)s->files[i].path);
		free((char *)s->files[i].sql);
	}
	free(s->files);
	free(s->server_conninfo);
	free(s->conninfo);
	free(s->error);
	free(s);
}

static void fail(struct schema_scratch *s, bool unavailable, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));

/* Records the first error; the next move is on a loop turn of its own. */
static void
fail(struct schema_scratch *s, bool unavailable, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (s->closing || s->error != NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (size_t n = strlen(msg); n > 0 && msg[n - 1] == '\n'; n--)
		msg[n - 1] = '\0';
	s->error = strdup(msg);
	s->unavailable = unavailable;
	if (s->phase == BUILDING)
		s->phase = BUILT;
	else if (s->phase == DROPPING)
		s->phase = DROPPED;
	event_active(s->kick, 0, 0);
}

static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct schema_scratch *s = arg;

	(void)fd;
	(void)what;
	if (s->phase == BUILT) {
		/* the scratch connection is closed before anyone reads */
		pg_conn_free(s->db);
		s->db = NULL;
		s->phase = HANDED;
		s->cb(s->arg, s->error == NULL ? s->conninfo : NULL, s->error,
		      s->unavailable);
	} else if (s->phase == DROPPED) {
		if (s->dropped_cb != NULL)
			s->dropped_cb(s->dropped_arg, s->error);
		scratch_free(s);
	}
}

static void apply_next(struct schema_scratch *s);

static void
on_applied(void *arg, const PGresult *res, const char *error)
{
	struct schema_scratch *s = arg;
	const struct schema_scratch_file *f;
	const char *pos, *msg, *state;
	unsigned line = 1, col = 1;

	if (s->closing || s->phase != BUILDING)
		return;
	f = &s->files[s->next];
	if (res == NULL) {
		fail(s, true, "scratch database %s: connection lost: %s",
		     s->name, error != NULL ? error : "?");
		return;
	}
	if (!pg_result_ok(res)) {
		pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (pos != NULL)
			schema_scratch_position(f->sql, atol(pos), &line, &col);
		if (pos != NULL)
			fail(s, false, "%s:%u:%u: %s (SQLSTATE %s)", f->path,
			     line, col, msg != NULL ? msg : "?",
			     state != NULL ? state : "?");
		else
			fail(s, false, "%s: %s (SQLSTATE %s)", f->path,
			     msg != NULL ? msg : "?",
			     state != NULL ? state : "?");
		return;
	}
	s->next++;
	apply_next(s);
}

static void
apply_next(struct schema_scratch *s)
{
	if (s->next == s->nfiles) {
		s->phase = BUILT;
		event_active(s->kick, 0, 0);
		return;
	}
	if (pg_script(s->db, s->files[s->next].sql, on_applied, s) < 0)
		fail(s, true, "scratch database %s: not connected", s->name);
}

static void
on_db_state(void *arg, enum pg_state state, const char *error)
{
	struct schema_scratch *s = arg;

	if (s->closing || s->phase != BUILDING)
		return;
	if (state == PG_READY && !s->db_ready) {
		s->db_ready = true;
		apply_next(s);
	} else if (state == PG_DISCONNECTED) {
		fail(s, true, "scratch database %s: %s: %s", s->name,
		     s->db_ready ? "connection lost" : "cannot connect",
		     error != NULL ? error : "?");
	}
}

static void
on_created(void *arg, const PGresult *res, const char *error)
{
	struct schema_scratch *s = arg;
	char buf[1024];

	if (s->closing || s->phase != BUILDING)
		return;
	if (res == NULL) {
		fail(s, true, "cannot create the scratch database: %s",
		     error != NULL ? error : "connection lost");
		return;
	}
	if (!pg_result_ok(res)) {
		fail(s, false,
		     "cannot create the scratch database %s: %s (the role "
		     "needs CREATEDB)",
		     s->name, pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	s->created = true;
	log_debug("schema: scratch database %s created", s->name);
	s->db = pg_conn_new(s->base, s->conninfo, APP_NAME, on_db_state, s);
	if (s->db == NULL)
		fail(s, false, "out of memory");
}

static void
on_admin_state(void *arg, enum pg_state state, const char *error)
{
	struct schema_scratch *s = arg;
	char sql[160];
	char *ident;

	if (s->closing)
		return;
	if (state == PG_READY && !s->admin_ready) {
		s->admin_ready = true;
		ident = pg_escape_ident(s->admin, s->name);
		if (ident == NULL) {
			fail(s, false, "out of memory");
			return;
		}
		snprintf(sql, sizeof(sql),
		         "CREATE DATABASE %s TEMPLATE template0", ident);
		free(ident);
		if (pg_query(s->admin, sql, 0, NULL, on_created, s) < 0)
			fail(s, true, "cannot create the scratch database: %s",
			     "not connected");
	} else if (state == PG_DISCONNECTED && s->phase == BUILDING) {
		fail(s, true,
		     "cannot reach the server for the scratch "
		     "database: %s",
		     error != NULL ? error : "?");
	}
}

struct schema_scratch *
schema_scratch_new(struct event_base *base, const char *server_conninfo,
                   const struct schema_scratch_file *files, size_t nfiles,
                   schema_scratch_cb cb, void *arg)
{
	struct schema_scratch *s = calloc(1, sizeof(*s));
	char err[256];

	if (s == NULL)
		return NULL;
	s->base = base;
	s->cb = cb;
	s->arg = arg;
	snprintf(s->name, sizeof(s->name), SCHEMA_SCRATCH_PREFIX "%s_%ld_%u",
	         host_tag(), (long)getpid(), ++scratch_counter);
	s->kick = event_new(base, -1, 0, on_kick, s);
	s->files = calloc(nfiles + 1, sizeof(*s->files));
	s->server_conninfo = strdup(server_conninfo);
	if (s->kick == NULL || s->files == NULL || s->server_conninfo == NULL)
		goto oom;
	for (size_t i = 0; i < nfiles; i++) {
		s->files[i].path = strdup(files[i].path);
		s->files[i].sql = strdup(files[i].sql);
		s->nfiles = i + 1;
		if (s->files[i].path == NULL || s->files[i].sql == NULL)
			goto oom;
	}
	s->conninfo = schema_scratch_conninfo(server_conninfo, s->name, NULL,
	                                      err, sizeof(err));
	if (s->conninfo == NULL) {
		fail(s, false, "%s", err);
		return s;
	}
	s->admin =
	        pg_conn_new(base, server_conninfo, APP_NAME, on_admin_state, s);
	if (s->admin == NULL)
		goto oom;
	return s;
oom:
	scratch_free(s);
	return NULL;
}

static void
on_dropped(void *arg, const PGresult *res, const char *error)
{
	struct schema_scratch *s = arg;
	char buf[1024];

	if (s->closing || s->phase != DROPPING)
		return;
	free(s->error);
	s->error = NULL;
	if (res == NULL || !pg_result_ok(res)) {
		const char *why =
		        res == NULL ? (error != NULL ? error : "?")
		                    : pg_result_error(res, buf, sizeof(buf));
		log_warning("schema: scratch database %s not dropped: %s; drop "
		            "it by hand",
		            s->name, why);
		fail(s, false, "scratch database %s not dropped: %s", s->name,
		     why);
		return;
	}
	log_debug("schema: scratch database %s dropped", s->name);
	s->phase = DROPPED;
	event_active(s->kick, 0, 0);
}

void
schema_scratch_drop(struct schema_scratch *s, schema_scratch_dropped_cb cb,
                    void *arg)
{
	char sql[160];
	char *ident;

	if (s == NULL)
		return;
	s->dropped_cb = cb;
	s->dropped_arg = arg;
	if (s->phase == DROPPING || s->phase == DROPPED)
		return; /* under way: only whom to tell changed */
	free(s->error);
	s->error = NULL;
	/* not inside one of its callbacks: cb and on_kick run on their own */
	pg_conn_free(s->db);
	s->db = NULL;
	s->phase = DROPPING;
	if (!s->created || s->admin == NULL) {
		s->phase = DROPPED;
		event_active(s->kick, 0, 0);
		return;
	}
	ident = pg_escape_ident(s->admin, s->name);
	if (ident == NULL) {
		fail(s, false, "out of memory");
		return;
	}
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
	         ident);
	free(ident);
	if (pg_query(s->admin, sql, 0, NULL, on_dropped, s) < 0) {
		log_warning("schema: scratch database %s not dropped: the "
		            "server cannot be reached; drop it by hand",
		            s->name);
		fail(s, true, "scratch database %s not dropped: not connected",
		     s->name);
	}
}

/* ---- leftovers of daemons that were killed ---- */

struct sweep_server {
	struct schema_scratch_sweep *sw;
	struct pg_conn *conn;
	struct event *done; /* frees conn outside its callbacks */
	int pending;        /* DROPs not answered yet */
	bool asked;
};

struct schema_scratch_sweep {
	struct sweep_server *servers;
	size_t n;
};

/* $1 this host's tag: scratch databases nobody is connected to. */
static const char leftovers_sql[] =
        "SELECT datname FROM pg_database d"
        " WHERE datname LIKE '" SCHEMA_SCRATCH_PREFIX "' || $1 || '\\_%'"
        " AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a"
        "  WHERE a.datid = d.oid)";

static void
sweep_done(struct sweep_server *sv)
{
	event_active(sv->done, 0, 0);
}

static void
on_sweep_done(evutil_socket_t fd, short what, void *arg)
{
	struct sweep_server *sv = arg;

	(void)fd;
	(void)what;
	pg_conn_free(sv->conn);
	sv->conn = NULL;
}

static void
on_leftover_dropped(void *arg, const PGresult *res, const char *error)
{
	struct sweep_server *sv = arg;
	char buf[512];

	if (res != NULL && !pg_result_ok(res))
		log_warning("schema: a scratch database left by a killed "
		            "daemon was not dropped: %s",
		            pg_result_error(res, buf, sizeof(buf)));
	else if (res == NULL)
		log_debug("schema: scratch sweep: %s",
		          error != NULL ? error : "connection lost");
	if (--sv->pending == 0)
		sweep_done(sv);
}

/* The pid in name (after the prefix and tag), or -1. */
static long
pid_of(const char *name)
{
	const char *p = name + strlen(SCHEMA_SCRATCH_PREFIX) + 8;
	char *end;
	long pid;

	if (*p != '_')
		return -1;
	pid = strtol(p + 1, &end, 10);
	return end != p + 1 && *end == '_' && pid > 0 ? pid : -1;
}

static void
on_leftovers(void *arg, const PGresult *res, const char *error)
{
	struct sweep_server *sv = arg;
	char sql[160];

	(void)error;
	if (res == NULL || !pg_result_ok(res)) {
		sweep_done(sv);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		const char *name = PQgetvalue(res, i, 0);
		long pid = pid_of(name);
		char *ident;

		/* a daemon of this host that still runs may still use it */
		if (strncmp(name, SCHEMA_SCRATCH_PREFIX,
		            strlen(SCHEMA_SCRATCH_PREFIX)) != 0 ||
		    pid < 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		ident = pg_escape_ident(sv->conn, name);
		if (ident == NULL)
			continue;
		/* not WITH (FORCE): a session in it means someone uses it */
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", ident);
		free(ident);
		log_notice("schema: dropping scratch database %s, left by "
		           "migrated process %ld, which is gone",
		           name, pid);
		if (pg_query(sv->conn, sql, 0, NULL, on_leftover_dropped, sv) ==
		    0)
			sv->pending++;
	}
	if (sv->pending == 0)
		sweep_done(sv);
}

static void
on_sweep_state(void *arg, enum pg_state state, const char *error)
{
	struct sweep_server *sv = arg;
	const char *values[1] = {host_tag()};

	if (sv->asked)
		return;
	if (state == PG_DISCONNECTED) {
		log_debug("schema: no scratch sweep: %s",
		          error != NULL ? error : "cannot connect");
		sv->asked = true;
		sweep_done(sv);
		return;
	}
	if (state != PG_READY)
		return;
	sv->asked = true;
	if (pg_query(sv->conn, leftovers_sql, 1, values, on_leftovers, sv) < 0)
		sweep_done(sv);
}

struct schema_scratch_sweep *
schema_scratch_sweep_new(struct event_base *base, const char *const *conninfos,
                         size_t n)
{
	struct schema_scratch_sweep *sw = calloc(1, sizeof(*sw));

	if (sw == NULL ||
	    (sw->servers = calloc(n + 1, sizeof(*sw->servers))) == NULL) {
		free(sw);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct sweep_server *sv = &sw->servers[sw->n];
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(conninfos[j], conninfos[i]) == 0;
		if (seen)
			continue;
		sv->sw = sw;
		sv->done = event_new(base, -1, 0, on_sweep_done, sv);
		sw->n++;
		if (sv->done == NULL) {
			schema_scratch_sweep_free(sw);
			return NULL;
		}
		sv->conn = pg_conn_new(base, conninfos[i], APP_NAME,
		                       on_sweep_state, sv);
	}
	return sw;
}

void
schema_scratch_sweep_free(struct schema_scratch_sweep *sw)
{
	if (sw == NULL)
		return;
	for (size_t i = 0; i < sw->n; i++) {
		pg_conn_free(sw->servers[i].conn);
		if (sw->servers[i].done != NULL)
			event_free(sw->servers[i].done);
	}
	free(sw->servers);
	free(sw);
}
