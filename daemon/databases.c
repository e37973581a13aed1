#include "databases.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "sqlite_worker.h"
#include "store.h"

struct database;

/* What the monitor needs of one engine; SQLite will be a second row. */
struct engine {
	const char *name; /* DatabaseStatus.engine */
	/* Starts watching db (its handle); -1 when it cannot be set up. */
	int (*open)(struct database *db, struct event_base *base);
	void (*close)(struct database *db);
	/* "connected", "connecting" or "disconnected". */
	const char *(*state)(const struct database *db);
	/* Why it is not connected (or the last error), or NULL. */
	const char *(*error)(const struct database *db);
	void (*set_backoff_max)(struct database *db, long long ms);
};

struct database {
	char *name;
	char *conninfo; /* as in its section, or NULL */
	char *sqlite;   /* as in its section, or NULL */
	const struct engine *engine;
	void *handle; /* the engine's */
	bool up;      /* connected, last we heard */
	bool failing; /* the failure to connect was logged */
	char pgname[CONFIG_DATABASE_NAME_MAX + 16]; /* application_name */
};

struct databases {
	struct event_base *base;
	struct database **v; /* in file order */
	size_t n;
};

/* --- PostgreSQL ----------------------------------------------------------- */

static void
pg_on_state(void *arg, enum pg_state state, const char *error)
{
	struct database *db = arg;

	metrics_db_state(db->name, state == PG_READY        ? "connected"
	                           : state == PG_CONNECTING ? "connecting"
	                                                    : "disconnected");
	/* pg.c logs connects and losses of a connection that was up; a
	 * database that cannot be reached at all is logged once here */
	if (state == PG_READY) {
		db->up = true;
		db->failing = false;
		return;
	}
	if (state != PG_DISCONNECTED || db->failing)
		return;
	db->failing = true;
	if (db->up) {
		db->up = false;
		return;
	}
	log_warning("[database %s]: cannot connect: %s; retrying", db->name,
	            error != NULL ? error : "unknown error");
}

static int
pg_open(struct database *db, struct event_base *base)
{
	snprintf(db->pgname, sizeof(db->pgname), "migrated-db-%s", db->name);
	db->handle =
	        pg_conn_new(base, db->conninfo, db->pgname, pg_on_state, db);
	return db->handle != NULL ? 0 : -1;
}

static void
pg_close(struct database *db)
{
	pg_conn_free(db->handle);
	db->handle = NULL;
}

static const char *
pg_state_name(const struct database *db)
{
	switch (pg_conn_state(db->handle)) {
	case PG_READY:
		return "connected";
	case PG_CONNECTING:
		return "connecting";
	case PG_DISCONNECTED:
		break;
	}
	return "disconnected";
}

static const char *
pg_error(const struct database *db)
{
	return pg_conn_error(db->handle);
}

static void
pg_set_backoff_max(struct database *db, long long ms)
{
	pg_conn_set_backoff_max(db->handle, ms);
}

static const struct engine postgresql = {
        .name = "postgresql",
        .open = pg_open,
        .close = pg_close,
        .state = pg_state_name,
        .error = pg_error,
        .set_backoff_max = pg_set_backoff_max,
};

/* --- SQLite ---------------------------------------------------------------- */

/*
 * A SQLite file is "connected" when its worker (read-only) last read its
 * schema table, every few seconds; a file locked by a writer counts as
 * reachable.
 */
#define SQLITE_PROBE_MS 5000

struct lite_monitor {
	struct database *db;
	struct sqlite_worker *w;
	struct event *timer;
	const char *state;
	char error[512];
	bool probing;
};

static int
lite_probe_work(sqlite3 *conn, void *arg, char *err, size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	return sqlite3_exec(conn, "SELECT count(*) FROM sqlite_schema", NULL,
	                    NULL, NULL);
}

static void
lite_on_probe(void *arg, enum sqlite_worker_status status, const char *error)
{
	struct lite_monitor *m = arg;
	struct timeval tv = {SQLITE_PROBE_MS / 1000, 0};

	m->probing = false;
	if (status == SQLITE_WORKER_CANCELLED)
		return;
	if (status == SQLITE_WORKER_ERROR) {
		if (!m->db->failing)
			log_warning("[database %s]: %s; checking again",
			            m->db->name, error);
		m->db->failing = true;
		m->state = "disconnected";
		snprintf(m->error, sizeof(m->error), "%s", error);
	} else {
		m->db->failing = false;
		m->state = "connected";
		m->error[0] = '\0';
	}
	evtimer_add(m->timer, &tv);
}

static void
lite_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct lite_monitor *m = arg;

	(void)fd;
	(void)what;
	if (!m->probing &&
	    sqlite_worker_submit(m->w, lite_probe_work, lite_on_probe, m) == 0)
		m->probing = true;
}

static void
lite_close(struct database *db)
{
	struct lite_monitor *m = db->handle;

	if (m == NULL)
		return;
	sqlite_worker_free(m->w);
	if (m->timer != NULL)
		event_free(m->timer);
	free(m);
	db->handle = NULL;
}

static int
lite_open(struct database *db, struct event_base *base)
{
	struct lite_monitor *m = calloc(1, sizeof(*m));
	char err[512];

	if (m == NULL)
		return -1;
	db->handle = m;
	m->db = db;
	m->state = "connecting";
	m->w = sqlite_worker_new(base, db->name, db->sqlite,
	                         SQLITE_WORKER_READONLY, 0, err, sizeof(err));
	m->timer = evtimer_new(base, lite_on_timer, m);
	if (m->w == NULL || m->timer == NULL) {
		lite_close(db);
		return -1;
	}
	lite_on_timer(-1, 0, m);
	return 0;
}

static const char *
lite_state(const struct database *db)
{
	const struct lite_monitor *m = db->handle;
	return m->state;
}

static const char *
lite_error(const struct database *db)
{
	const struct lite_monitor *m = db->handle;
	return m->error[0] ? m->error : NULL;
}

static void
lite_set_backoff_max(struct database *db, long long ms)
{
	(void)db;
	(void)ms;
}

static const struct engine sqlite = {
        .name = "sqlite",
        .open = lite_open,
        .close = lite_close,
        .state = lite_state,
        .error = lite_error,
        .set_backoff_max = lite_set_backoff_max,
};

/* --- the set of databases ------------------------------------------------- */

static bool
same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The database is what its section says. */
static bool
same_settings(const struct database *db, const struct config_database *c)
{
	return strcmp(db->name, c->name) == 0 &&
	       same_string(db->conninfo, c->conninfo) &&
	       same_string(db->sqlite, c->sqlite);
}

static void
database_free(struct database *db)
{
	if (db == NULL)
		return;
	if (db->handle != NULL)
		db->engine->close(db);
	free(db->name);
	free(db->conninfo);
	free(db->sqlite);
	free(db);
}

static struct database *
database_new(struct event_base *base, const struct config_database *c,
             char *err, size_t errlen)
{
	struct database *db = calloc(1, sizeof(*db));

	if (db == NULL)
		goto oom;
	db->name = strdup(c->name);
	db->conninfo = c->conninfo != NULL ? strdup(c->conninfo) : NULL;
	db->sqlite = c->sqlite != NULL ? strdup(c->sqlite) : NULL;
	if (db->name == NULL || (c->conninfo != NULL && db->conninfo == NULL) ||
	    (c->sqlite != NULL && db->sqlite == NULL))
		goto oom;
	db->engine = c->conninfo != NULL ? &postgresql : &sqlite;
	if (db->engine->open(db, base) < 0)
		goto oom;
	return db;
oom:
	snprintf(err, errlen, "[database %s]: out of memory", c->name);
	database_free(db);
	return NULL;
}

/*
 * Makes the set that of cfg, keeping the databases whose settings did not
 * change. All or nothing.
 */
static int
apply(struct databases *dbs, const struct config *cfg, bool starting, char *err,
      size_t errlen)
{
	size_t n = cfg->ndatabases;
	struct database **next;
	size_t *from = calloc(n > 0 ? n : 1, sizeof(*from));

	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	next = calloc(n > 0 ? n : 1, sizeof(*next));
	if (next == NULL || from == NULL) {
		snprintf(err, errlen, "out of memory");
		free(next);
		free(from);
		return -1;
	}
	/* which old database serves each section; dbs->n for none */
	for (size_t i = 0; i < n; i++) {
		from[i] = dbs->n;
		for (size_t j = 0; j < dbs->n; j++)
			if (same_settings(dbs->v[j], &cfg->databases[i]))
				from[i] = j;
	}
	for (size_t i = 0; i < n; i++) {
		if (from[i] < dbs->n)
			continue;
		next[i] = database_new(dbs->base, &cfg->databases[i], err,
		                       errlen);
		if (next[i] == NULL) {
			for (size_t k = 0; k < i; k++)
				if (from[k] == dbs->n)
					database_free(next[k]);
			free(next);
			free(from);
			return -1;
		}
	}
	/* nothing can fail from here on */
	for (size_t i = 0; i < n; i++) {
		if (from[i] < dbs->n) {
			next[i] = dbs->v[from[i]];
			dbs->v[from[i]] = NULL;
		} else if (!starting) {
			bool changed = false;
			for (size_t j = 0; j < dbs->n; j++)
				if (dbs->v[j] != NULL &&
				    strcmp(dbs->v[j]->name, next[i]->name) == 0)
					changed = true;
			log_info("reload: [database %s] %s", next[i]->name,
			         changed ? "changed; connecting again"
			                 : "added");
		}
		next[i]->engine->set_backoff_max(next[i],
		                                 cfg->reconnect_max_ms);
	}
	for (size_t j = 0; j < dbs->n; j++) {
		if (dbs->v[j] == NULL)
			continue;
		if (config_database(cfg, dbs->v[j]->name) == NULL)
			log_info("reload: [database %s] removed",
			         dbs->v[j]->name);
		database_free(dbs->v[j]);
	}
	free(dbs->v);
	free(from);
	dbs->v = next;
	dbs->n = n;
	return 0;
}

struct databases *
databases_new(struct event_base *base, const struct config *cfg, char *err,
              size_t errlen)
{
	struct databases *dbs = calloc(1, sizeof(*dbs));

	if (dbs == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	dbs->base = base;
	if (apply(dbs, cfg, true, err, errlen) < 0) {
		free(dbs);
		return NULL;
	}
	return dbs;
}

int
databases_reload(struct databases *dbs, const struct config *cfg, char *err,
                 size_t errlen)
{
	return apply(dbs, cfg, false, err, errlen);
}

void
databases_free(struct databases *dbs)
{
	if (dbs == NULL)
		return;
	for (size_t i = 0; i < dbs->n; i++)
		database_free(dbs->v[i]);
	free(dbs->v);
	free(dbs);
}

size_t
databases_count(const struct databases *dbs)
{
	return dbs->n;
}

static json_t *
entry(const char *name, const char *engine, const char *state,
      const char *error)
{
	if (strcmp(state, "connected") == 0)
		error = NULL;
	return json_pack("{s:s, s:s, s:s, s:s?}", "name", name, "engine",
	                 engine, "state", state, "error", error);
}

json_t *
databases_status(const struct databases *dbs, const struct store *store)
{
	json_t *list = json_array();

	if (list == NULL)
		return NULL;
	json_array_append_new(list,
	                      entry("target", "postgresql",
	                            store_db_state(store), store_error(store)));
	for (size_t i = 0; dbs != NULL && i < dbs->n; i++) {
		const struct database *db = dbs->v[i];
		json_array_append_new(list, entry(db->name, db->engine->name,
		                                  db->engine->state(db),
		                                  db->engine->error(db)));
	}
	return list;
}

struct pg_conn *
databases_pg(const struct databases *dbs, const char *name)
{
	for (size_t i = 0; i < dbs->n; i++) {
		const struct database *db = dbs->v[i];

		if (strcmp(db->name, name) == 0)
			return db->conninfo != NULL ? db->handle : NULL;
	}
	return NULL;
}
