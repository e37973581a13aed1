#include "backups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "dbcall.h"
#include "log.h"
#include "params.h"
#include "vl_names.h"

static const char list_sql[] =
        "SELECT coalesce(json_agg(json_build_object("
        "  'job', job_id, 'plan', plan, 'tenant', tenant, 'step', step,"
        "  'rows', rows, 'bytes', bytes,"
        "  'oldest', to_char(oldest AT TIME ZONE 'UTC',"
        "   'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        "  'age_sec', extract(epoch FROM now() - oldest)::bigint)"
        "  ORDER BY job_id, step), '[]')"
        " FROM migrated.backup_info"
        " WHERE ($1::bigint IS NULL OR job_id = $1)"
        " AND ($2::text IS NULL OR plan = $2)"
        " AND ($3::text IS NULL OR tenant = $3)";

static void
list_done(struct dbcall *call, const PGresult *res)
{
	control_reply(call->req, json_pack("{s:o}", "backups",
	                                   dbcall_json_cell(res, 0, 0)));
}

struct list_args {
	long long job;
	const char *plan, *tenant;
};

static const struct vl_field list_fields[] = {
        PARAMS_FIELD_ID("job", 0, struct list_args, job),
        VL_FIELD_STRING("plan", 0, struct list_args, plan, 0, 0),
        VL_FIELD_STRING("tenant", 0, struct list_args, tenant, 0, 0),
        VL_FIELDS_END,
};
const struct vl_params backups_list_params =
        VL_PARAMS(struct list_args, list_fields);

void
backups_list(struct control_req *req, struct daemon *d, const void *args)
{
	const struct list_args *a = args;
	char job_s[24];
	const char *values[3];

	snprintf(job_s, sizeof(job_s), "%lld", a->job);
	values[0] = a->job > 0 ? job_s : NULL;
	values[1] = a->plan;
	values[2] = a->tenant;
	dbcall(req, d, list_sql, 3, values, list_done, NULL);
}

/*
 * Backups still in use are kept: those of an unfinished job (its later
 * batches add more, and a rollback must find them all) and those an
 * unfinished rollback job restores (it would stop short and still mark
 * the job rolled back). Naming such a job is an error; older_than_days
 * skips them.
 */
static const char drop_sql[] =
        "WITH busy AS ("
        "  SELECT id AS job, id, state FROM migrated.jobs"
        "  WHERE state IN ('queued', 'running', 'paused')"
        "  UNION ALL SELECT rollback_of, id, state FROM migrated.jobs"
        "  WHERE state IN ('queued', 'running', 'paused')"
        "  AND rollback_of IS NOT NULL),"
        " bad AS (SELECT id, state FROM busy WHERE $1::json IS NOT NULL"
        "  AND job IN (SELECT x::bigint"
        "   FROM json_array_elements_text($1::json) x)"
        "  ORDER BY id LIMIT 1),"
        " gone AS (DELETE FROM migrated.backups b"
        " WHERE NOT EXISTS (SELECT 1 FROM bad)"
        " AND b.job_id NOT IN (SELECT job FROM busy)"
        " AND ($1::json IS NULL OR b.job_id IN"
        "  (SELECT x::bigint FROM json_array_elements_text($1::json) x))"
        " AND ($2::integer IS NULL OR b.job_id IN (SELECT job_id"
        "  FROM migrated.backup_info"
        "  WHERE oldest < now() - make_interval(days => $2::integer)))"
        " RETURNING cardinality(b.rows) AS n)"
        "SELECT coalesce(sum(n), 0), (SELECT id FROM bad),"
        " (SELECT state FROM bad) FROM gone";

static void
drop_done(struct dbcall *call, const PGresult *res)
{
	if (!PQgetisnull(res, 0, 1)) {
		/* the unfinished job that still needs these backups */
		control_error(
		        call->req, VL_ERROR_INVALID_JOB_STATE,
		        json_pack("{s:I, s:s}", "id",
		                  (json_int_t)atoll(PQgetvalue(res, 0, 1)),
		                  "state", PQgetvalue(res, 0, 2)));
		return;
	}
	log_info("dropped %s backup row(s)", PQgetvalue(res, 0, 0));
	control_reply(call->req,
	              json_pack("{s:I}", "dropped",
	                        (json_int_t)atoll(PQgetvalue(res, 0, 0))));
}

struct drop_args {
	json_t *jobs;
	long long older_than_days;
};

static const struct vl_field drop_fields[] = {
        VL_FIELD_INTS("jobs", 0, struct drop_args, jobs, 1, INT64_MAX),
        /* -1: not given */
        VL_FIELD_INT("older_than_days", 0, struct drop_args, older_than_days, 0,
                     100000, -1),
        VL_FIELDS_END,
};
const struct vl_params backups_drop_params =
        VL_PARAMS(struct drop_args, drop_fields);

void
backups_drop(struct control_req *req, struct daemon *d, const void *args)
{
	const struct drop_args *a = args;
	json_t *jobs = a->jobs;
	long long days = a->older_than_days;
	char days_s[24];
	char *jobs_s = NULL;
	const char *values[2];

	/* never everything by accident: say which jobs or how old */
	if ((jobs == NULL || json_array_size(jobs) == 0) && days < 0) {
		control_invalid_param(req, "jobs");
		return;
	}
	if (jobs != NULL)
		jobs_s = json_dumps(jobs, JSON_COMPACT);
	snprintf(days_s, sizeof(days_s), "%lld", days);
	values[0] = jobs_s;
	values[1] = days >= 0 ? days_s : NULL;
	dbcall(req, d, drop_sql, 2, values, drop_done, NULL);
	free(jobs_s);
}
