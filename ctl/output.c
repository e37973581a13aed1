#include "output.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"
#include "table.h"
#include "value.h"
#include "vl_names.h"

/* ---- job states -------------------------------------------------------- */

/* The job states of io.migrated.varlink (type JobCounts), in order. */
#define STATE_NAME(s) #s,
static const char *const job_states[] = {VL_JOB_STATES(STATE_NAME)};
#define NJOB_STATES (sizeof(job_states) / sizeof(job_states[0]))

const char *
out_job_state(size_t i)
{
	return i < NJOB_STATES ? job_states[i] : NULL;
}

bool
out_state_ended(const char *state)
{
	static const char *const ended[] = {"succeeded", "failed", "cancelled",
	                                    "rolled_back"};

	for (size_t i = 0;
	     state != NULL && i < sizeof(ended) / sizeof(ended[0]); i++)
		if (strcmp(state, ended[i]) == 0)
			return true;
	return false;
}

/* ---- JSON -------------------------------------------------------------- */

static int
dump(FILE *f, const json_t *v, size_t flags)
{
	if (json_dumpf(v, f, flags | JSON_SORT_KEYS) < 0 ||
	    fputc('\n', f) == EOF)
		return -1;
	return fflush(f) == EOF ? -1 : 0;
}

int
out_json(FILE *f, const json_t *v)
{
	return dump(f, v, JSON_INDENT(2));
}

int
out_json_line(FILE *f, const json_t *v)
{
	return dump(f, v, JSON_COMPACT);
}

/* ---- status ------------------------------------------------------------ */

char *
out_counts_text(const json_t *counts)
{
	char text[512];
	size_t used = 0;
	const char *key;
	json_t *v;

	text[0] = '\0';
	for (size_t i = 0; i < NJOB_STATES; i++) {
		const json_t *n = json_object_get(counts, job_states[i]);

		if (json_is_integer(n) && used < sizeof(text))
			used += (size_t)snprintf(
			        text + used, sizeof(text) - used,
			        "%s%" JSON_INTEGER_FORMAT " %s",
			        used ? ", " : "", json_integer_value(n),
			        job_states[i]);
	}
	/* states added after this client was built */
	json_object_foreach((json_t *)counts, key, v)
	{
		bool known = false;
		for (size_t i = 0; i < NJOB_STATES; i++)
			known = known || strcmp(key, job_states[i]) == 0;
		if (!known && json_is_integer(v) && used < sizeof(text))
			used += (size_t)snprintf(
			        text + used, sizeof(text) - used,
			        "%s%" JSON_INTEGER_FORMAT " %s",
			        used ? ", " : "", json_integer_value(v), key);
	}
	return strdup(used ? text : "-");
}

/* The target and each [database NAME]; nothing from a daemon without them. */
static int
databases(FILE *f, const json_t *list)
{
	static const struct table_column cols[] = {{"DATABASE", false},
	                                           {"ENGINE", false},
	                                           {"STATE", false},
	                                           {"ERROR", false}};
	static const char *const keys[] = {"name", "engine", "state", "error"};
	struct table t;
	size_t i;
	const json_t *db;

	if (json_array_size(list) == 0)
		return 0;
	fputc('\n', f);
	table_init(&t, cols, 4);
	json_array_foreach(list, i, db) for (size_t k = 0; k < 4; k++)
	        table_field(&t, db, keys[k]);
	return table_done(&t, f);
}

static void throttle_lines(struct table *t, const json_t *th, bool all);

int
out_status(FILE *f, const json_t *status)
{
	struct table t;
	char uptime[64];
	const char *db = value_str(status, "database");
	const char *db_error = value_str(status, "database_error");
	const json_t *rate = value_get(status, "rows_per_sec");

	table_duration(uptime, sizeof(uptime),
	               (double)value_int(status, "uptime_sec", 0));
	table_init(&t, table_summary, 2);
	table_summary_field(&t, "Version", status, "version");
	table_summary_field(&t, "PID", status, "pid");
	table_cell(&t, "Uptime:");
	table_cell(&t, "%s", uptime);
	table_cell(&t, "Database:");
	table_cell(&t, "%s%s%s", db != NULL ? db : "-",
	           db_error != NULL ? ": " : "",
	           db_error != NULL ? db_error : "");
	table_cell(&t, "Workers:");
	table_cell(&t, "%lld of %lld busy",
	           value_int(status, "workers_busy", 0),
	           value_int(status, "workers", 0));
	table_summary_field(&t, "Plans", status, "plans");
	table_cell(&t, "Jobs:");
	table_put(&t, out_counts_text(value_get(status, "jobs")));
	table_summary_field(&t, "Rows done", status, "rows_done");
	table_cell(&t, "Rate:");
	table_cell(&t, "%.1f rows/s",
	           json_is_number(rate) ? json_number_value(rate) : 0.0);
	throttle_lines(&t, value_get(status, "throttle"), false);
	if (table_done(&t, f) < 0)
		return -1;
	return databases(f, value_get(status, "databases"));
}

/* ---- throttle --------------------------------------------------------- */

/* "Throttled:" lines, one per reason; all: also when nothing throttles. */
static void
throttle_lines(struct table *t, const json_t *th, bool all)
{
	size_t i;
	const json_t *r;
	const char *err = value_str(th, "load_error");
	const json_t *load = value_get(th, "load_value");

	if (th == NULL)
		return;
	if (json_array_size(value_get(th, "reasons")) == 0 && all) {
		table_cell(t, "Throttled:");
		table_cell(t, "no");
	}
	json_array_foreach(value_get(th, "reasons"), i, r)
	{
		const char *until = value_str(r, "until");
		table_cell(t, i == 0 ? "Throttled:" : "");
		table_cell(t, "%s (since %s%s%s)", value_str(r, "reason"),
		           value_str(r, "since"),
		           until != NULL ? ", until " : "",
		           until != NULL ? until : "");
	}
	if (!all)
		return;
	if (json_is_number(load)) {
		table_cell(t, "Load:");
		table_cell(t, "%g", json_number_value(load));
	} else if (err != NULL) {
		table_cell(t, "Load:");
		table_cell(t, "the load query failed: %s", err);
	}
	if (value_int(th, "max_rows_per_second", 0) > 0) {
		table_cell(t, "Rows/s cap:");
		table_cell(t, "%lld", value_int(th, "max_rows_per_second", 0));
	}
}

int
out_throttle(FILE *f, const json_t *throttle)
{
	struct table t;

	table_init(&t, table_summary, 2);
	throttle_lines(&t, throttle, true);
	return table_done(&t, f);
}

/* ---- plans ------------------------------------------------------------- */

int
out_plans(FILE *f, const json_t *plans)
{
	static const struct table_column cols[] = {
	        {"NAME", false}, {"STEPS", true}, {"DESCRIPTION", false}};
	struct table t;
	size_t i;
	const json_t *plan;

	if (json_array_size(plans) == 0) {
		fputs("No plans loaded.\n", f);
		return 0;
	}
	table_init(&t, cols, 3);
	json_array_foreach((json_t *)plans, i, plan)
	{
		const char *desc = value_str(plan, "description");
		size_t line = desc != NULL ? strcspn(desc, "\n") : 0;

		table_field(&t, plan, "name");
		table_cell(&t, "%zu",
		           json_array_size(value_get(plan, "steps")));
		table_cell(&t, "%.*s", (int)line, desc != NULL ? desc : "");
	}
	return table_done(&t, f);
}

/* Some element of array has key, not null. */
static bool
any_has(const json_t *array, const char *key)
{
	size_t i;
	const json_t *v;

	json_array_foreach(array, i, v)
	{
		if (value_get(v, key) != NULL)
			return true;
	}
	return false;
}

/* A row "Label:" obj[key] when the daemon sent key and it says something. */
static void
summary_if(struct table *t, const char *label, const json_t *obj,
           const char *key)
{
	const json_t *v = value_get(obj, key);

	if (v == NULL || json_is_false(v) ||
	    (json_is_array(v) && json_array_size(v) == 0))
		return;
	table_summary_field(t, label, obj, key);
}

int
out_plan(FILE *f, const json_t *plan)
{
	/* optional: shown when a step has it (copy steps: kind, source) */
	static const struct {
		struct table_column col;
		const char *key;
		bool optional;
	} all[] = {{{"STEP", false}, "name", false},
	           {{"KIND", false}, "kind", true},
	           {{"TABLE", false}, "table", false},
	           {{"KEY", false}, "key", false},
	           {{"SOURCE", false}, "source", true},
	           {{"BATCH", true}, "batch", false},
	           {{"AFTER", false}, "after", false}};
	const size_t nall = sizeof(all) / sizeof(all[0]);
	const json_t *steps = value_get(plan, "steps");
	struct table_column cols[sizeof(all) / sizeof(all[0])];
	const char *keys[sizeof(all) / sizeof(all[0])];
	size_t ncols = 0;
	struct table t;
	size_t i;
	const json_t *step;

	table_init(&t, table_summary, 2);
	table_summary_field(&t, "Plan", plan, "name");
	table_summary_field(&t, "Description", plan, "description");
	table_summary_field(&t, "File", plan, "file");
	table_summary_field(&t, "Parameters", plan, "params");
	summary_if(&t, "Submit parameters", plan, "parameters");
	summary_if(&t, "Pair parameter", plan, "pair");
	summary_if(&t, "Tenants from", plan, "source");
	table_summary_field(&t, "Checks", plan, "checks");
	table_summary_field(&t, "Verifies", plan, "verifies");
	summary_if(&t, "Compare", plan, "compare");
	if (table_done(&t, f) < 0)
		return -1;
	if (json_array_size(steps) == 0)
		return 0;
	fputc('\n', f);
	for (size_t c = 0; c < nall; c++) {
		if (all[c].optional && !any_has(steps, all[c].key))
			continue;
		cols[ncols] = all[c].col;
		keys[ncols++] = all[c].key;
	}
	table_init(&t, cols, ncols);
	json_array_foreach(steps, i, step) for (size_t k = 0; k < ncols; k++)
	        table_field(&t, step, keys[k]);
	return table_done(&t, f);
}

/* ---- jobs -------------------------------------------------------------- */

static bool
is_dry_run(const json_t *job)
{
	return json_is_true(json_object_get(job, "dry_run"));
}

/* "migrate", "migrate, dry run", "rollback": what kind of job it is. */
static char *
kind_text(const json_t *job)
{
	const char *kind = value_str(job, "kind");
	char *text;

	if (asprintf(&text, "%s%s", kind != NULL ? kind : "-",
	             is_dry_run(job) ? ", dry run" : "") < 0)
		return NULL;
	return text;
}

/* Not a plain migration: a dry run or a rollback job. */
static bool
is_unusual(const json_t *job)
{
	const char *kind = value_str(job, "kind");

	return is_dry_run(job) ||
	       (kind != NULL && strcmp(kind, "migrate") != 0);
}

static bool
any_job(const json_t *jobs, bool (*test)(const json_t *job))
{
	size_t i;
	const json_t *job;

	json_array_foreach(jobs, i, job)
	{
		if (test(job))
			return true;
	}
	return false;
}

/*
 * One row per job. A column KIND when a job is not a plain migration, and
 * CHANGED when one is a dry run.
 */
int
out_jobs(FILE *f, const json_t *jobs)
{
	enum shown { ALWAYS, IF_KIND, IF_CHANGED };
	static const struct {
		struct table_column col;
		enum shown shown;
	} all[] = {
	        {{"ID", true}, ALWAYS},          {{"PLAN", false}, ALWAYS},
	        {{"TENANT", false}, ALWAYS},     {{"STATE", false}, ALWAYS},
	        {{"KIND", false}, IF_KIND},      {{"PRIORITY", true}, ALWAYS},
	        {{"ROWS", true}, ALWAYS},        {{"DONE", true}, ALWAYS},
	        {{"CHANGED", true}, IF_CHANGED}, {{"CREATED", false}, ALWAYS}};
	struct table_column cols[sizeof(all) / sizeof(all[0])];
	bool kind = any_job(jobs, is_unusual);
	bool changed = any_job(jobs, is_dry_run);
	size_t ncols = 0;
	struct table t;
	size_t i;
	const json_t *job;

	if (json_array_size(jobs) == 0) {
		fputs("No jobs.\n", f);
		return 0;
	}
	for (size_t c = 0; c < sizeof(all) / sizeof(all[0]); c++)
		if (all[c].shown == ALWAYS ||
		    (all[c].shown == IF_KIND && kind) ||
		    (all[c].shown == IF_CHANGED && changed))
			cols[ncols++] = all[c].col;
	table_init(&t, cols, ncols);
	json_array_foreach(jobs, i, job)
	{
		table_field(&t, job, "id");
		table_field(&t, job, "plan");
		table_put(&t, progress_tenant_text(job));
		table_field(&t, job, "state");
		if (kind)
			table_put(&t, kind_text(job));
		table_field(&t, job, "priority");
		table_put(&t, progress_rows_text(job));
		table_put(&t, progress_percent_text(job));
		if (changed)
			table_field(&t, job, "rows_changed");
		table_field(&t, job, "created");
	}
	return table_done(&t, f);
}

/* "tumi:acme.example": the job's tenant and its pair, as --pair took them. */
static char *
pair_text(const json_t *job)
{
	char *old = value_field(job, "tenant");
	char *new = value_field(job, "pair");
	char *text = NULL;

	if (old == NULL || new == NULL ||
	    asprintf(&text, "%s:%s", old, new) < 0)
		text = NULL;
	free(old);
	free(new);
	return text;
}

/* The batch size in effect: the running step's (adaptive, or as set),
 * else the one asked for, else whose default it is; never "0". */
static void
batch_size_line(struct table *t, const json_t *job)
{
	size_t i;
	const json_t *step;
	long long asked = value_int(job, "batch_size", 0);

	table_cell(t, "Batch size:");
	json_array_foreach(value_get(job, "steps"), i, step)
	{
		const char *state = value_str(step, "state");
		if (state != NULL && strcmp(state, "running") == 0 &&
		    value_int(step, "batch_size", 0) > 0) {
			table_cell(t, "%lld (step %s, in effect)",
			           value_int(step, "batch_size", 0),
			           value_str(step, "name"));
			return;
		}
	}
	if (asked > 0)
		table_cell(t, "%lld", asked);
	else
		table_cell(t, "the plan's or the daemon's");
}

/* The summary of out_job: what the job is and how far it got. */
/*
 * The batch size in effect: the step running (or next to run, or the last
 * one) as ShowJob says, and whether it was asked at submit.
 */
static char *
batch_text(const json_t *job)
{
	const json_t *steps = value_get(job, "steps");
	const json_t *step = NULL;
	size_t i;
	const json_t *s;
	long long asked = value_int(job, "batch_size", 0);
	char *text;

	json_array_foreach((json_t *)steps, i, s)
	{
		step = s;
		if (strcmp(value_str(s, "state") != NULL ? value_str(s, "state")
		                                         : "",
		           "done") != 0)
			break;
	}
	if (asked > 0)
		return asprintf(&text, "%lld (asked at submit)", asked) < 0
		               ? NULL
		               : text;
	if (step == NULL || value_get(step, "batch_size") == NULL)
		return strdup("the plan's or the daemon's");
	return asprintf(&text, "%lld", value_int(step, "batch_size", 0)) < 0
	               ? NULL
	               : text;
}

static void
job_summary(struct table *t, const json_t *job)
{
	bool dry_run = is_dry_run(job);

	table_summary_field(t, "Job", job, "id");
	table_summary_field(t, "Plan", job, "plan");
	table_summary_field(t, "Tenant", job, "tenant");
	if (value_get(job, "pair") != NULL) {
		/* as --pair OLD:NEW gave it; the tenant is OLD */
		table_cell(t, "Pair:");
		table_put(t, pair_text(job));
	}
	table_summary_field(t, "State", job, "state");
	if (value_get(job, "error") != NULL)
		table_summary_field(t, "Error", job, "error");
	table_summary_field(t, "Kind", job, "kind");
	if (value_get(job, "rollback_of") != NULL) {
		table_cell(t, "Rollback of:");
		table_cell(t, "job %lld", value_int(job, "rollback_of", 0));
	}
	table_cell(t, "Dry run:");
	table_cell(t, "%s",
	           dry_run ? "yes, every batch was rolled back" : "no");
	if (json_is_true(json_object_get(job, "fresh"))) {
		table_cell(t, "Fresh:");
		table_cell(t, "yes, each step's clear ran first");
	}
	table_cell(t, "Checks:");
	table_cell(t, "%s",
	           json_is_true(json_object_get(job, "skip_checks")) ? "skipped"
	                                                             : "run");
	if (json_object_size(value_get(job, "parameters")) > 0) {
		table_cell(t, "Parameters:");
		table_put(t, value_assignments(value_get(job, "parameters"),
		                               ", ", NULL, value_text));
	}
	table_summary_field(t, "Warnings", job, "warnings");
	table_summary_field(t, "Priority", job, "priority");
	batch_size_line(t, job);
	if (value_str(job, "waiting") != NULL) {
		table_cell(t, "Waiting:");
		table_cell(t, "%s (since %s)", value_str(job, "waiting"),
		           value_str(job, "waiting_since") != NULL
		                   ? value_str(job, "waiting_since")
		                   : "?");
	}
	if (value_get(job, "throttled_sec") != NULL) {
		const json_t *ts = value_get(job, "throttled_sec");
		table_cell(t, "Throttled:");
		table_cell(t, "%.1f s",
		           json_is_number(ts) ? json_number_value(ts) : 0.0);
	}
	if (value_int(job, "max_rows_per_second", 0) > 0)
		table_summary_field(t, "Rows/s cap", job,
		                    "max_rows_per_second");
	table_cell(t, "Batch size:");
	table_put(t, batch_text(job));
	table_cell(t, "Rows:");
	table_put(t, progress_rows_text(job));
	table_cell(t, "Done:");
	table_put(t, progress_percent_text(job));
	table_summary_field(t, dry_run ? "Would change" : "Rows changed", job,
	                    "rows_changed");
	/* rejects = keep: rows kept in migrated.rejects (migratectl rejects) */
	if (value_int(job, "rows_rejected", 0) > 0)
		table_summary_field(t, "Rows rejected", job, "rows_rejected");
	table_summary_field(t, "Created", job, "created");
	table_summary_field(t, "Started", job, "started");
	table_summary_field(t, "Finished", job, "finished");
}

int
out_job(FILE *f, const json_t *job)
{
	static const struct table_column cols[] = {
	        {"STEP", false},     {"STATE", false},     {"ROWS", true},
	        {"ESTIMATED", true}, {"CHANGED", true},    {"BATCHES", true},
	        {"BATCH", true},     {"CHECKPOINT", false}};
	static const char *const keys[] = {
	        "name",         "state",   "rows_done",  "rows_estimated",
	        "rows_changed", "batches", "batch_size", "checkpoint"};
	const size_t ncols = sizeof(cols) / sizeof(cols[0]);
	struct table t;
	size_t i;
	const json_t *step;

	table_init(&t, table_summary, 2);
	job_summary(&t, job);
	if (table_done(&t, f) < 0)
		return -1;
	if (json_array_size(value_get(job, "steps")) == 0)
		return 0;
	fputc('\n', f);
	table_init(&t, cols, ncols);
	json_array_foreach(value_get(job, "steps"), i,
	                   step) for (size_t k = 0; k < ncols; k++)
	        table_field(&t, step, keys[k]);
	return table_done(&t, f);
}

void
out_job_ids(FILE *f, const char *verb, const json_t *ids)
{
	size_t n = json_array_size(ids);
	size_t i;
	const json_t *id;

	if (n == 0) {
		fprintf(f, "No job %s.\n", verb);
		return;
	}
	fprintf(f, "%c%s %zu job%s: ", toupper((unsigned char)verb[0]),
	        verb + 1, n, n == 1 ? "" : "s");
	json_array_foreach(ids, i, id)
	        fprintf(f, "%s%" JSON_INTEGER_FORMAT, i ? ", " : "",
	                json_integer_value(id));
	fputs(".\n", f);
}

int
out_dry_run(FILE *f, const json_t *jobs)
{
	static const struct table_column cols[] = {{"JOB", true},
	                                           {"TENANT", false},
	                                           {"STEP", false},
	                                           {"ROWS", true},
	                                           {"WOULD CHANGE", true}};
	struct table t;
	size_t i, k;
	const json_t *job, *step;

	if (!any_job(jobs, is_dry_run))
		return 0;
	fputs("Dry run, nothing was changed. Rows each step would change:\n",
	      f);
	table_init(&t, cols, 5);
	json_array_foreach(jobs, i, job)
	{
		if (!is_dry_run(job))
			continue;
		json_array_foreach(value_get(job, "steps"), k, step)
		{
			table_field(&t, job, "id");
			table_field(&t, job, "tenant");
			table_field(&t, step, "name");
			table_field(&t, step, "rows_done");
			table_field(&t, step, "rows_changed");
		}
	}
	return table_done(&t, f);
}
