#include "schema_jobs.h"

#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "dbcall.h"
#include "log.h"
#include "scheduler.h"
#include "vl_names.h"

struct schema_job_args {
	const char *set;
	long long to; /* -1 when absent */
	bool dry_run;
};

static const struct vl_field schema_job_fields[] = {
        VL_FIELD_STRING("set", 0, struct schema_job_args, set, 1, 256),
        VL_FIELD_INT("to", 0, struct schema_job_args, to, 0, INT64_MAX, -1),
        VL_FIELD_BOOL("dry_run", 0, struct schema_job_args, dry_run),
        VL_FIELDS_END,
};
const struct vl_params schema_jobs_params =
        VL_PARAMS(struct schema_job_args, schema_job_fields);

/*
 * The job, unless the set has an unfinished one (of either op): the dup
 * lookup names it, and ON CONFLICT covers a submit racing this one.
 */
static const char insert_sql[] =
        "WITH dup AS (SELECT id FROM migrated.jobs"
        "  WHERE plan = $1 AND tenant = $2 AND pair IS NULL"
        "  AND state IN ('queued', 'running', 'paused') ORDER BY id LIMIT 1),"
        " ins AS (INSERT INTO migrated.jobs (plan, tenant, kind, dry_run, args)"
        "  SELECT $1, $2, 'schema', $3::boolean, $4::jsonb"
        "  WHERE NOT EXISTS (SELECT 1 FROM dup)"
        "  ON CONFLICT DO NOTHING RETURNING id)"
        "SELECT (SELECT id FROM ins), (SELECT id FROM dup)";

static void
inserted(struct dbcall *call, const PGresult *res)
{
	const char *plan =
	        json_string_value(json_object_get(call->ctx, "plan"));
	const char *db = json_string_value(json_object_get(call->ctx, "db"));
	const char *op = json_string_value(json_object_get(call->ctx, "op"));

	if (PQgetisnull(res, 0, 0)) {
		control_error(
		        call->req, VL_ERROR_JOB_EXISTS,
		        json_pack("{s:s, s:s, s:I}", "plan", plan, "tenant", db,
		                  "id",
		                  (json_int_t)(PQgetisnull(res, 0, 1)
		                                       ? 0
		                                       : atoll(PQgetvalue(
		                                                 res, 0, 1)))));
		return;
	}
	log_info("queued schema job %s (%s of %s)", PQgetvalue(res, 0, 0), op,
	         plan);
	scheduler_kick(call->d->sched);
	control_reply(call->req,
	              json_pack("{s:I}", "job",
	                        (json_int_t)atoll(PQgetvalue(res, 0, 0))));
}

/* The set named, or the only one; NULL after the error reply. */
static const struct config_schema *
find_set(struct control_req *req, const struct daemon *d, const char *name)
{
	const struct config_schema *cs;

	if (name == NULL && d->cfg.nschemas == 1)
		return &d->cfg.schemas[0];
	cs = name != NULL ? config_schema(&d->cfg, name) : NULL;
	if (cs == NULL)
		control_error(
		        req, VL_ERROR_NO_SUCH_SCHEMA_SET,
		        json_pack("{s:s}", "name", name != NULL ? name : ""));
	return cs;
}

static void
queue(struct control_req *req, struct daemon *d,
      const struct schema_job_args *a, const char *op)
{
	const struct config_schema *cs = find_set(req, d, a->set);
	uid_t uid;
	struct passwd *pw;
	char plan[300], uid_s[24], to_s[24];
	json_t *args;
	char *text;
	const char *values[4];

	if (cs == NULL)
		return; /* req is gone */
	uid = control_peer_uid(req);
	snprintf(plan, sizeof(plan), "schema:%s", cs->name);
	snprintf(uid_s, sizeof(uid_s), "%d", (int)uid);
	snprintf(to_s, sizeof(to_s), "%lld", a->to);
	pw = getpwuid(uid);
	/* strings only: a job's parameters are [string]string */
	args = json_pack("{s:s, s:s, s:s, s:s?}", "op", op, "dry_run",
	                 a->dry_run ? "true" : "false", "uid", uid_s,
	                 "username", pw != NULL ? pw->pw_name : NULL);
	if (args != NULL && a->to >= 0)
		json_object_set_new(args, "to", json_string(to_s));
	text = args != NULL ? json_dumps(args, JSON_COMPACT) : NULL;
	json_decref(args);
	if (text == NULL) {
		dbcall_unavailable(req, "out of memory");
		return;
	}
	values[0] = plan;
	values[1] = cs->database;
	values[2] = a->dry_run ? "t" : "f";
	values[3] = text;
	dbcall(req, d, insert_sql, 4, values, inserted,
	       json_pack("{s:s, s:s, s:s}", "plan", plan, "db", cs->database,
	                 "op", op));
	free(text);
}

void
schema_jobs_apply(struct control_req *req, struct daemon *d, const void *args)
{
	queue(req, d, args, "apply");
}

void
schema_jobs_revert(struct control_req *req, struct daemon *d, const void *args)
{
	queue(req, d, args, "revert");
}
