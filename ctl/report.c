#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "value.h"

/* Longest parameters shown in a row of the audit log. */
#define LOG_PARAMS_WIDTH 50

/* ---- checks: Validate and Verify --------------------------------------- */

/* The result of one check: "ok", "FAILED", or "warning" when it may fail. */
static const char *
check_result(const json_t *check)
{
	const char *severity = value_str(check, "severity");

	if (json_is_true(json_object_get(check, "ok")))
		return "ok";
	if (severity != NULL && strcmp(severity, "warning") == 0)
		return "warning";
	return "FAILED";
}

/* A row per check; indent: under its tenant. */
static void
check_rows(struct table *t, const json_t *checks, const char *indent)
{
	size_t i;
	const json_t *check;

	json_array_foreach(checks, i, check)
	{
		const char *name = value_str(check, "name");

		table_cell(t, "%s%s", indent, name != NULL ? name : "-");
		table_cell(t, "%s", check_result(check));
		table_field(t, check, "severity");
		/* null: the query gave NULL or no row */
		if (value_get(check, "found") == NULL)
			table_cell(t, "NULL");
		else
			table_field(t, check, "found");
		table_field(t, check, "expected");
	}
}

#define NCHECK_COLS 5

/* A row "TENANT  OK" and its checks below it, or why they could not run. */
static void
tenant_rows(struct table *t, const json_t *result)
{
	const char *error = value_str(result, "error");
	char *line;

	table_field(t, result, "tenant");
	table_cell(t, "%s",
	           json_is_true(json_object_get(result, "ok")) ? "OK"
	                                                       : "FAILED");
	for (size_t c = 2; c < NCHECK_COLS; c++)
		table_cell(t, "%s", "");
	check_rows(t, value_get(result, "checks"), "  ");
	if (error == NULL)
		return;
	if (asprintf(&line, "  the checks could not run: %s", error) < 0)
		line = NULL;
	table_line(t, line);
}

int
report_validation(FILE *f, const json_t *results)
{
	static const struct table_column cols[NCHECK_COLS] = {
	        {"TENANT/CHECK", false},
	        {"RESULT", false},
	        {"SEVERITY", false},
	        {"FOUND", false},
	        {"EXPECTED", false}};
	size_t failed = 0;
	struct table t;
	size_t i;
	const json_t *result;

	if (json_array_size(results) == 0) {
		fputs("No tenants to check.\n", f);
		return 0;
	}
	table_init(&t, cols, NCHECK_COLS);
	json_array_foreach(results, i, result)
	{
		tenant_rows(&t, result);
		failed += !json_is_true(json_object_get(result, "ok"));
	}
	if (table_done(&t, f) < 0)
		return -1;
	fprintf(f, "%zu tenant%s checked, ", json_array_size(results),
	        json_array_size(results) == 1 ? "" : "s");
	if (failed == 0)
		fputs("none failed.\n", f);
	else
		fprintf(f, "%zu FAILED.\n", failed);
	return 0;
}

/* Longest list of differing keys shown in a row of the comparison. */
#define DIFFERING_WIDTH 60

/*
 * Verify --compare: a row per copy step, with the first keys that differ.
 * Nothing when the reply has no comparison (it was not asked for).
 */
static int
compare_rows(FILE *f, const json_t *compare)
{
	static const struct table_column cols[] = {{"STEP", false},
	                                           {"SOURCE ROWS", true},
	                                           {"TARGET ROWS", true},
	                                           {"MATCH", false},
	                                           {"DIFFERING KEYS", false}};
	struct table t;
	size_t i;
	const json_t *step;

	if (compare == NULL)
		return 0;
	fputc('\n', f);
	if (json_array_size(compare) == 0) {
		fputs("The plan has no copy steps to compare.\n", f);
		return 0;
	}
	table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	json_array_foreach(compare, i, step)
	{
		bool ok = json_is_true(json_object_get(step, "ok"));
		char *keys = value_field(step, "differing");

		table_field(&t, step, "step");
		table_field(&t, step, "source_rows");
		table_field(&t, step, "target_rows");
		table_cell(&t, "%s", ok ? "yes" : "no");
		if (ok || keys == NULL)
			table_cell(&t, "%s", "");
		else
			table_put(&t, table_shorten(keys, DIFFERING_WIDTH));
		free(keys);
	}
	return table_done(&t, f);
}

int
report_verification(FILE *f, const json_t *reply)
{
	static const struct table_column cols[NCHECK_COLS] = {
	        {"CHECK", false},
	        {"RESULT", false},
	        {"SEVERITY", false},
	        {"FOUND", false},
	        {"EXPECTED", false}};
	char *plan = value_field(reply, "plan");
	char *tenant = value_field(reply, "tenant");
	struct table t;

	if (plan == NULL || tenant == NULL) {
		free(plan);
		free(tenant);
		return -1;
	}
	table_sanitize(plan);
	table_sanitize(tenant);
	fprintf(f, "Job %lld (plan %s, tenant %s): %s\n",
	        value_int(reply, "job", 0), plan, tenant,
	        json_is_true(json_object_get(reply, "ok")) ? "OK" : "FAILED");
	free(plan);
	free(tenant);
	if (json_array_size(value_get(reply, "checks")) == 0) {
		fputs("The plan has no [verify] sections.\n", f);
	} else {
		table_init(&t, cols, NCHECK_COLS);
		check_rows(&t, value_get(reply, "checks"), "");
		if (table_done(&t, f) < 0)
			return -1;
	}
	return compare_rows(f, value_get(reply, "compare"));
}

/* ---- plan-wide: VerifyPlan and RollbackPlan ---------------------------- */

/* "TENANT[:PAIR] (job N)" for the first column; sanitized. */
static char *
job_label(const json_t *entry)
{
	char *tenant = value_field(entry, "tenant");
	const char *pair = value_str(entry, "pair");
	char *label;

	if (tenant == NULL)
		return NULL;
	if (asprintf(&label, "%s%s%s (job %lld)", tenant,
	             pair != NULL ? ":" : "", pair != NULL ? pair : "",
	             value_int(entry, "job", 0)) < 0)
		label = NULL;
	free(tenant);
	if (label != NULL)
		table_sanitize(label);
	return label;
}

int
report_plan_verification(FILE *f, const json_t *reply)
{
	static const struct table_column cols[NCHECK_COLS] = {
	        {"TENANT/CHECK", false},
	        {"RESULT", false},
	        {"SEVERITY", false},
	        {"FOUND", false},
	        {"EXPECTED", false}};
	const json_t *results = value_get(reply, "results");
	size_t failed = 0;
	struct table t;
	size_t i, j;
	const json_t *result, *step;

	if (json_array_size(results) == 0) {
		fputs("No finished jobs to verify.\n", f);
		return 0;
	}
	table_init(&t, cols, NCHECK_COLS);
	json_array_foreach(results, i, result)
	{
		const char *error = value_str(result, "error");
		char *line;
		bool ok = json_is_true(json_object_get(result, "ok"));

		table_put(&t, job_label(result));
		table_cell(&t, "%s", ok ? "OK" : "FAILED");
		for (size_t c = 2; c < NCHECK_COLS; c++)
			table_cell(&t, "%s", "");
		check_rows(&t, value_get(result, "checks"), "  ");
		json_array_foreach(value_get(result, "compare"), j, step)
		{
			table_cell(&t, "  compare %s",
			           value_str(step, "step") != NULL
			                   ? value_str(step, "step")
			                   : "-");
			table_cell(&t, "%s",
			           json_is_true(json_object_get(step, "ok"))
			                   ? "ok"
			                   : "FAILED");
			table_cell(&t, "%s", "error");
			table_cell(&t, "%lld rows",
			           value_int(step, "target_rows", 0));
			table_cell(&t, "%lld rows",
			           value_int(step, "source_rows", 0));
		}
		failed += !ok;
		if (error == NULL)
			continue;
		if (asprintf(&line, "  could not verify: %s", error) < 0)
			line = NULL;
		table_line(&t, line);
	}
	if (table_done(&t, f) < 0)
		return -1;
	fprintf(f, "%zu job%s verified, ", json_array_size(results),
	        json_array_size(results) == 1 ? "" : "s");
	if (failed == 0)
		fputs("none failed.\n", f);
	else
		fprintf(f, "%zu FAILED.\n", failed);
	return 0;
}

int
report_plan_rollback(FILE *f, const json_t *reply)
{
	static const struct table_column cols[] = {
	        {"JOB", false}, {"ROLLBACK", true}, {"NOTE", false}};
	const json_t *stopped = value_get(reply, "stopped");
	const json_t *jobs = value_get(reply, "jobs");
	size_t i, queued = 0;
	const json_t *v;
	struct table t;

	if (json_array_size(stopped) > 0) {
		fprintf(f, "Stopped %zu job%s:", json_array_size(stopped),
		        json_array_size(stopped) == 1 ? "" : "s");
		json_array_foreach(stopped, i, v)
		{
			fprintf(f, " %lld", (long long)json_integer_value(v));
		}
		fputc('\n', f);
	}
	if (json_array_size(jobs) == 0) {
		fputs("No finished job with backups to roll back.\n", f);
		return 0;
	}
	table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	json_array_foreach(jobs, i, v)
	{
		bool q = value_get(v, "rollback") != NULL;

		table_put(&t, job_label(v));
		if (q)
			table_field(&t, v, "rollback");
		else
			table_cell(&t, "%s", "-");
		if (q)
			table_cell(&t, "%s", "queued");
		else
			table_field(&t, v, "reason");
		queued += q;
	}
	if (table_done(&t, f) < 0)
		return -1;
	fprintf(f, "%zu rollback%s queued, %zu job%s skipped.\n", queued,
	        queued == 1 ? "" : "s", json_array_size(jobs) - queued,
	        json_array_size(jobs) - queued == 1 ? "" : "s");
	return 0;
}

/* ---- rollback ---------------------------------------------------------- */

void
report_rollback_queued(FILE *f, long long job, const json_t *target)
{
	char *plan = value_field(target, "plan");
	char *tenant = value_field(target, "tenant");

	if (plan != NULL && tenant != NULL && value_get(target, "id") == NULL) {
		table_sanitize(plan);
		table_sanitize(tenant);
		fprintf(f,
		        "Rollback of the latest job of plan %s for tenant %s "
		        "queued as job %lld.\n",
		        plan, tenant, job);
	} else {
		fprintf(f, "Rollback of job %lld queued as job %lld.\n",
		        value_int(target, "id", 0), job);
	}
	free(plan);
	free(tenant);
}

/* ---- backups ----------------------------------------------------------- */

int
report_backups(FILE *f, const json_t *backups)
{
	static const struct table_column cols[] = {
	        {"JOB", true},   {"PLAN", false}, {"TENANT", false},
	        {"STEP", false}, {"ROWS", true},  {"SIZE", true},
	        {"AGE", true}};
	struct table t;
	size_t i;
	const json_t *b;

	if (json_array_size(backups) == 0) {
		fputs("No backups.\n", f);
		return 0;
	}
	table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	json_array_foreach(backups, i, b)
	{
		char size[32], age[32];

		table_size(size, sizeof(size), value_int(b, "bytes", 0));
		table_duration(age, sizeof(age),
		               (double)value_int(b, "age_sec", 0));
		table_field(&t, b, "job");
		table_field(&t, b, "plan");
		table_field(&t, b, "tenant");
		table_field(&t, b, "step");
		table_field(&t, b, "rows");
		table_cell(&t, "%s", size);
		table_cell(&t, "%s", age);
	}
	return table_done(&t, f);
}

int
report_dropped(FILE *f, const json_t *rows)
{
	json_int_t n = json_integer_value(rows);

	fprintf(f, "Dropped %" JSON_INTEGER_FORMAT " backup row%s.\n", n,
	        n == 1 ? "" : "s");
	return 0;
}

/* ---- audit log --------------------------------------------------------- */

/* Who did it: the user name, else the uid; "daemon" for job changes. */
static char *
who_text(const json_t *entry)
{
	const char *user = value_str(entry, "user");
	char *text;

	if (user != NULL)
		return strdup(user);
	if (value_get(entry, "uid") == NULL)
		return strdup("daemon");
	if (asprintf(&text, "uid %lld", value_int(entry, "uid", -1)) < 0)
		return NULL;
	return text;
}

/* The action without the interface: "Submit", "job running". */
static char *
action_text(const json_t *entry)
{
	static const char iface[] = "io.migrated.";
	const char *action = value_str(entry, "action");

	if (action == NULL)
		return strdup("-");
	if (strncmp(action, iface, sizeof(iface) - 1) == 0)
		action += sizeof(iface) - 1;
	return strdup(action);
}

/* A parameter value in a line: strings bare, arrays "a,b", true/false. */
static char *
param_text(const json_t *v)
{
	char *joined;
	size_t i;
	const json_t *item;

	switch (json_typeof(v)) {
	case JSON_TRUE:
		return strdup("true");
	case JSON_FALSE:
		return strdup("false");
	case JSON_ARRAY:
		joined = strdup("");
		json_array_foreach(v, i, item)
		{
			char *part = param_text(item);
			char *next = NULL;

			if (joined == NULL || part == NULL ||
			    asprintf(&next, "%s%s%s", joined, i ? "," : "",
			             part) < 0)
				next = NULL;
			free(part);
			free(joined);
			joined = next;
		}
		return joined;
	default:
		return value_text(v);
	}
}

/* What a call or a change was about comes first; then the rest by name. */
static int
key_rank(const char *key)
{
	static const char *const first[] = {"plan", "tenant", "tenants",
	                                    "id",   "ids",    "jobs"};
	size_t n = sizeof(first) / sizeof(first[0]);

	for (size_t i = 0; i < n; i++)
		if (strcmp(key, first[i]) == 0)
			return (int)i;
	return (int)n;
}

static int
compare_keys(const void *a, const void *b)
{
	const char *ka = *(const char *const *)a;
	const char *kb = *(const char *const *)b;
	int ra = key_rank(ka), rb = key_rank(kb);

	return ra != rb ? ra - rb : strcmp(ka, kb);
}

/*
 * "plan=tenant-to-org tenants=acme,globex": the parameters that have a
 * value, cut to LOG_PARAMS_WIDTH columns.
 */
static char *
params_text(const json_t *params)
{
	char *line = value_assignments(params, " ", compare_keys, param_text);
	char *text;

	if (line == NULL)
		return NULL;
	table_sanitize(line);
	text = table_shorten(line[0] != '\0' ? line : "-", LOG_PARAMS_WIDTH);
	free(line);
	return text;
}

int
report_log(FILE *f, const json_t *entries)
{
	static const struct table_column cols[] = {
	        {"ID", true},      {"TIME", false}, {"WHO", false},
	        {"ACTION", false}, {"JOB", true},   {"PARAMETERS", false},
	        {"RESULT", false}};
	struct table t;
	size_t i;
	const json_t *e;

	if (json_array_size(entries) == 0) {
		fputs("No entries.\n", f);
		return 0;
	}
	table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	json_array_foreach(entries, i, e)
	{
		table_field(&t, e, "id");
		table_field(&t, e, "at");
		table_put(&t, who_text(e));
		table_put(&t, action_text(e));
		table_field(&t, e, "job");
		table_put(&t, params_text(value_get(e, "parameters")));
		table_field(&t, e, "result");
	}
	return table_done(&t, f);
}
