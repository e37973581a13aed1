#include "schema_inspect.h"
#include "schema_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "dbcall.h"
#include "log.h"
#include "schema_diff.h"
#include "schema_dump.h"
#include "schema_scratch.h"
#include "schema_snapshot.h"
#include "schema_sqlite_call.h"
#include "schema_sqlite_file.h"
#include "schema_sqlite_history.h"
#include "schema_sqlite_snapshot.h"
#include "vl_names.h"

#define FILES_PREFIX "files:"
#define SIDE_MAX 256 /* longest a or b */

/* ---- parameters ---- */

struct diff_args {
	const char *a, *b;
};
static const struct vl_field diff_fields[] = {
        VL_FIELD_STRING("a", VL_REQUIRED, struct diff_args, a, 1, SIDE_MAX),
        VL_FIELD_STRING("b", VL_REQUIRED, struct diff_args, b, 1, SIDE_MAX),
        VL_FIELDS_END,
};
const struct vl_params schema_diff_params =
        VL_PARAMS(struct diff_args, diff_fields);

struct drift_args {
	const char *set;
};
static const struct vl_field drift_fields[] = {
        VL_FIELD_STRING("set", 0, struct drift_args, set, 1, SIDE_MAX),
        VL_FIELDS_END,
};
const struct vl_params schema_drift_params =
        VL_PARAMS(struct drift_args, drift_fields);

struct dump_args {
	const char *database;
};
static const struct vl_field dump_fields[] = {
        VL_FIELD_STRING("database", VL_REQUIRED, struct dump_args, database, 1,
                        SIDE_MAX),
        VL_FIELDS_END,
};
const struct vl_params schema_dump_params =
        VL_PARAMS(struct dump_args, dump_fields);

struct squash_args {
	const char *set;
	long long to;
};
static const struct vl_field squash_fields[] = {
        VL_FIELD_STRING("set", VL_REQUIRED, struct squash_args, set, 1,
                        SIDE_MAX),
        VL_FIELD_INT("to", VL_REQUIRED, struct squash_args, to, 0, INT64_MAX,
                     0),
        VL_FIELDS_END,
};
const struct vl_params schema_squash_params =
        VL_PARAMS(struct squash_args, squash_fields);

/* ---- a call and its sides ---- */

enum side_read { READ_SNAPSHOT, READ_DUMP };

struct call;

struct side {
	struct call *call;
	char *label;    /* "[target]", "[database x]", "files:app" */
	char *conninfo; /* the database's, or the set's database's */
	struct schema_scratch_file *files; /* files:SET only */
	size_t nfiles;
	struct schema_scratch *scratch;
	struct schema_snapshot *snap;
	struct schema_dump *dump;
	json_t *snapshot;
	char *sql;
	size_t sqllen;
	char *error;
	bool unavailable;
	bool done;
	char *sqlite; /* the SQLite file, ":memory:" for files:SET on one */
	struct sqlite_side *sq; /* its read, on a worker */
};

enum call_kind { CALL_DIFF, CALL_DUMP };

struct call {
	struct control_req *req;
	struct event_base *base;
	enum call_kind kind;
	struct side sides[2];
	int nsides;
	struct timespec started;
	char what[600]; /* for the log */
};

/*
 * A side read on a SQLite worker: the files (each in a transaction of its
 * own, as apply runs them) then the snapshot or the dump. Owned by the
 * worker's request until it completes: a side that goes first orphans it.
 */
struct sqlite_side {
	struct side *side; /* NULL once orphaned */
	struct schema_scratch_file *files;
	size_t nfiles;
	bool dump;
	json_t *snapshot;
	char *sql;
};

static void
sqlite_side_free(struct sqlite_side *q)
{
	for (size_t i = 0; q->files != NULL && i < q->nfiles; i++) {
		free((char *)q->files[i].path);
		free((char *)q->files[i].sql);
	}
	free(q->files);
	json_decref(q->snapshot);
	free(q->sql);
	free(q);
}

static void
side_clear(struct side *s)
{
	if (s->sq != NULL)
		s->sq->side = NULL; /* it frees itself when it completes */
	free(s->sqlite);
	schema_snapshot_cancel(s->snap);
	schema_dump_cancel(s->dump);
	/* dropped in the background; it frees itself */
	schema_scratch_drop(s->scratch, NULL, NULL);
	for (size_t i = 0; s->files != NULL && i < s->nfiles; i++) {
		free((char *)s->files[i].path);
		free((char *)s->files[i].sql);
	}
	free(s->files);
	json_decref(s->snapshot);
	free(s->sql);
	free(s->label);
	free(s->conninfo);
	free(s->error);
}

static void
call_free(struct call *c)
{
	for (int i = 0; i < c->nsides; i++)
		side_clear(&c->sides[i]);
	free(c);
}

static void side_failed(struct side *s, bool unavailable, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static double
elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Every side is done: the reply. */
static void
finish(struct call *c)
{
	struct side *bad = NULL;

	for (int i = 0; i < c->nsides; i++) {
		if (!c->sides[i].done)
			return;
		if (bad == NULL && c->sides[i].error != NULL)
			bad = &c->sides[i];
	}
	if (bad != NULL) {
		log_warning("schema: %s: %s", c->what, bad->error);
		if (bad->unavailable)
			dbcall_unavailable(c->req, bad->error);
		else
			control_error(c->req, VL_ERROR_DATABASE_ERROR,
			              json_pack("{s:s, s:s}", "message",
			                        bad->error, "sqlstate", ""));
	} else if (c->kind == CALL_DUMP) {
		log_info("schema: %s: %zu bytes in %.0f ms", c->what,
		         c->sides[0].sqllen, elapsed_ms(&c->started));
		control_reply(c->req,
		              json_pack("{s:s%}", "sql", c->sides[0].sql,
		                        c->sides[0].sqllen));
	} else {
		json_t *diffs =
		        schema_diff(c->sides[0].snapshot, c->sides[1].snapshot);
		if (diffs == NULL) {
			dbcall_unavailable(c->req, "out of memory");
		} else {
			log_info("schema: %s: %zu difference%s in %.0f ms",
			         c->what, json_array_size(diffs),
			         json_array_size(diffs) == 1 ? "" : "s",
			         elapsed_ms(&c->started));
			control_reply(c->req,
			              json_pack("{s:b, s:o}", "same",
			                        json_array_size(diffs) == 0,
			                        "differences", diffs));
		}
	}
	call_free(c);
}

static void
side_done(struct side *s)
{
	s->done = true;
	finish(s->call);
}

static void
on_dropped(void *arg, const char *error)
{
	struct side *s = arg;

	s->scratch = NULL; /* it frees itself after this */
	if (error != NULL && s->error == NULL)
		side_failed(s, false, "%s", error);
	else
		side_done(s);
}

static void
side_failed(struct side *s, bool unavailable, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->error == NULL) {
		s->error = strdup(msg);
		s->unavailable = unavailable;
		if (s->error == NULL)
			s->error = strdup("out of memory");
	}
	if (s->scratch != NULL)
		schema_scratch_drop(s->scratch, on_dropped, s);
	else
		side_done(s);
}

/* The side was read: drop its scratch database first, if it has one. */
static void
side_read(struct side *s)
{
	if (s->scratch != NULL)
		schema_scratch_drop(s->scratch, on_dropped, s);
	else
		side_done(s);
}

static void
on_snapshot(void *arg, json_t *snapshot, const char *error, bool unavailable)
{
	struct side *s = arg;

	s->snap = NULL; /* freed after this returns */
	if (snapshot == NULL) {
		side_failed(s, unavailable, "%s", error);
		return;
	}
	s->snapshot = json_incref(snapshot);
	side_read(s);
}

static void
on_dump(void *arg, const char *sql, size_t len, const char *error)
{
	struct side *s = arg;

	s->dump = NULL; /* freed after this returns */
	if (sql == NULL) {
		side_failed(s, false, "%s", error);
		return;
	}
	s->sql = malloc(len + 1);
	if (s->sql == NULL) {
		side_failed(s, false, "out of memory");
		return;
	}
	memcpy(s->sql, sql, len + 1);
	s->sqllen = len;
	side_read(s);
}

/* Reads the database conninfo reaches (the live one or the scratch). */
static void
side_read_db(struct side *s, const char *conninfo)
{
	char err[1024];

	if (s->call->kind == CALL_DUMP) {
		s->dump = schema_dump_start(s->call->base, conninfo, s->label,
		                            on_dump, s, err, sizeof(err));
		if (s->dump == NULL)
			side_failed(s, false, "%s: %s", s->label, err);
		return;
	}
	s->snap = schema_snapshot_take(s->call->base, conninfo, s->label,
	                               on_snapshot, s);
	if (s->snap == NULL)
		side_failed(s, false, "out of memory");
}

static void
on_scratch(void *arg, const char *conninfo, const char *error, bool unavailable)
{
	struct side *s = arg;

	if (conninfo == NULL) {
		side_failed(s, unavailable, "%s: %s", s->label, error);
		return;
	}
	side_read_db(s, conninfo);
}

static int
sqlite_side_work(sqlite3 *db, void *arg, char *err, size_t errlen)
{
	struct sqlite_side *q = arg;
	struct schema_sqlite_file_out out = {0};

	for (size_t i = 0; i < q->nfiles; i++) {
		if (schema_sqlite_exec(db, "BEGIN", err, errlen) < 0)
			return SQLITE_ERROR;
		if (schema_sqlite_run_text(db, q->files[i].path,
		                           q->files[i].sql, true, &out) < 0) {
			snprintf(err, errlen, "%s", out.error);
			return SQLITE_ERROR; /* the worker rolls back */
		}
		if (schema_sqlite_exec(db, "COMMIT", err, errlen) < 0)
			return SQLITE_ERROR;
	}
	if (q->dump)
		q->sql = schema_sqlite_dump(db, err, errlen);
	else
		q->snapshot = schema_sqlite_snapshot(db, err, errlen);
	return q->sql != NULL || q->snapshot != NULL ? SQLITE_OK : SQLITE_ERROR;
}

static void
on_sqlite_side(void *arg, enum sqlite_worker_status status, const char *error)
{
	struct sqlite_side *q = arg;
	struct side *s = q->side;
	char buf[1024];

	if (s == NULL) {
		sqlite_side_free(q);
		return;
	}
	s->sq = NULL;
	if (status != SQLITE_WORKER_OK) {
		side_failed(s, false, "%s: %s", s->label,
		            schema_sqlite_call_error(status, error, buf,
		                                     sizeof(buf)));
	} else if (q->dump) {
		s->sqllen = strlen(q->sql);
		s->sql = q->sql;
		q->sql = NULL;
		side_read(s);
	} else {
		s->snapshot = q->snapshot;
		q->snapshot = NULL;
		side_read(s);
	}
	sqlite_side_free(q);
}

/* A SQLite side: its files (moved to the request) read on a worker. */
static void
sqlite_side_start(struct side *s)
{
	struct sqlite_side *q = calloc(1, sizeof(*q));
	char err[1024];

	if (q == NULL) {
		side_failed(s, false, "out of memory");
		return;
	}
	q->side = s;
	q->files = s->files;
	q->nfiles = s->nfiles;
	q->dump = s->call->kind == CALL_DUMP;
	s->files = NULL;
	s->nfiles = 0;
	s->sq = q;
	if (schema_sqlite_call(s->call->base, s->label, s->sqlite,
	                       sqlite_side_work, on_sqlite_side, q, err,
	                       sizeof(err)) == NULL) {
		s->sq = NULL;
		sqlite_side_free(q);
		side_failed(s, true, "%s: %s", s->label, err);
	}
}

static void
side_start(struct side *s)
{
	if (s->sqlite != NULL) {
		sqlite_side_start(s);
		return;
	}
	if (s->files == NULL) {
		side_read_db(s, s->conninfo);
		return;
	}
	s->scratch = schema_scratch_new(s->call->base, s->conninfo, s->files,
	                                s->nfiles, on_scratch, s);
	if (s->scratch == NULL)
		side_failed(s, false, "out of memory");
}

/* ---- resolving names ---- */

/*
 * The PostgreSQL conninfo of "target" or a [database NAME]; NULL with err
 * filled when there is none.
 */
static const char *
db_conninfo(const struct config *cfg, const char *name, char *err,
            size_t errlen)
{
	const struct config_database *db;

	if (strcmp(name, "target") == 0)
		return cfg->target_conninfo;
	db = config_database(cfg, name);
	if (db == NULL) {
		snprintf(err, errlen,
		         "no [database %s] in the configuration: give target, "
		         "a [database NAME] or files:SET",
		         name);
		return NULL;
	}
	if (db->conninfo == NULL) {
		snprintf(err, errlen,
		         "[database %s] is a SQLite file; schemas are compared "
		         "and dumped on PostgreSQL only",
		         name);
		return NULL;
	}
	return db->conninfo;
}

/*
 * The set's files up to version to (all when to < 0), in order, into s.
 * -1 with err filled ("file: message").
 */
static int
load_files(struct side *s, const char *dir, long long to, char *err,
           size_t errlen)
{
	struct schema_dir *sd = schema_dir_load(dir, err, errlen);
	size_t n = 0;

	if (sd == NULL)
		return -1;
	s->files = calloc(sd->n + 1, sizeof(*s->files));
	for (size_t i = 0; s->files != NULL && i < sd->n; i++) {
		if (to >= 0 && sd->files[i].version > to)
			break;
		s->files[n].path = strdup(sd->files[i].path);
		s->files[n].sql = strdup(sd->files[i].sql);
		s->nfiles = ++n;
		if (s->files[n - 1].path == NULL || s->files[n - 1].sql == NULL)
			break;
	}
	schema_dir_free(sd);
	if (s->files == NULL || (n > 0 && (s->files[n - 1].path == NULL ||
	                                   s->files[n - 1].sql == NULL))) {
		snprintf(err, errlen, "%s: out of memory", dir);
		return -1;
	}
	return 0;
}

/*
 * Fills s for spec ("target", a database, "files:SET" with files up to
 * to). On failure the call has its error reply and -1 is returned.
 */
static int
side_init(struct control_req *req, const struct daemon *d, struct side *s,
          const char *param, const char *spec, long long to)
{
	char err[1024] = "";
	const char *conninfo;
	const struct config_schema *set;

	if (strncmp(spec, FILES_PREFIX, strlen(FILES_PREFIX)) == 0) {
		const char *name = spec + strlen(FILES_PREFIX);
		set = config_schema(&d->cfg, name);
		if (set == NULL) {
			control_error(req, VL_ERROR_NO_SUCH_SCHEMA_SET,
			              json_pack("{s:s}", "name", name));
			return -1;
		}
		if (schema_sqlite_path(&d->cfg, set->database) != NULL) {
			/* built in an empty in-memory SQLite database */
			if (load_files(s, set->dir, to, err, sizeof(err)) < 0) {
				control_error(req, VL_ERROR_SCHEMA_CONFLICT,
				              json_pack("{s:s, s:I, s:s}",
				                        "set", name, "version",
				                        (json_int_t)0,
				                        "message", err));
				return -1;
			}
			s->sqlite = strdup(":memory:");
			s->label = strdup(spec);
			s->conninfo = strdup("");
			if (s->sqlite == NULL || s->label == NULL ||
			    s->conninfo == NULL) {
				dbcall_unavailable(req, "out of memory");
				return -1;
			}
			return 0;
		}
		conninfo =
		        db_conninfo(&d->cfg, set->database, err, sizeof(err));
		if (conninfo == NULL) {
			control_error(req, VL_ERROR_DATABASE_ERROR,
			              json_pack("{s:s, s:s}", "message", err,
			                        "sqlstate", ""));
			return -1;
		}
		if (load_files(s, set->dir, to, err, sizeof(err)) < 0) {
			control_error(req, VL_ERROR_SCHEMA_CONFLICT,
			              json_pack("{s:s, s:I, s:s}", "set", name,
			                        "version", (json_int_t)0,
			                        "message", err));
			return -1;
		}
		s->label = strdup(spec);
	} else if (schema_sqlite_path(&d->cfg, spec) != NULL) {
		s->sqlite = strdup(schema_sqlite_path(&d->cfg, spec));
		if (asprintf(&s->label, "[database %s]", spec) < 0)
			s->label = NULL;
		s->conninfo = strdup("");
		if (s->sqlite == NULL || s->label == NULL ||
		    s->conninfo == NULL) {
			dbcall_unavailable(req, "out of memory");
			return -1;
		}
		return 0;
	} else {
		conninfo = db_conninfo(&d->cfg, spec, err, sizeof(err));
		if (conninfo == NULL) {
			control_error(req, VL_ERROR_INVALID_PARAMETER_VALUE,
			              json_pack("{s:s, s:s}", "parameter",
			                        param, "message", err));
			return -1;
		}
		if (strcmp(spec, "target") == 0)
			s->label = strdup("[target]");
		else if (asprintf(&s->label, "[database %s]", spec) < 0)
			s->label = NULL;
	}
	s->conninfo = strdup(conninfo);
	if (s->label == NULL || s->conninfo == NULL) {
		dbcall_unavailable(req, "out of memory");
		return -1;
	}
	return 0;
}

/* The client went away (or the daemon stops): stop, drop scratches. */
static void
on_cancel(struct control_req *req, void *arg)
{
	struct call *c = arg;

	dbcall_unavailable(req, "stopped: the client went away or the daemon "
	                        "is stopping");
	call_free(c);
}

static struct call *
call_new(struct control_req *req, struct daemon *d, enum call_kind kind,
         int nsides)
{
	struct call *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		dbcall_unavailable(req, "out of memory");
		return NULL;
	}
	c->req = req;
	c->base = d->base;
	c->kind = kind;
	c->nsides = nsides;
	for (int i = 0; i < nsides; i++)
		c->sides[i].call = c;
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	return c;
}

static void
call_start(struct call *c)
{
	control_on_cancel(c->req, on_cancel, c);
	/* a side may finish at once only on a later loop turn: all callbacks
	 * of the modules below run later, so both start before either ends */
	for (int i = 0; i < c->nsides; i++)
		side_start(&c->sides[i]);
}

static void
start_diff(struct control_req *req, struct daemon *d, const char *a,
           const char *b, const char *what)
{
	struct call *c = call_new(req, d, CALL_DIFF, 2);

	if (c == NULL)
		return;
	if (side_init(req, d, &c->sides[0], "a", a, -1) < 0 ||
	    side_init(req, d, &c->sides[1], "b", b, -1) < 0) {
		call_free(c);
		return;
	}
	snprintf(c->what, sizeof(c->what), "%s", what);
	call_start(c);
}

/* ---- the methods ---- */

void
schema_diff_method(struct control_req *req, struct daemon *d, const void *args)
{
	const struct diff_args *a = args;
	char what[600];

	snprintf(what, sizeof(what), "diff %s %s", a->a, a->b);
	start_diff(req, d, a->a, a->b, what);
}

void
schema_drift_method(struct control_req *req, struct daemon *d, const void *args)
{
	const struct drift_args *a = args;
	const struct config_schema *set = NULL;
	char files[SIDE_MAX + 16], what[600];

	if (a->set != NULL)
		set = config_schema(&d->cfg, a->set);
	else if (d->cfg.nschemas == 1)
		set = &d->cfg.schemas[0];
	if (set == NULL) {
		control_error(req, VL_ERROR_NO_SUCH_SCHEMA_SET,
		              json_pack("{s:s}", "name",
		                        a->set != NULL ? a->set : ""));
		return;
	}
	snprintf(files, sizeof(files), FILES_PREFIX "%s", set->name);
	snprintf(what, sizeof(what), "drift %s", set->name);
	start_diff(req, d, set->database, files, what);
}

void
schema_dump_method(struct control_req *req, struct daemon *d, const void *args)
{
	const struct dump_args *a = args;
	struct call *c;

	if (strncmp(a->database, FILES_PREFIX, strlen(FILES_PREFIX)) == 0) {
		control_error(req, VL_ERROR_INVALID_PARAMETER_VALUE,
		              json_pack("{s:s, s:s}", "parameter", "database",
		                        "message",
		                        "dump takes a database (target or a "
		                        "[database NAME]); for a set's files "
		                        "use squash"));
		return;
	}
	c = call_new(req, d, CALL_DUMP, 1);
	if (c == NULL)
		return;
	if (side_init(req, d, &c->sides[0], "database", a->database, -1) < 0) {
		call_free(c);
		return;
	}
	snprintf(c->what, sizeof(c->what), "dump %s", a->database);
	call_start(c);
}

void
schema_squash_method(struct control_req *req, struct daemon *d,
                     const void *args)
{
	const struct squash_args *a = args;
	char spec[SIDE_MAX + 16];
	struct call *c;

	if (config_schema(&d->cfg, a->set) == NULL) {
		control_error(req, VL_ERROR_NO_SUCH_SCHEMA_SET,
		              json_pack("{s:s}", "name", a->set));
		return;
	}
	c = call_new(req, d, CALL_DUMP, 1);
	if (c == NULL)
		return;
	snprintf(spec, sizeof(spec), FILES_PREFIX "%s", a->set);
	if (side_init(req, d, &c->sides[0], "set", spec, a->to) < 0) {
		call_free(c);
		return;
	}
	if (c->sides[0].nfiles == 0) {
		control_error(req, VL_ERROR_INVALID_PARAMETER_VALUE,
		              json_pack("{s:s, s:s}", "parameter", "to",
		                        "message",
		                        "no version of the set is at or below "
		                        "to: nothing to squash"));
		call_free(c);
		return;
	}
	snprintf(c->what, sizeof(c->what), "squash %s to %lld", a->set, a->to);
	call_start(c);
}
