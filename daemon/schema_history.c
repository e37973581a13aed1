#include "schema_history.h"

#include <string.h>

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

const char schema_history_lock_sql[] =
        "SELECT pg_advisory_xact_lock(" SCHEMA_HISTORY_LOCK_KEY ")";

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
str(const json_t *row, const char *key)
{
	return json_string_value(json_object_get(row, key));
}

static long long
version_of(const json_t *row)
{
	return (long long)json_integer_value(json_object_get(row, "version"));
}

/* A copy of row[key], or null. */
static json_t *
copy(const json_t *row, const char *key)
{
	json_t *v = row != NULL ? json_object_get(row, key) : NULL;

	return v != NULL ? json_incref(v) : json_null();
}

static json_t *
string_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* The state of a version with file f (or none) and history row r (or none). */
static const char *
state_of(const struct schema_file *f, const json_t *r, long long newest)
{
	const char *kind = r != NULL ? str(r, "kind") : NULL;
	bool applied = schema_history_kind_applied(kind);
	const char *sum;

	if (f == NULL)
		return applied ? "missing" : NULL;
	if (r != NULL && json_is_true(json_object_get(r, "failed")))
		return "failed";
	if (applied) {
		sum = str(r, "checksum");
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
file_json(const struct schema_file *f, const json_t *r, const char *state)
{
	bool applied = r != NULL && schema_history_kind_applied(str(r, "kind"));
	bool failed = r != NULL && json_is_true(json_object_get(r, "failed"));
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(
	        o, "version",
	        json_integer(f != NULL ? f->version : version_of(r)));
	json_object_set_new(o, "name",
	                    f != NULL ? json_string(f->name) : copy(r, "name"));
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "checksum",
	                    string_or_null(f != NULL ? f->checksum : NULL));
	json_object_set_new(o, "recorded_checksum",
	                    applied ? copy(r, "checksum") : json_null());
	json_object_set_new(o, "kind", copy(r, "kind"));
	json_object_set_new(o, "adopted_from",
	                    applied ? copy(r, "adopted_from") : json_null());
	json_object_set_new(o, "applied_at",
	                    applied ? copy(r, "applied_at") : json_null());
	json_object_set_new(o, "duration_ms",
	                    applied ? copy(r, "duration_ms") : json_null());
	json_object_set_new(o, "error",
	                    failed ? copy(r, "error") : json_null());
	json_object_set_new(o, "has_down",
	                    json_boolean(f != NULL && f->down_path != NULL));
	json_object_set_new(o, "no_transaction",
	                    json_boolean(f != NULL && f->no_transaction));
	return o;
}

json_t *
schema_history_merge(const char *name, const char *database,
                     const struct schema_dir *dir, const json_t *rows)
{
	size_t nrows = json_is_array(rows) ? json_array_size(rows) : 0;
	size_t i = 0, j = 0;
	long long newest = -1, pending = 0;
	bool needs_action = false;
	json_t *files = json_array(), *set;

	if (files == NULL)
		return NULL;
	for (size_t k = 0; k < nrows; k++) {
		const json_t *r = json_array_get(rows, k);
		if (schema_history_kind_applied(str(r, "kind")) &&
		    version_of(r) > newest)
			newest = version_of(r);
	}
	/* both are by version: one walk over the two */
	while (i < dir->n || j < nrows) {
		const struct schema_file *f =
		        i < dir->n ? &dir->files[i] : NULL;
		const json_t *r = j < nrows ? json_array_get(rows, j) : NULL;
		const char *state;
		json_t *o;

		if (f != NULL && r != NULL && f->version != version_of(r)) {
			if (f->version < version_of(r))
				r = NULL;
			else
				f = NULL;
		}
		i += f != NULL;
		j += r != NULL;
		state = state_of(f, r, newest);
		if (state == NULL) /* reverted or forgotten, file gone */
			continue;
		if (strcmp(state, "pending") == 0 ||
		    strcmp(state, "out_of_order") == 0 ||
		    strcmp(state, "failed") == 0)
			pending++;
		if (strcmp(state, "failed") == 0 ||
		    strcmp(state, "edited") == 0 ||
		    strcmp(state, "missing") == 0 ||
		    strcmp(state, "out_of_order") == 0)
			needs_action = true;
		o = file_json(f, r, state);
		if (o == NULL || json_array_append_new(files, o) < 0) {
			json_decref(files);
			return NULL;
		}
	}
	set = json_pack("{s:s, s:s, s:s, s:o, s:I, s:b, s:o}", "name", name,
	                "database", database, "dir", dir->dir, "current",
	                newest >= 0 ? json_integer(newest) : json_null(),
	                "pending", (json_int_t)pending, "needs_action",
	                needs_action, "files", files);
	return set;
}
