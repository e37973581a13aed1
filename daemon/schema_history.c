#include "schema_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The DDL of docs/DECISIONS.md "Schema history", one implicit transaction. */
const char schema_history_ensure_sql[] =
        "SELECT pg_advisory_xact_lock(hashtext('migrated.schema_history'));"
        "CREATE SCHEMA IF NOT EXISTS migrated;"
        "CREATE TABLE IF NOT EXISTS migrated.schema_history ("
        " id bigserial PRIMARY KEY,"
        " set_name text NOT NULL,"
        " version bigint NOT NULL,"
        " name text NOT NULL,"
        " checksum text,"
        " kind text NOT NULL CHECK (kind IN ('applied', 'baseline',"
        "  'adopted', 'reverted', 'repaired', 'forgotten')),"
        " adopted_from text,"
        " uid integer,"
        " username text,"
        " job_id bigint,"
        " started timestamptz NOT NULL DEFAULT now(),"
        " finished timestamptz,"
        " duration_ms bigint,"
        " outcome text NOT NULL CHECK (outcome IN ('succeeded', 'failed')),"
        " error text);"
        "CREATE INDEX IF NOT EXISTS schema_history_set_version"
        " ON migrated.schema_history (set_name, version, id);";

/*
 * Two walks of the index, newest row first within each version: the
 * newest row, and the newest succeeded one.
 */
const char schema_history_status_sql[] =
        "WITH last AS ("
        " SELECT DISTINCT ON (version) version, name, outcome, error"
        " FROM migrated.schema_history WHERE set_name = $1"
        " ORDER BY version, id DESC),"
        " ok AS ("
        " SELECT DISTINCT ON (version) version, name, checksum, kind,"
        "  adopted_from, coalesce(finished, started) AS at, duration_ms"
        " FROM migrated.schema_history"
        " WHERE set_name = $1 AND outcome = 'succeeded'"
        " ORDER BY version, id DESC)"
        " SELECT coalesce(json_agg(json_build_object("
        "  'version', l.version, 'name', coalesce(o.name, l.name),"
        "  'kind', o.kind, 'checksum', o.checksum,"
        "  'adopted_from', o.adopted_from,"
        "  'applied_at', to_char(o.at AT TIME ZONE 'UTC',"
        "   'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        "  'duration_ms', o.duration_ms,"
        "  'failed', l.outcome = 'failed',"
        "  'error', CASE WHEN l.outcome = 'failed' THEN l.error END)"
        "  ORDER BY l.version), '[]')"
        " FROM last l LEFT JOIN ok o USING (version)";

/* Descending, so that each DISTINCT ON walks the index backwards. */
const char schema_history_rows_sql[] =
        "WITH last AS ("
        " SELECT DISTINCT ON (version) version, name, outcome, error"
        " FROM migrated.schema_history WHERE set_name = $1"
        " ORDER BY version DESC, id DESC),"
        " ok AS ("
        " SELECT DISTINCT ON (version) version, name, checksum, kind,"
        "  adopted_from, coalesce(finished, started) AS at, duration_ms"
        " FROM migrated.schema_history"
        " WHERE set_name = $1 AND outcome = 'succeeded'"
        " ORDER BY version DESC, id DESC)"
        " SELECT l.version, coalesce(o.name, l.name), o.kind, o.checksum,"
        "  o.adopted_from, extract(epoch FROM o.at), o.duration_ms,"
        "  l.outcome = 'failed',"
        "  CASE WHEN l.outcome = 'failed' THEN l.error END"
        " FROM last l LEFT JOIN ok o USING (version)"
        " ORDER BY l.version DESC";

const char schema_history_insert_sql[] =
        "INSERT INTO migrated.schema_history (set_name, version, name,"
        " checksum, kind, adopted_from, uid, username, job_id, started,"
        " finished, duration_ms, outcome, error)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
        " coalesce($10::timestamptz, now()), now(), $11, $12, $13)"
        " RETURNING id";

int
schema_history_ensure(struct pg_conn *conn, pg_result_cb cb, void *arg)
{
	return pg_script(conn, schema_history_ensure_sql, cb, arg);
}

bool
schema_history_kind_applied(const char *kind)
{
	return kind != NULL &&
	       (strcmp(kind, "applied") == 0 || strcmp(kind, "baseline") == 0 ||
	        strcmp(kind, "adopted") == 0 || strcmp(kind, "repaired") == 0);
}

static const char *
cell(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

int
schema_history_rows(const PGresult *res, struct schema_history_row **rows,
                    size_t *n)
{
	int nt = PQntuples(res);
	struct schema_history_row *r =
	        calloc(nt > 0 ? (size_t)nt : 1, sizeof(*r));

	*rows = r;
	*n = 0;
	if (r == NULL)
		return -1;
	/* newest first from the server: fill from the end */
	for (int i = 0; i < nt; i++) {
		struct schema_history_row *x = &r[nt - 1 - i];
		const char *ms = cell(res, i, 6);

		x->version = atoll(PQgetvalue(res, i, 0));
		x->name = PQgetvalue(res, i, 1);
		x->kind = cell(res, i, 2);
		x->checksum = cell(res, i, 3);
		x->adopted_from = cell(res, i, 4);
		x->applied_at = cell(res, i, 5);
		x->duration_ms = ms != NULL ? atoll(ms) : -1;
		x->failed = strcmp(PQgetvalue(res, i, 7), "t") == 0;
		x->error = cell(res, i, 8);
	}
	*n = (size_t)nt;
	return 0;
}

int
schema_history_rows_json(const json_t *array, struct schema_history_row **rows,
                         size_t *n)
{
	size_t len = json_array_size(array);
	struct schema_history_row *r = calloc(len > 0 ? len : 1, sizeof(*r));

	*rows = r;
	*n = 0;
	if (r == NULL)
		return -1;
	for (size_t i = 0; i < len; i++) {
		const json_t *o = json_array_get(array, i);
		const json_t *ms = json_object_get(o, "duration_ms");

		r[i].version = (long long)json_integer_value(
		        json_object_get(o, "version"));
		r[i].name = json_string_value(json_object_get(o, "name"));
		if (r[i].name == NULL)
			r[i].name = "";
		r[i].kind = json_string_value(json_object_get(o, "kind"));
		r[i].checksum =
		        json_string_value(json_object_get(o, "checksum"));
		r[i].adopted_from =
		        json_string_value(json_object_get(o, "adopted_from"));
		r[i].applied_at =
		        json_string_value(json_object_get(o, "applied_at"));
		r[i].duration_ms = json_is_integer(ms)
		                           ? (long long)json_integer_value(ms)
		                           : -1;
		r[i].failed = json_is_true(json_object_get(o, "failed"));
		r[i].error = json_string_value(json_object_get(o, "error"));
	}
	*n = len;
	return 0;
}

static json_t *
string_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* "2026-01-01T00:00:00.000Z" of seconds since the epoch, or null. */
static json_t *
time_json(const char *epoch)
{
	double t;
	time_t sec;
	long ms;
	struct tm tm;
	char buf[64], out[96];

	if (epoch == NULL)
		return json_null();
	t = strtod(epoch, NULL);
	sec = (time_t)t;
	if ((double)sec > t) /* before 1970: floor, not towards zero */
		sec--;
	ms = (long)((t - (double)sec) * 1000.0 + 0.5);
	if (ms >= 1000) {
		sec++;
		ms -= 1000;
	}
	if (gmtime_r(&sec, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, sizeof(out), "%s.%03dZ", buf, (int)(ms % 1000));
	return json_string(out);
}

/* The state of a version with file f (or none) and history row r (or none). */
static const char *
state_of(const struct schema_file *f, const struct schema_history_row *r,
         long long newest)
{
	const char *kind = r != NULL ? r->kind : NULL;
	bool applied = schema_history_kind_applied(kind);
	const char *sum;

	if (f == NULL)
		return applied ? "missing" : NULL;
	if (r != NULL && r->failed)
		return "failed";
	if (applied) {
		sum = r->checksum;
		if (sum != NULL && strcmp(sum, f->checksum) != 0)
			return "edited";
		if (strcmp(kind, "baseline") == 0)
			return "baseline";
		if (strcmp(kind, "adopted") == 0)
			return "adopted";
		return "applied";
	}
	return newest >= 0 && f->version < newest ? "out_of_order" : "pending";
}

static json_t *
file_json(const struct schema_file *f, const struct schema_history_row *r,
          const char *state)
{
	/* no row: a file never recorded; no file: a missing version */
	static const struct schema_history_row none = {.duration_ms = -1};
	const struct schema_history_row *h = r != NULL ? r : &none;
	bool applied = schema_history_kind_applied(h->kind);
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "version",
	                    json_integer(f != NULL ? f->version : h->version));
	json_object_set_new(o, "name",
	                    string_or_null(f != NULL ? f->name : h->name));
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "checksum",
	                    string_or_null(f != NULL ? f->checksum : NULL));
	json_object_set_new(o, "recorded_checksum",
	                    string_or_null(applied ? h->checksum : NULL));
	json_object_set_new(o, "kind", string_or_null(h->kind));
	json_object_set_new(o, "adopted_from",
	                    string_or_null(applied ? h->adopted_from : NULL));
	json_object_set_new(o, "applied_at",
	                    applied ? time_json(h->applied_at) : json_null());
	json_object_set_new(o, "duration_ms",
	                    applied && h->duration_ms >= 0
	                            ? json_integer((json_int_t)h->duration_ms)
	                            : json_null());
	json_object_set_new(o, "error",
	                    string_or_null(h->failed ? h->error : NULL));
	json_object_set_new(o, "has_down",
	                    json_boolean(f != NULL && f->down_path != NULL));
	json_object_set_new(o, "no_transaction",
	                    json_boolean(f != NULL && f->no_transaction));
	return o;
}

/* The states a SchemaCounts counts, in its order. */
static const char *const states[] = {
        "applied",      "baseline", "adopted", "pending",
        "out_of_order", "failed",   "edited",  "missing",
};
#define NSTATES (sizeof(states) / sizeof(states[0]))
#define NSETTLED 3 /* the first three: nothing to do */

static size_t
state_index(const char *state)
{
	size_t k = 0;

	while (k < NSTATES && strcmp(states[k], state) != 0)
		k++;
	return k;
}

static json_t *
counts_json(const long long *count)
{
	json_t *o = json_object();

	for (size_t k = 0; o != NULL && k < NSTATES; k++)
		if (json_object_set_new(o, states[k],
		                        json_integer((json_int_t)count[k])) <
		    0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

json_t *
schema_history_merge(const char *name, const char *database,
                     const struct schema_dir *dir,
                     const struct schema_history_row *rows, size_t nrows,
                     bool all)
{
	size_t i = 0, j = 0;
	long long newest = -1, pending = 0, count[NSTATES + 1] = {0};
	bool needs_action = false;
	json_t *files = json_array(), *set, *counts;

	if (files == NULL)
		return NULL;
	for (size_t k = 0; k < nrows; k++)
		if (schema_history_kind_applied(rows[k].kind) &&
		    rows[k].version > newest)
			newest = rows[k].version;
	/* both are by version: one walk over the two */
	while (i < dir->n || j < nrows) {
		const struct schema_file *f =
		        i < dir->n ? &dir->files[i] : NULL;
		const struct schema_history_row *r =
		        j < nrows ? &rows[j] : NULL;
		const char *state;
		json_t *o;

		if (f != NULL && r != NULL && f->version != r->version) {
			if (f->version < r->version)
				r = NULL;
			else
				f = NULL;
		}
		i += f != NULL;
		j += r != NULL;
		state = state_of(f, r, newest);
		if (state == NULL) /* reverted or forgotten, file gone */
			continue;
		count[state_index(state)]++;
		if (strcmp(state, "pending") == 0 ||
		    strcmp(state, "out_of_order") == 0 ||
		    strcmp(state, "failed") == 0)
			pending++;
		if (strcmp(state, "failed") == 0 ||
		    strcmp(state, "edited") == 0 ||
		    strcmp(state, "missing") == 0 ||
		    strcmp(state, "out_of_order") == 0)
			needs_action = true;
		if (!all && state_index(state) < NSETTLED)
			continue;
		o = file_json(f, r, state);
		if (o == NULL || json_array_append_new(files, o) < 0) {
			json_decref(files);
			return NULL;
		}
	}
	counts = counts_json(count);
	if (counts == NULL) {
		json_decref(files);
		return NULL;
	}
	set = json_pack("{s:s, s:s, s:s, s:o, s:I, s:b, s:o, s:b, s:o}", "name",
	                name, "database", database, "dir", dir->dir, "current",
	                newest >= 0 ? json_integer(newest) : json_null(),
	                "pending", (json_int_t)pending, "needs_action",
	                needs_action, "counts", counts, "all", all, "files",
	                files);
	return set;
}

json_t *
schema_history_merge_json(const char *name, const char *database,
                          const struct schema_dir *dir, const json_t *rows,
                          bool all)
{
	struct schema_history_row *r = NULL;
	size_t n = 0;
	json_t *set = NULL;

	if (schema_history_rows_json(rows, &r, &n) == 0)
		set = schema_history_merge(name, database, dir, r, n, all);
	free(r);
	return set;
}
