#include "runner.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon.h"
#include "log.h"
#include "pg.h"
#include "catalog.h"
#include "checks.h"
#include "stepsql.h"

/* pg_advisory_lock(JOB_LOCK, hashtext(plan || '/' || tenant)) per job */
#define JOB_LOCK "1835623"
#define STALE_STATE "MG002"
#define MAX_PARAMS CATALOG_MAX_PARAMS

enum phase { R_DISCONNECTED, R_IDLE, R_CLAIMING, R_RUNNING };

struct runner {
	struct daemon *d;
	struct runner_events ev;
	struct pg_conn *conn;
	char name[64];
	char owner[128];
	enum phase phase;
	bool stop;
	bool freeing;

	/* the job */
	long long job;
	char job_s[24];
	struct catalog *plans; /* reference kept while the job runs */
	const struct plan *plan;
	char *tenant;
	json_t *params; /* column -> text or null */
	long long batch_override;
	bool dry_run; /* batches roll back; progress is kept */
	bool skip_checks;
	bool restore;      /* a rollback job */
	char source_s[24]; /* rollback: the job whose backups it uses */
	json_t *steps;     /* [[name, state, checkpoint], ...] */
	size_t step_idx;
	const struct plan_step *step;
	struct log_ctx ctx;

	/* the step */
	struct stepsql sql;
	char *lo;
	char *hi;
	long long batch;
	char batch_s[24]; /* batch as text, bound by the range query */
	long long rows;
	long long changed; /* rows apply reported for the batch */
	char batch_error[1024];
	bool batch_stale;
};

static void next_step(struct runner *r);
static void job_failed(struct runner *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static int query(struct runner *r, const char *sql, int n,
                 const char *const *values, pg_result_cb cb);
static void next_batch(struct runner *r);
static void verify(struct runner *r);
static void on_batch_part(void *arg, const PGresult *res, const char *error);

/* ---- helpers ---- */

static void
replace(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? strdup(value) : NULL;
}

static int
bind_params(struct runner *r, const struct sql_stmt *stmt, const char **values)
{
	return catalog_bind(stmt, r->tenant, r->lo, r->hi, r->params, values);
}

/* The first parameter of stmt the job has no value for, or "?". */
static const char *
missing_param(const struct runner *r, const struct sql_stmt *stmt)
{
	for (size_t i = 0; i < stmt->nparams; i++) {
		const char *name = stmt->names[i];
		if (strcmp(name, "tenant") != 0 && strcmp(name, "lo") != 0 &&
		    strcmp(name, "hi") != 0 &&
		    json_object_get(r->params, name) == NULL)
			return name;
	}
	return "?";
}

/* Values for one of the step's queries; -1 (job failed) when one lacks. */
static int
bind_step(struct runner *r, enum stepsql_query q, const char **values)
{
	struct stepsql_env env = {
	        .tenant = r->tenant,
	        .params = r->params,
	        .job = r->job_s,
	        .source = r->source_s,
	        .lo = r->lo,
	        .hi = r->hi,
	        .batch = r->batch_s,
	};
	int n;

	/* values point into r: they must outlive this call */
	snprintf(r->batch_s, sizeof(r->batch_s), "%lld", r->batch);
	n = stepsql_bind(&r->sql, q, &env, values);
	/* the plan was loaded with its params columns checked, so a name
	 * without a value is one the plan gained after this job saved its
	 * params row */
	if (n < 0)
		job_failed(
		        r,
		        "step %s: the plan uses :%s, which this job's saved "
		        "params row has no value for (the plan changed after "
		        "the job started); restore the plan's previous "
		        "version to finish the job, or cancel it and submit "
		        "it again",
		        r->step->name,
		        missing_param(r, q == STEPSQL_APPLY
		                                 ? &r->step->apply.stmt
		                                 : &r->step->where.stmt));
	return n;
}

/* Sends one of the step's queries. */
static void
step_query(struct runner *r, enum stepsql_query q, pg_result_cb cb)
{
	const char *values[MAX_PARAMS + 4];
	int n = bind_step(r, q, values);

	if (n >= 0)
		query(r, r->sql.text[q], n, values, cb);
}

static int
query(struct runner *r, const char *sql, int n, const char *const *values,
      pg_result_cb cb)
{
	if (pg_query(r->conn, sql, n, values, cb, r) < 0) {
		/* only when the connection is gone: on_state handles it */
		log_ctx(LOG_DEBUG, &r->ctx, "query not sent: connection down");
		return -1;
	}
	return 0;
}

static void
clear_step(struct runner *r)
{
	stepsql_clear(&r->sql);
	replace(&r->lo, NULL);
	replace(&r->hi, NULL);
	r->step = NULL;
	r->batch_error[0] = '\0';
	r->batch_stale = false;
}

static void
clear_job(struct runner *r)
{
	clear_step(r);
	replace(&r->tenant, NULL);
	json_decref(r->params);
	json_decref(r->steps);
	r->params = r->steps = NULL;
	catalog_unref(r->plans);
	r->plans = NULL;
	r->plan = NULL;
	r->job = 0;
	r->step_idx = 0;
	r->batch_override = 0;
	r->dry_run = r->skip_checks = r->restore = false;
	r->source_s[0] = '\0';
	r->stop = false;
	memset(&r->ctx, 0, sizeof(r->ctx));
}

static void
become_idle(struct runner *r)
{
	bool was_claiming = r->phase == R_CLAIMING;

	clear_job(r);
	r->phase = R_IDLE;
	if (was_claiming)
		r->ev.claimed(r->ev.arg, r, false);
	else
		r->ev.idle(r->ev.arg, r);
}

static void
on_unlocked(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;

	(void)error;
	if (r->freeing || res == NULL)
		return;
	become_idle(r);
}

/* Lets go of the job: the lock, then back to idle. */
static void
release(struct runner *r)
{
	if (query(r, "SELECT pg_advisory_unlock_all()", 0, NULL, on_unlocked) <
	    0)
		clear_job(r);
}

static void
on_job_ended(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	char buf[512];

	if (r->freeing || res == NULL)
		return;
	if (!pg_result_ok(res))
		log_ctx(LOG_ERR, &r->ctx, "cannot record the job's end: %s",
		        error != NULL ? error
		                      : pg_result_error(res, buf, sizeof(buf)));
	release(r);
}

static void job_failed(struct runner *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/*
 * Drops a UTF-8 sequence cut short at the end of s (by a truncating
 * snprintf): the server refuses such text, and a job whose failure cannot
 * be recorded stays 'running' and is claimed and run again at once.
 */
static void
trim_utf8(char *s)
{
	size_t n = strlen(s), i = n, need;
	unsigned char lead;

	while (i > 0 && n - i < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0 || (unsigned char)s[i - 1] < 0xC0)
		return;
	lead = (unsigned char)s[i - 1];
	need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

static void
job_failed(struct runner *r, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	const char *values[3];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	trim_utf8(msg);
	log_ctx(LOG_ERR, &r->ctx, "job failed: %s", msg);
	values[0] = r->job_s;
	values[1] = msg;
	values[2] = r->owner;
	if (query(r,
	          "UPDATE migrated.jobs SET state = 'failed', error = $2,"
	          " finished = now(), updated = now(), owner = NULL"
	          " WHERE id = $1::bigint AND state = 'running' AND owner = $3",
	          3, values, on_job_ended) < 0)
		clear_job(r);
}

/* A query failed: NULL res is a lost connection (on_state cleans up). */
static bool
failed(struct runner *r, const PGresult *res, const char *what)
{
	char buf[1024];

	if (r->freeing || res == NULL)
		return true;
	if (pg_result_ok(res))
		return false;
	job_failed(r, "%s: %s", what, pg_result_error(res, buf, sizeof(buf)));
	return true;
}

/* ---- finishing ---- */

static void
job_succeeded(struct runner *r)
{
	const char *values[2] = {r->job_s, r->owner};

	log_ctx(LOG_INFO, &r->ctx, "job succeeded");
	/* a rollback that succeeded marks the job it undid */
	if (query(r,
	          "WITH done AS (UPDATE migrated.jobs SET state = 'succeeded',"
	          "  finished = now(), updated = now(), owner = NULL"
	          "  WHERE id = $1::bigint AND state = 'running' AND owner = $2"
	          "  RETURNING rollback_of)"
	          "UPDATE migrated.jobs SET state = 'rolled_back', updated = now()"
	          " WHERE id = (SELECT rollback_of FROM done)",
	          2, values, on_job_ended) < 0)
		clear_job(r);
}

/* ---- batches ---- */

/* Keeps the first error of the batch's statements. */
static void
note_error(struct runner *r, const PGresult *res)
{
	const char *state;
	char buf[1024];

	if (pg_result_ok(res) || r->batch_error[0] != '\0')
		return;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	r->batch_stale = state != NULL && strcmp(state, STALE_STATE) == 0;
	snprintf(r->batch_error, sizeof(r->batch_error), "%s",
	         pg_result_error(res, buf, sizeof(buf)));
}

static void
on_batch_part(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;

	(void)error;
	if (!r->freeing && res != NULL)
		note_error(r, res);
}

/* A key for a message: long ones are cut (on a character), so the
 * server's reason after them is never cut off. */
static const char *
short_key(const char *key, char *buf, size_t len)
{
	if (strlen(key) + 4 <= len)
		return key;
	memcpy(buf, key, len - 4);
	buf[len - 4] = '\0';
	trim_utf8(buf);
	strcat(buf, "...");
	return buf;
}

/* The batch's transaction ended (committed, or rolled back on purpose). */
static void
on_batch_end(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	char lo[128], hi[128];

	on_batch_part(arg, res, error);
	if (r->freeing || res == NULL)
		return;
	if (r->batch_stale) {
		log_ctx(LOG_INFO, &r->ctx,
		        "job is no longer running here (paused, cancelled or "
		        "taken over); stopping");
		release(r);
		return;
	}
	if (r->batch_error[0] != '\0') {
		job_failed(r, "step %s, keys (%s, %s]: %s", r->step->name,
		           short_key(r->lo, lo, sizeof(lo)),
		           short_key(r->hi, hi, sizeof(hi)), r->batch_error);
		return;
	}
	if (!r->dry_run &&
	    strcmp(PQcmdStatus((PGresult *)res), "COMMIT") != 0) {
		job_failed(r,
		           "step %s, keys (%s, %s]: the batch was rolled back",
		           r->step->name, short_key(r->lo, lo, sizeof(lo)),
		           short_key(r->hi, hi, sizeof(hi)));
		return;
	}
	r->ev.rows(r->ev.arg, r->rows);
	replace(&r->lo, r->hi);
	next_batch(r);
}

/* Records the range as done; in the batch's transaction unless dry run. */
static int
advance(struct runner *r, pg_result_cb cb)
{
	const char *adv[7];
	char rows[24], changed[24];

	snprintf(rows, sizeof(rows), "%lld", r->rows);
	snprintf(changed, sizeof(changed), "%lld", r->changed);
	adv[0] = r->job_s;
	adv[1] = r->step->name;
	adv[2] = r->lo;
	adv[3] = r->hi;
	adv[4] = rows;
	adv[5] = changed;
	adv[6] = r->owner;
	return query(
	        r,
	        "SELECT migrated.advance($1::bigint, $2, $3, $4, $5::bigint,"
	        " $6::bigint, $7)",
	        7, adv, cb);
}

static void
on_apply(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;

	(void)error;
	if (r->freeing || res == NULL)
		return;
	note_error(r, res);
	r->changed = r->restore && PQntuples(res) == 1
	                     ? atoll(PQgetvalue(res, 0, 0))
	                     : atoll(PQcmdTuples((PGresult *)res));
	if (r->batch_error[0] != '\0') {
		query(r, "ROLLBACK", 0, NULL, on_batch_end);
		return;
	}
	if (r->dry_run) {
		/* undo the change, keep the count and the job's own progress */
		if (query(r, "ROLLBACK", 0, NULL, on_batch_part) == 0)
			advance(r, on_batch_end);
		return;
	}
	if (advance(r, on_batch_part) == 0)
		query(r, "COMMIT", 0, NULL, on_batch_end);
}

static void
run_batch(struct runner *r)
{
	const char *backup[MAX_PARAMS + 4], *apply[MAX_PARAMS + 4];
	bool with_backup = r->sql.text[STEPSQL_BACKUP] != NULL && !r->dry_run;
	int nbackup = 0, napply;

	r->batch_error[0] = '\0';
	r->batch_stale = false;
	r->changed = 0;
	/* bind first: a value that lacks fails the job outside the batch's
	 * transaction, never inside it (where the failure would not commit
	 * and the open transaction would hold the job's row) */
	if (with_backup && (nbackup = bind_step(r, STEPSQL_BACKUP, backup)) < 0)
		return;
	napply = bind_step(r, STEPSQL_APPLY, apply);
	if (napply < 0)
		return;
	if (query(r, "BEGIN", 0, NULL, on_batch_part) < 0)
		return;
	/* pre-images first, in the same transaction */
	if (with_backup && query(r, r->sql.text[STEPSQL_BACKUP], nbackup,
	                         backup, on_batch_part) < 0)
		return;
	query(r, r->sql.text[STEPSQL_APPLY], napply, apply, on_apply);
}

static void
on_step_done(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;

	(void)error;
	if (failed(r, res, "recording the step's end"))
		return;
	log_ctx(LOG_INFO, &r->ctx, "step done");
	r->step_idx++;
	next_step(r);
}

static void
on_range(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	const char *values[2];

	(void)error;
	if (failed(r, res, "finding the next range"))
		return;
	r->rows = atoll(PQgetvalue(res, 0, 1));
	if (r->rows == 0) {
		values[0] = r->job_s;
		values[1] = r->step->name;
		query(r,
		      "UPDATE migrated.job_steps SET state = 'done'"
		      " WHERE job_id = $1::bigint AND step = $2",
		      2, values, on_step_done);
		return;
	}
	replace(&r->hi, PQgetvalue(res, 0, 0));
	run_batch(r);
}

static void
next_batch(struct runner *r)
{
	if (r->stop) {
		log_ctx(LOG_INFO, &r->ctx, "stopped after the current batch");
		release(r);
		return;
	}
	step_query(r, STEPSQL_RANGE, on_range);
}

/* ---- starting a step ---- */

static void
on_step_started(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;

	(void)error;
	if (failed(r, res, "recording the step's start"))
		return;
	next_batch(r);
}

static void
on_estimate(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	const char *values[4];

	(void)error;
	if (failed(r, res, "counting the step's rows"))
		return;
	if (atoll(PQgetvalue(res, 0, 1)) > 0) {
		job_failed(
		        r,
		        "step %s: %s rows have a NULL key or a key at or "
		        "below %s, the lowest value batches can start after; "
		        "they would be skipped",
		        r->step->name, PQgetvalue(res, 0, 1),
		        r->lo[0] != '\0' ? r->lo : "''");
		return;
	}
	values[0] = r->job_s;
	values[1] = r->step->name;
	values[2] = PQgetvalue(res, 0, 0);
	values[3] = r->lo;
	log_ctx(LOG_INFO, &r->ctx, "step started: about %s rows", values[2]);
	query(r,
	      "UPDATE migrated.job_steps SET state = 'running',"
	      " rows_estimated = $3::bigint, checkpoint = $4"
	      " WHERE job_id = $1::bigint AND step = $2",
	      4, values, on_step_started);
}

/* The value below every key of a column type, or NULL if unsupported. */
static const char *
lowest_key(const char *type)
{
	static const struct {
		const char *prefix;
		const char *lowest;
	} types[] = {
	        {"smallint", "-32768"},
	        {"integer", "-2147483648"},
	        {"bigint", "-9223372036854775808"},
	        {"numeric", "-Infinity"},
	        {"double precision", "-Infinity"},
	        {"real", "-Infinity"},
	        {"text", ""},
	        {"character varying", ""},
	        {"character", ""},
	        {"citext", ""},
	        {"uuid", "00000000-0000-0000-0000-000000000000"},
	        {"date", "-infinity"},
	        {"timestamp", "-infinity"},
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strncmp(type, types[i].prefix, strlen(types[i].prefix)) ==
		    0)
			return types[i].lowest;
	return NULL;
}

/* Counts the step's rows from lo on, then starts its batches. */
static void
estimate(struct runner *r)
{
	step_query(r, STEPSQL_ESTIMATE, on_estimate);
}

static void
on_key_type(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	const char *lowest;

	(void)error;
	if (failed(r, res, "looking up the key column"))
		return;
	if (strcmp(PQgetvalue(res, 0, 0), "f") == 0) {
		job_failed(r, "step %s: there is no table %s", r->step->name,
		           r->sql.table);
		return;
	}
	if (PQgetisnull(res, 0, 1)) {
		job_failed(r, "step %s: table %s has no column %s",
		           r->step->name, r->sql.table, r->step->key);
		return;
	}
	lowest = lowest_key(PQgetvalue(res, 0, 1));
	if (lowest == NULL) {
		job_failed(
		        r,
		        "step %s: key %s has type %s; batches need an integer, "
		        "numeric, text, uuid, date or timestamp key",
		        r->step->name, r->step->key, PQgetvalue(res, 0, 1));
		return;
	}
	replace(&r->lo, lowest);
	estimate(r);
}

/* A migrate step: the key's type tells where the first batch starts. */
static void
start_migrate(struct runner *r, const char *checkpoint)
{
	const char *values[2];

	if (stepsql_build(&r->sql, r->conn, r->step, STEPSQL_MIGRATE, NULL) <
	    0) {
		job_failed(r, "step %s: cannot prepare its queries",
		           r->step->name);
		return;
	}
	if (checkpoint != NULL) {
		/* resume exactly after the last committed batch */
		replace(&r->lo, checkpoint);
		log_ctx(LOG_INFO, &r->ctx, "resuming after key %s", checkpoint);
		next_batch(r);
		return;
	}
	values[0] = r->sql.table;
	values[1] = r->step->key;
	query(r,
	      "SELECT to_regclass($1) IS NOT NULL,"
	      " (SELECT format_type(a.atttypid, NULL) FROM pg_attribute a"
	      "  WHERE a.attrelid = to_regclass($1)"
	      "  AND a.attname = $2 AND NOT a.attisdropped)",
	      2, values, on_key_type);
}

static void
on_columns(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	const char *checkpoint;

	(void)error;
	if (failed(r, res, "reading the table's columns"))
		return;
	if (PQgetisnull(res, 0, 0)) {
		job_failed(r, "step %s: there is no table %s to restore",
		           r->step->name, r->step->table);
		return;
	}
	struct stepsql_cols cols = {
	        .insert = PQgetvalue(res, 0, 0),
	        .update = PQgetvalue(res, 0, 1),
	        .rupdate = PQgetvalue(res, 0, 2),
	};

	if (PQgetisnull(res, 0, 1)) {
		job_failed(r,
		           "step %s: table %s has no column a restore can set",
		           r->step->name, r->step->table);
		return;
	}
	if (stepsql_build(&r->sql, r->conn, r->step, STEPSQL_RESTORE, &cols) <
	    0) {
		job_failed(r, "step %s: cannot prepare its queries",
		           r->step->name);
		return;
	}
	checkpoint = json_string_value(
	        json_array_get(json_array_get(r->steps, r->step_idx), 2));
	if (checkpoint != NULL) {
		replace(&r->lo, checkpoint);
		next_batch(r);
		return;
	}
	replace(&r->lo, "0"); /* backups are walked by id */
	estimate(r);
}

/* A restore step: writes back every column that can be written. */
static void
start_restore(struct runner *r)
{
	char *table = stepsql_table(r->conn, r->step);
	const char *values[1] = {table};

	if (table == NULL) {
		job_failed(r, "step %s: cannot prepare its queries",
		           r->step->name);
		return;
	}
	query(r, stepsql_cols_sql, 1, values, on_columns);
	free(table);
}

static void
next_step(struct runner *r)
{
	json_t *entry;
	const char *name, *state, *checkpoint;

	clear_step(r);
	if (r->stop) {
		release(r);
		return;
	}
	entry = json_array_get(r->steps, r->step_idx);
	if (entry == NULL) {
		verify(r);
		return;
	}
	name = json_string_value(json_array_get(entry, 0));
	state = json_string_value(json_array_get(entry, 1));
	checkpoint = json_string_value(json_array_get(entry, 2));
	r->step = plan_step_find(r->plan, name);
	r->ctx.step = name;
	if (r->step == NULL) {
		job_failed(r, "plan %s has no step %s any more", r->plan->name,
		           name);
		return;
	}
	r->batch = r->batch_override > 0 ? r->batch_override
	           : r->step->batch > 0  ? r->step->batch
	                                 : r->d->cfg.batch_size;
	if (strcmp(state, "done") == 0) {
		r->step_idx++;
		next_step(r);
		return;
	}
	if (r->restore)
		start_restore(r);
	else
		start_migrate(r, strcmp(state, "running") == 0 ? checkpoint
		                                               : NULL);
}

/* ---- claiming ---- */

/* Appends the warnings of results to the job; the flow goes on at once. */
static void
record_warnings(struct runner *r, json_t *results)
{
	char *text = checks_describe(results, true);
	const char *values[2] = {r->job_s, text};

	if (text != NULL && text[0] != '\0') {
		log_ctx(LOG_WARNING, &r->ctx, "warning: %s", text);
		query(r,
		      "UPDATE migrated.jobs SET warnings = warnings || $2::text"
		      " WHERE id = $1::bigint",
		      2, values, on_batch_part);
	}
	free(text);
}

/*
 * The outcome of a checks run: records its warnings, and fails the job
 * (with failure before the findings) unless every error-level check held.
 * A lost connection is left to on_state: the job resumes later.
 */
static bool
checks_passed(struct runner *r, const struct checks_outcome *out,
              const char *what, const char *failure)
{
	char *text;

	if (r->freeing || r->job == 0 || out->unavailable)
		return false;
	if (out->error != NULL) {
		job_failed(r, "%s could not run: %s", what, out->error);
		return false;
	}
	record_warnings(r, out->results);
	if (!out->failed)
		return true;
	text = checks_describe(out->results, false);
	job_failed(r, "%s: %s", failure, text != NULL ? text : "?");
	free(text);
	return false;
}

static void
on_verified(void *arg, const struct checks_outcome *out)
{
	struct runner *r = arg;

	if (checks_passed(r, out, "verification", "verification failed"))
		job_succeeded(r);
}

/* Runs list for the job; an out-of-memory refusal fails the job. */
static void
run_checks(struct runner *r, const struct plan_check *list, size_t n,
           checks_done_cb cb)
{
	if (checks_run(r->conn, r->plan, list, n, r->tenant, r->params, cb,
	               r) == 0)
		return;
	if (pg_conn_state(r->conn) == PG_READY)
		job_failed(r, "cannot run the plan's checks: out of memory");
	/* otherwise on_state drops the job; it resumes once reconnected */
}

/* After the last step: the [verify] sections (not for dry runs). */
static void
verify(struct runner *r)
{
	if (r->dry_run || r->restore || r->plan->nverifies == 0) {
		job_succeeded(r);
		return;
	}
	run_checks(r, r->plan->verifies, r->plan->nverifies, on_verified);
}

static void
on_prechecked(void *arg, const struct checks_outcome *out)
{
	struct runner *r = arg;

	if (checks_passed(r, out, "pre-check",
	                  "pre-check failed, nothing was changed"))
		next_step(r);
}

/* Before the first batch of a job: its [check] sections. */
static void
precheck(struct runner *r)
{
	bool started = false;
	size_t i;
	json_t *entry;

	json_array_foreach(r->steps, i, entry)
	{
		if (strcmp(json_string_value(json_array_get(entry, 1)),
		           "pending") != 0)
			started = true;
	}
	if (started || r->skip_checks || r->restore || r->plan->nchecks == 0) {
		next_step(r);
		return;
	}
	run_checks(r, r->plan->checks, r->plan->nchecks, on_prechecked);
}

static void
on_params_saved(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;

	(void)error;
	if (failed(r, res, "saving the job's parameters"))
		return;
	precheck(r);
}

static void
on_params(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	const char *values[2];
	char err[512];
	char *text;

	(void)error;
	if (failed(r, res, "running the plan's params query"))
		return;
	r->params = checks_params_row(r->plan, res, err, sizeof(err));
	if (r->params == NULL) {
		job_failed(r, "tenant %s: %s", r->tenant, err);
		return;
	}
	/* kept with the job, so a resumed job binds the same values */
	text = json_dumps(r->params, JSON_COMPACT);
	values[0] = r->job_s;
	values[1] = text;
	query(r,
	      "UPDATE migrated.jobs SET params = $2::jsonb WHERE id = $1::bigint",
	      2, values, on_params_saved);
	free(text);
}

static void
on_steps(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	const char *values[MAX_PARAMS];

	(void)error;
	if (failed(r, res, "loading the job's steps"))
		return;
	r->steps = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	if (r->steps == NULL) {
		job_failed(r, "cannot read the job's steps");
		return;
	}
	if (r->params != NULL || !r->plan->has_params) {
		if (r->params == NULL)
			r->params = json_object();
		precheck(r);
		return;
	}
	if (bind_params(r, &r->plan->params.stmt, values) < 0) {
		job_failed(r,
		           "the params query has a parameter without a value");
		return;
	}
	query(r, r->plan->params.stmt.text, (int)r->plan->params.stmt.nparams,
	      values, on_params);
}

static void
on_claimed(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	const char *values[1];
	json_t *params;

	(void)error;
	if (r->freeing || res == NULL)
		return;
	if (!pg_result_ok(res) || PQntuples(res) == 0) {
		/* taken by someone else meanwhile, or locked: look again later */
		release(r);
		return;
	}
	r->phase = R_RUNNING;
	r->tenant = strdup(PQgetvalue(res, 0, 0));
	r->batch_override = atoll(PQgetvalue(res, 0, 2));
	r->dry_run = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	r->skip_checks = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
	r->restore = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
	snprintf(r->source_s, sizeof(r->source_s), "%s", PQgetvalue(res, 0, 6));
	params = PQgetisnull(res, 0, 1)
	                 ? NULL
	                 : json_loads(PQgetvalue(res, 0, 1), 0, NULL);
	r->params = params;
	r->ctx.job = r->job;
	r->ctx.plan = r->plan->name;
	r->ctx.tenant = r->tenant;
	log_ctx(LOG_INFO, &r->ctx, "job started on %s%s", r->name,
	        r->dry_run ? " (dry run)" : "");
	r->ev.claimed(r->ev.arg, r, true);
	values[0] = r->job_s;
	query(r,
	      "SELECT coalesce(json_agg(json_build_array(step, state, checkpoint)"
	      " ORDER BY ord), '[]') FROM migrated.job_steps"
	      " WHERE job_id = $1::bigint",
	      1, values, on_steps);
}

static void
on_candidate(void *arg, const PGresult *res, const char *error)
{
	struct runner *r = arg;
	const char *values[2];
	char buf[512];

	(void)error;
	if (r->freeing || res == NULL)
		return;
	if (!pg_result_ok(res)) {
		log_warning("%s: cannot look for jobs: %s", r->name,
		            pg_result_error(res, buf, sizeof(buf)));
		become_idle(r);
		return;
	}
	if (PQntuples(res) == 0) {
		become_idle(r);
		return;
	}
	r->job = atoll(PQgetvalue(res, 0, 0));
	snprintf(r->job_s, sizeof(r->job_s), "%lld", r->job);
	r->plans = catalog_ref(r->d->plans);
	r->plan = catalog_find(r->plans, PQgetvalue(res, 0, 1));
	if (r->plan == NULL) {
		become_idle(r);
		return;
	}
	values[0] = r->job_s;
	values[1] = r->owner;
	/* the lock makes the job ours; the state check makes it current */
	query(r,
	      "UPDATE migrated.jobs SET state = 'running', owner = $2,"
	      " started = coalesce(started, now()), updated = now()"
	      " WHERE id = $1::bigint AND state IN ('queued', 'running')"
	      " AND pg_try_advisory_lock(" JOB_LOCK ","
	      " hashtext(plan || '/' || tenant))"
	      " RETURNING tenant, params, batch_size, dry_run, skip_checks,"
	      " kind = 'rollback', rollback_of",
	      2, values, on_claimed);
}

void
runner_claim(struct runner *r, const char *exclude)
{
	const char *values[2];
	char *plans;
	json_t *names = json_array();
	const struct catalog *cat = r->d->plans;

	if (r->phase != R_IDLE)
		return;
	for (int i = 0; i < catalog_count(cat); i++)
		json_array_append_new(names,
		                      json_string(catalog_at(cat, i)->name));
	plans = json_dumps(names, JSON_COMPACT);
	json_decref(names);
	values[0] = exclude;
	values[1] = plans;
	r->phase = R_CLAIMING;
	/* running jobs whose runner's session is gone first, then the
	 * queue in priority order (both walk the jobs_queue index) */
	if (query(r,
	          "WITH x AS (SELECT v::bigint AS id"
	          "  FROM json_array_elements_text($1::json) v),"
	          " p AS (SELECT json_array_elements_text($2::json) AS plan),"
	          " orphan AS (SELECT j.id, j.plan FROM migrated.jobs j"
	          "  WHERE j.state = 'running'"
	          "  AND j.id NOT IN (SELECT id FROM x)"
	          "  AND j.plan IN (SELECT plan FROM p)"
	          "  AND NOT EXISTS (SELECT 1 FROM pg_locks l"
	          "   WHERE l.locktype = 'advisory' AND l.classid = " JOB_LOCK
	          "   AND l.objid = hashtext(j.plan || '/' || j.tenant)::oid"
	          "   AND l.objsubid = 2)"
	          "  ORDER BY j.priority DESC, j.id LIMIT 1),"
	          " queued AS (SELECT j.id, j.plan FROM migrated.jobs j"
	          "  WHERE j.state = 'queued'"
	          "  AND j.id NOT IN (SELECT id FROM x)"
	          "  AND j.plan IN (SELECT plan FROM p)"
	          "  AND NOT EXISTS (SELECT 1 FROM pg_locks l"
	          "   WHERE l.locktype = 'advisory' AND l.classid = " JOB_LOCK
	          "   AND l.objid = hashtext(j.plan || '/' || j.tenant)::oid"
	          "   AND l.objsubid = 2)"
	          "  ORDER BY j.priority DESC, j.id LIMIT 1)"
	          "SELECT id, plan FROM (SELECT 0 AS pass, * FROM orphan"
	          " UNION ALL SELECT 1, * FROM queued) c ORDER BY pass LIMIT 1",
	          2, values, on_candidate) < 0) {
		r->phase = R_DISCONNECTED;
		r->ev.claimed(r->ev.arg, r, false);
	}
	free(plans);
}

/* ---- the connection ---- */

static void
on_state(void *arg, enum pg_state state, const char *error)
{
	struct runner *r = arg;

	if (r->freeing)
		return;
	if (state == PG_READY) {
		r->phase = R_IDLE;
		r->ev.idle(r->ev.arg, r);
		return;
	}
	if (r->job != 0)
		log_ctx(LOG_WARNING, &r->ctx,
		        "database connection lost (%s); the job continues from "
		        "its checkpoint once it is back",
		        error != NULL ? error : "?");
	clear_job(r);
	if (r->phase == R_CLAIMING)
		r->ev.claimed(r->ev.arg, r, false);
	r->phase = R_DISCONNECTED;
}

struct runner *
runner_new(struct daemon *d, int slot, const struct runner_events *ev)
{
	struct runner *r = calloc(1, sizeof(*r));
	char host[64] = "localhost";

	if (r == NULL)
		return NULL;
	r->d = d;
	r->ev = *ev;
	snprintf(r->name, sizeof(r->name), "migrated-worker-%d", slot);
	gethostname(host, sizeof(host) - 1);
	snprintf(r->owner, sizeof(r->owner), "%s:%d:%d", host, (int)getpid(),
	         slot);
	r->conn = pg_conn_new(d->base, d->cfg.target_conninfo, r->name,
	                      on_state, r);
	if (r->conn == NULL) {
		free(r);
		return NULL;
	}
	pg_conn_set_backoff_max(r->conn, d->cfg.reconnect_max_ms);
	return r;
}

void
runner_free(struct runner *r)
{
	if (r == NULL)
		return;
	r->freeing = true;
	pg_conn_free(r->conn);
	clear_job(r);
	free(r);
}

bool
runner_idle(const struct runner *r)
{
	return r->phase == R_IDLE;
}

long long
runner_job(const struct runner *r)
{
	return r->job;
}

void
runner_set_backoff_max(struct runner *r, long long ms)
{
	pg_conn_set_backoff_max(r->conn, ms);
}

void
runner_stop(struct runner *r)
{
	r->stop = true;
}
