#include "compare_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy_sqlite.h"
#include "sqlite_worker.h"

#define BUSY_MS 200
#define RETRY_US 500000L

struct compare_sqlite {
	struct sqlite_worker *w;
	struct event *retry;
	struct pg_conn *target;
	struct copy_sqlite_req req;
	enum sqlite_conv_class *classes;
	char **values;
	int nvalues;
	char *create; /* the temporary table's script */
	bool probed, freeing;
	compare_sqlite_cb cb;
	void *arg;
};

static void submit(struct compare_sqlite *cs);

static void
finish(struct compare_sqlite *cs, const char *error)
{
	cs->cb(cs->arg, error);
}

static void
on_copied(void *arg, const PGresult *res, const char *error)
{
	struct compare_sqlite *cs = arg;
	char buf[1024];

	if (res == NULL || !pg_result_ok(res))
		finish(cs, res == NULL
		                   ? (error ? error : "target lost")
		                   : pg_result_error(res, buf, sizeof(buf)));
	else
		finish(cs, NULL);
}

static void
on_created(void *arg, const PGresult *res, const char *error)
{
	struct compare_sqlite *cs = arg;
	char buf[1024];

	if (res == NULL || !pg_result_ok(res)) {
		finish(cs, res == NULL
		                   ? (error ? error : "target lost")
		                   : pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	if (pg_copy_in(cs->target, "COPY compare_src FROM STDIN", cs->req.data,
	               on_copied, cs) < 0)
		finish(cs, "the target connection is not ready");
}

static void
on_read(void *arg, enum sqlite_worker_status status, const char *error)
{
	struct copy_sqlite_req *r = arg;
	struct compare_sqlite *cs = r->owner;
	struct timeval tv = {0, RETRY_US};

	if (cs->freeing || status == SQLITE_WORKER_CANCELLED)
		return;
	if (status == SQLITE_WORKER_BUSY) {
		evtimer_add(cs->retry, &tv);
		return;
	}
	if (status != SQLITE_WORKER_OK) {
		finish(cs, error);
		return;
	}
	if (!cs->probed) {
		cs->probed = true;
		cs->req.lo = copy_sqlite_lowest(cs->req.key_int);
		submit(cs);
		return;
	}
	if (pg_script(cs->target, cs->create, on_created, cs) < 0)
		finish(cs, "the target connection is not ready");
}

static void
submit(struct compare_sqlite *cs)
{
	if (cs->probed)
		evbuffer_drain(cs->req.data, evbuffer_get_length(cs->req.data));
	if (sqlite_worker_submit(
	            cs->w, cs->probed ? copy_sqlite_batch : copy_sqlite_probe,
	            on_read, &cs->req) < 0)
		finish(cs, "out of memory");
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	submit(arg);
}

/* DROP and CREATE TEMP TABLE compare_src with the columns and types. */
static char *
create_sql(struct pg_conn *conn, const struct plan_step *step,
           const char *const *types)
{
	size_t len = 160;
	char *sql, *p;

	for (size_t i = 0; i < step->ncolumns; i++)
		len += 2 * strlen(step->columns[i]) + strlen(types[i]) + 8;
	sql = malloc(len);
	if (sql == NULL)
		return NULL;
	/* the compare's session is read-only; a temporary table is all
	 * this writes (COPY into it is allowed read-only) */
	p = sql + sprintf(sql, "BEGIN READ WRITE;"
	                       " DROP TABLE IF EXISTS pg_temp.compare_src;"
	                       " CREATE TEMP TABLE compare_src (");
	for (size_t i = 0; i < step->ncolumns; i++) {
		char *q = pg_escape_ident(conn, step->columns[i]);
		if (q == NULL) {
			free(sql);
			return NULL;
		}
		p += sprintf(p, "%s%s %s", i ? ", " : "", q, types[i]);
		free(q);
	}
	strcpy(p, "); COMMIT");
	return sql;
}

/* select's column names, quoted, joined by ", " (malloc'd). */
static char *
column_list(struct pg_conn *conn, const struct plan_step *step)
{
	size_t len = 1;
	char *cols;

	for (size_t i = 0; i < step->ncolumns; i++)
		len += 2 * strlen(step->columns[i]) + 4;
	cols = calloc(1, len);
	if (cols == NULL)
		return NULL;
	for (size_t i = 0; i < step->ncolumns; i++) {
		char *q = pg_escape_ident(conn, step->columns[i]);
		if (q == NULL) {
			free(cols);
			return NULL;
		}
		if (i > 0)
			strcat(cols, ", ");
		strcat(cols, q);
		free(q);
	}
	return cols;
}

char *
compare_sqlite_rows_sql(struct pg_conn *conn, const struct plan_step *step)
{
	char *cols = column_list(conn, step), *sql;

	if (cols == NULL ||
	    asprintf(&sql, "SELECT %s FROM pg_temp.compare_src", cols) < 0)
		sql = NULL;
	free(cols);
	return sql;
}

struct compare_sqlite *
compare_sqlite_start(struct event_base *base, const char *name,
                     const char *path, const struct plan_step *step,
                     const char *const *values, int nvalues,
                     const char *const *names, const char *const *tgt_types,
                     size_t n, struct pg_conn *target, compare_sqlite_cb cb,
                     void *arg)
{
	struct compare_sqlite *cs = calloc(1, sizeof(*cs));
	const char **types = calloc(step->ncolumns + 1, sizeof(*types));
	char err[256];

	if (cs == NULL || types == NULL) {
		free(cs);
		free(types);
		return NULL;
	}
	/* select's columns take the target's types, text where it has none */
	for (size_t i = 0; i < step->ncolumns; i++) {
		types[i] = "text";
		for (size_t j = 0; j < n; j++)
			if (strcmp(names[j], step->columns[i]) == 0)
				types[i] = tgt_types[j];
	}
	cs->target = target;
	cs->cb = cb;
	cs->arg = arg;
	cs->nvalues = nvalues;
	cs->values = calloc((size_t)nvalues + 1, sizeof(*cs->values));
	cs->classes = calloc(step->ncolumns + 1, sizeof(*cs->classes));
	cs->create = create_sql(target, step, types);
	for (size_t i = 0; cs->classes != NULL && i < step->ncolumns; i++)
		cs->classes[i] = sqlite_conv_class_of(types[i]);
	free(types);
	cs->w = sqlite_worker_new(base, name, path, SQLITE_WORKER_READONLY,
	                          BUSY_MS, err, sizeof(err));
	cs->retry = evtimer_new(base, on_retry, cs);
	cs->req.data = evbuffer_new();
	if (cs->values == NULL || cs->classes == NULL || cs->create == NULL ||
	    cs->w == NULL || cs->retry == NULL || cs->req.data == NULL) {
		compare_sqlite_free(cs);
		return NULL;
	}
	for (int i = 0; i < nvalues; i++)
		if (values[i] != NULL && !(cs->values[i] = strdup(values[i]))) {
			compare_sqlite_free(cs);
			return NULL;
		}
	cs->req = (struct copy_sqlite_req){
	        .owner = cs,
	        .select = step->select.stmt.text,
	        .values = (const char *const *)cs->values,
	        .nvalues = nvalues,
	        .key = step->key,
	        .table = step->table,
	        .batch = -1, /* every row: SQLite's LIMIT -1 */
	        .classes = cs->classes,
	        .keep_rejects = true,
	        .data = cs->req.data,
	};
	submit(cs);
	return cs;
}

void
compare_sqlite_free(struct compare_sqlite *cs)
{
	if (cs == NULL)
		return;
	cs->freeing = true;
	sqlite_worker_free(cs->w);
	if (cs->retry != NULL)
		event_free(cs->retry);
	if (cs->req.data != NULL)
		evbuffer_free(cs->req.data);
	free(cs->req.hi);
	json_decref(cs->req.cols);
	json_decref(cs->req.rejects);
	for (int i = 0; cs->values != NULL && i < cs->nvalues; i++)
		free(cs->values[i]);
	free(cs->values);
	free(cs->classes);
	free(cs->create);
	free(cs);
}
