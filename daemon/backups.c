#include "backups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "dbcall.h"
#include "params.h"
#include "log.h"
#include "scheduler.h"
#include "vl_names.h"

/*
 * One statement: find the job (by id, or the latest migrate job of plan and
 * tenant), check it can be rolled back, and queue the rollback job with
 * the steps that have backups, in reverse order.
 */
static const char rollback_sql[] =
        "WITH o AS ("
        "  SELECT * FROM migrated.jobs"
        "  WHERE ($1::bigint IS NOT NULL AND id = $1)"
        "   OR ($1::bigint IS NULL AND plan = $2 AND tenant = $3"
        "       AND kind = 'migrate' AND NOT dry_run)"
        "  ORDER BY id DESC LIMIT 1),"
        " b AS (SELECT DISTINCT step FROM migrated.backups"
        "  WHERE job_id = (SELECT id FROM o)),"
        " busy AS (SELECT a.id FROM migrated.jobs a, o"
        "  WHERE a.plan = o.plan AND a.tenant = o.tenant AND a.id <> o.id"
        "  AND a.state IN ('queued', 'running', 'paused') LIMIT 1),"
        " ok AS (SELECT o.* FROM o WHERE o.kind = 'migrate' AND NOT o.dry_run"
        "  AND o.state IN ('succeeded', 'failed', 'cancelled')"
        "  AND EXISTS (SELECT 1 FROM b) AND NOT EXISTS (SELECT 1 FROM busy)),"
        " ins AS ("
        "  INSERT INTO migrated.jobs (plan, tenant, kind, rollback_of, priority,"
        "   params)"
        "  SELECT plan, tenant, 'rollback', id, $4::integer, params FROM ok"
        "  RETURNING id),"
        " st AS ("
        "  INSERT INTO migrated.job_steps (job_id, step, ord)"
        "  SELECT ins.id, s.step, -s.ord FROM ins, migrated.job_steps s"
        "  WHERE s.job_id = (SELECT id FROM ok)"
        "   AND s.step IN (SELECT step FROM b))"
        "SELECT (SELECT id FROM o), (SELECT state FROM o), (SELECT kind FROM o),"
        " (SELECT dry_run FROM o), (SELECT count(*) FROM b), (SELECT id FROM ins),"
        " (SELECT id FROM busy), (SELECT plan FROM o), (SELECT tenant FROM o)";

static void
rollback_done(struct dbcall *call, const PGresult *res)
{
	const char *state = PQgetvalue(res, 0, 1);
	json_int_t id = atoll(PQgetvalue(res, 0, 0));
	const char *why = NULL;

	if (PQgetisnull(res, 0, 0)) {
		control_error(call->req, VL_ERROR_NO_SUCH_JOB,
		              json_pack("{s:I}", "id",
		                        json_integer_value(json_object_get(
		                                call->ctx, "id"))));
		return;
	}
	if (!PQgetisnull(res, 0, 5)) {
		json_int_t job = atoll(PQgetvalue(res, 0, 5));
		log_info("queued rollback job %lld of job %lld", (long long)job,
		         (long long)id);
		scheduler_kick(call->d->sched);
		control_reply(call->req, json_pack("{s:I}", "job", job));
		return;
	}
	if (!PQgetisnull(res, 0, 6)) {
		/* one unfinished job per plan and tenant, rollbacks included */
		control_error(
		        call->req, VL_ERROR_JOB_EXISTS,
		        json_pack("{s:s, s:s, s:I}", "plan",
		                  PQgetvalue(res, 0, 7), "tenant",
		                  PQgetvalue(res, 0, 8), "id",
		                  (json_int_t)atoll(PQgetvalue(res, 0, 6))));
		return;
	}
	if (strcmp(state, VL_JOB_STATE_QUEUED) == 0 ||
	    strcmp(state, VL_JOB_STATE_RUNNING) == 0 ||
	    strcmp(state, VL_JOB_STATE_PAUSED) == 0 ||
	    strcmp(state, VL_JOB_STATE_ROLLED_BACK) == 0) {
		control_error(
		        call->req, VL_ERROR_INVALID_JOB_STATE,
		        json_pack("{s:I, s:s}", "id", id, "state", state));
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 2), "rollback") == 0)
		why = "it is a rollback job itself";
	else if (strcmp(PQgetvalue(res, 0, 3), "t") == 0)
		why = "it was a dry run and changed nothing";
	else
		why = "it has no backups: none of its steps ran with backup = yes, "
		      "or they were dropped";
	control_error(call->req, VL_ERROR_NO_BACKUP,
	              json_pack("{s:I, s:s}", "id", id, "reason", why));
}

struct rollback_args {
	long long id;
	const char *plan, *tenant;
	long long priority;
};

static const struct vl_field rollback_fields[] = {
        PARAMS_FIELD_ID("id", 0, struct rollback_args, id),
        VL_FIELD_STRING("plan", 0, struct rollback_args, plan, 0, 0),
        VL_FIELD_STRING("tenant", 0, struct rollback_args, tenant, 0, 0),
        PARAMS_FIELD_PRIORITY(struct rollback_args, priority),
        VL_FIELDS_END,
};
const struct vl_params backups_rollback_params =
        VL_PARAMS(struct rollback_args, rollback_fields);

void
backups_rollback(struct control_req *req, struct daemon *d, const void *args)
{
	const struct rollback_args *a = args;
	const char *bad = NULL;
	char id_s[24], prio_s[24];
	const char *values[4];

	if (params_job_ref(a->id, a->plan, a->tenant, &bad) < 0) {
		control_invalid_param(req, bad);
		return;
	}
	snprintf(id_s, sizeof(id_s), "%lld", a->id);
	snprintf(prio_s, sizeof(prio_s), "%lld", a->priority);
	values[0] = a->id > 0 ? id_s : NULL;
	values[1] = a->plan;
	values[2] = a->tenant;
	values[3] = prio_s;
	dbcall(req, d, rollback_sql, 4, values, rollback_done,
	       json_pack("{s:I}", "id", (json_int_t)a->id));
}

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
