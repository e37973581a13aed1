#include "audit_spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "worker.h"

/*
 * Two files: PATH, appended to, and PATH.sending, the entries being
 * stored now. A flush renames the first to the second (unless a failed
 * flush left one), stores it, and removes it; so entries added meanwhile
 * are never removed unstored.
 */
struct audit_spool {
	struct worker *worker;
	char *path, *sending;
	struct pg_conn *conn; /* the store's, during a flush */
	bool flushing;
};

struct append {
	struct audit_spool *s;
	char *line;
	int err; /* errno of the failure, or 0 */
	bool full;
};

struct take {
	struct audit_spool *s;
	char *array; /* the entries as one JSON array, or NULL */
	size_t n, bad;
	int err;
};

static const char insert_sql[] =
        "INSERT INTO migrated.audit (at, uid, username, action, parameters,"
        " result)"
        " SELECT (e->>'at')::timestamptz, (e->>'uid')::integer, e->>'user',"
        "  e->>'action', e->'parameters', e->>'result'"
        " FROM jsonb_array_elements($1::jsonb) e";

static void flush_next(struct audit_spool *s);

/* ---- appending (on the worker, then the loop) ---- */

static void
run_append(void *arg)
{
	struct append *a = arg;
	size_t len = strlen(a->line);
	struct stat st;
	int fd = open(a->s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	              0600);

	if (fd < 0) {
		a->err = errno;
		return;
	}
	if (fstat(fd, &st) == 0 && st.st_size + (off_t)len > AUDIT_SPOOL_MAX) {
		a->full = true;
	} else if (write(fd, a->line, len) != (ssize_t)len ||
	           fdatasync(fd) < 0) {
		a->err = errno != 0 ? errno : EIO;
	}
	close(fd);
}

static void
on_appended(void *arg, bool ran)
{
	struct append *a = arg;

	if (!ran || a->err != 0 || a->full)
		log_error("audit entry lost (%s %s): %s",
		          !ran      ? "not written to"
		          : a->full ? "over 16 MiB in"
		                    : strerror(a->err),
		          a->s->path, a->line);
	free(a->line);
	free(a);
}

void
audit_spool_add(struct audit_spool *s, const char *entry)
{
	struct append *a = calloc(1, sizeof(*a));

	if (a != NULL && asprintf(&a->line, "%s\n", entry) < 0)
		a->line = NULL;
	if (a == NULL || a->line == NULL) {
		log_error("audit entry lost (out of memory): %s", entry);
		free(a);
		return;
	}
	a->s = s;
	if (worker_run(s->worker, run_append, on_appended, a) < 0) {
		log_error("audit entry lost (out of memory): %s", entry);
		free(a->line);
		free(a);
	}
}

/* ---- flushing ---- */

/* Reads PATH.sending (made from PATH when there is none) into a JSON
 * array; lines that do not parse (a crash mid-write) are counted, not
 * sent. */
static void
run_take(void *arg)
{
	struct take *t = arg;
	json_t *all = json_array();
	FILE *f;
	char *line = NULL;
	size_t cap = 0;

	if (access(t->s->sending, F_OK) < 0 &&
	    rename(t->s->path, t->s->sending) < 0 && errno != ENOENT)
		t->err = errno;
	f = fopen(t->s->sending, "re");
	if (f == NULL) {
		if (errno != ENOENT)
			t->err = errno;
		json_decref(all);
		return;
	}
	while (all != NULL && getline(&line, &cap, f) > 0) {
		json_t *e = json_loads(line, 0, NULL);
		if (json_is_object(e)) {
			json_array_append_new(all, e);
			t->n++;
		} else if (strspn(line, " \n") != strlen(line)) {
			json_decref(e);
			t->bad++;
		}
	}
	free(line);
	fclose(f);
	t->array =
	        all != NULL && t->n > 0 ? json_dumps(all, JSON_COMPACT) : NULL;
	json_decref(all);
}

static void
run_remove(void *arg)
{
	struct take *t = arg;

	if (unlink(t->s->sending) < 0 && errno != ENOENT)
		t->err = errno;
}

static void
on_removed(void *arg, bool ran)
{
	struct take *t = arg;
	struct audit_spool *s = t->s;

	if (t->err != 0)
		log_error("cannot remove %s: %s; its entries would be stored "
		          "again",
		          s->sending, strerror(t->err));
	else if (ran)
		log_info("%zu audit entries from %s stored", t->n, s->path);
	free(t->array);
	free(t);
	s->flushing = false;
	if (ran)
		flush_next(s); /* entries added during the flush */
}

static void
on_stored(void *arg, const PGresult *res, const char *error)
{
	struct take *t = arg;
	struct audit_spool *s = t->s;
	char buf[512];

	if (res == NULL || !pg_result_ok(res)) {
		log_warning("audit entries of %s not stored yet (%s); kept for "
		            "the next connection",
		            s->sending,
		            res == NULL
		                    ? error
		                    : pg_result_error(res, buf, sizeof(buf)));
		free(t->array);
		free(t);
		s->flushing = false;
		return;
	}
	free(t->array);
	t->array = NULL;
	if (worker_run(s->worker, run_remove, on_removed, t) < 0) {
		free(t);
		s->flushing = false;
	}
}

static void
on_taken(void *arg, bool ran)
{
	struct take *t = arg;
	struct audit_spool *s = t->s;
	const char *values[1];

	if (t->err != 0)
		log_error("cannot read the audit spool %s: %s", s->sending,
		          strerror(t->err));
	if (t->bad > 0)
		log_error("%zu lines of %s are not audit entries; skipped",
		          t->bad, s->sending);
	values[0] = t->array;
	if (!ran || t->array == NULL || s->conn == NULL ||
	    pg_query(s->conn, insert_sql, 1, values, on_stored, t) < 0) {
		free(t->array);
		free(t);
		s->flushing = false;
	}
}

static void
flush_next(struct audit_spool *s)
{
	struct take *t;

	if (s->flushing || (t = calloc(1, sizeof(*t))) == NULL)
		return;
	t->s = s;
	s->flushing = true;
	if (worker_run(s->worker, run_take, on_taken, t) < 0) {
		free(t);
		s->flushing = false;
	}
}

void
audit_spool_flush(struct audit_spool *s, struct pg_conn *conn)
{
	if (s == NULL)
		return;
	s->conn = conn;
	flush_next(s);
}

/* ---- lifecycle ---- */

struct audit_spool *
audit_spool_new(struct event_base *base, const char *path)
{
	struct audit_spool *s;

	if (path == NULL || path[0] == '\0')
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->path = strdup(path);
	if (s->path == NULL || asprintf(&s->sending, "%s.sending", path) < 0)
		s->sending = NULL;
	if (s->sending == NULL || (s->worker = worker_new(base)) == NULL) {
		free(s->path);
		free(s->sending);
		free(s);
		return NULL;
	}
	return s;
}

void
audit_spool_free(struct audit_spool *s)
{
	if (s == NULL)
		return;
	s->conn = NULL; /* gone (the store stops first): no flush starts */
	worker_free(s->worker, true);
	free(s->path);
	free(s->sending);
	free(s);
}
