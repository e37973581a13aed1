#include "rollback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "daemon.h"
#include "dbcall.h"
#include "log.h"
#include "params.h"
#include "plan.h"
#include "scheduler.h"
#include "vl_names.h"

/* Priority of an emergency's rollbacks when the call gives none. */
#define EMERGENCY_PRIORITY 1000

/* The columns both functions return, in this order. */
enum {
	C_OUTCOME,
	C_JOB,
	C_STATE,
	C_PLAN,
	C_TENANT,
	C_PAIR,
	C_ROLLBACK,
	C_OTHER,
	C_STEP,
	C_DEPENDENT,
	C_STOPPED,
};

static const char queue_sql[] =
        "SELECT outcome, job, state, plan, tenant, pair, rollback, other,"
        " step, dependent FROM migrated.queue_rollback(coalesce($1::bigint,"
        "  (SELECT id FROM migrated.jobs WHERE plan = $2 AND tenant = $3"
        "   AND kind = 'migrate' AND NOT dry_run ORDER BY id DESC LIMIT 1)),"
        " (SELECT array_agg(x) FROM json_array_elements_text($4::json) x),"
        " $5::jsonb, $6::integer, NULL)";

static const char plan_sql[] =
        "SELECT outcome, job, NULL, $1, tenant, pair, rollback, other, step,"
        " dependent, array_to_json(stopped)"
        " FROM migrated.rollback_plan($1,"
        " (SELECT array_agg(x) FROM json_array_elements_text($2::json) x),"
        " $3::jsonb, $4::integer,"
        " $5::boolean, $6::integer)";

/*
 * The plan's dependencies as [[dependent, dependency], ...]; checks that
 * each of steps is a step of the plan (NoSuchStep otherwise). NULL after
 * the error reply.
 */
static json_t *
dependencies(struct control_req *req, const struct plan *plan,
             const json_t *steps)
{
	json_t *after = json_array();
	const json_t *v;
	size_t i;

	json_array_foreach(steps, i, v)
	{
		if (plan_step_find(plan, json_string_value(v)) != NULL)
			continue;
		control_error(
		        req, VL_ERROR_NO_SUCH_STEP,
		        json_pack("{s:s, s:O}", "plan", plan->name, "step", v));
		json_decref(after);
		return NULL;
	}
	for (size_t s = 0; s < plan->nsteps; s++)
		for (size_t a = 0; a < plan->steps[s].nafter; a++)
			json_array_append_new(
			        after, json_pack("[s, s]", plan->steps[s].name,
			                         plan->steps[s].after[a]));
	return after;
}

static const char *
cell(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* Why a job was not rolled back, for a NoBackup reason or a skipped row. */
static const char *
refusal(const PGresult *res, int row, char *buf, size_t len)
{
	const char *o = PQgetvalue(res, row, C_OUTCOME);

	if (strcmp(o, "rollback_kind") == 0)
		return "it is a rollback job itself";
	if (strcmp(o, "schema_kind") == 0)
		return "it is a schema job: use migratectl schema revert";
	if (strcmp(o, "dry_run") == 0)
		return "it was a dry run and changed nothing";
	if (strcmp(o, "step_no_backup") == 0) {
		snprintf(buf, len,
		         "step %s has no backups left to restore: it did not "
		         "run in this job, ran without backup = yes, or a "
		         "rollback restored it already",
		         PQgetvalue(res, row, C_STEP));
		return buf;
	}
	if (strcmp(o, "busy") == 0) {
		snprintf(buf, len,
		         "job %s of the same tenant has not ended; roll back "
		         "again when it has",
		         PQgetvalue(res, row, C_OTHER));
		return buf;
	}
	if (strcmp(o, "state") == 0) {
		snprintf(buf, len, "it is %s", PQgetvalue(res, row, C_STATE));
		return buf;
	}
	return "it has no backups: none of its steps ran with backup = yes, "
	       "or they were dropped or restored already";
}

static void
dependency_error(struct control_req *req, const PGresult *res, int row)
{
	control_error(req, VL_ERROR_ROLLBACK_DEPENDENCY,
	              json_pack("{s:I, s:s, s:s}", "job",
	                        (json_int_t)atoll(PQgetvalue(res, row, C_JOB)),
	                        "step", PQgetvalue(res, row, C_STEP),
	                        "dependent",
	                        PQgetvalue(res, row, C_DEPENDENT)));
}

/* ---- Rollback ---- */

static void
queued(struct dbcall *call, const PGresult *res)
{
	const char *o = PQgetvalue(res, 0, C_OUTCOME);
	json_int_t id = atoll(PQgetvalue(res, 0, C_JOB));
	char buf[512];

	if (strcmp(o, "ok") == 0) {
		json_int_t job = atoll(PQgetvalue(res, 0, C_ROLLBACK));

		log_info("queued rollback job %lld of job %lld", (long long)job,
		         (long long)id);
		scheduler_kick(call->d->sched);
		control_reply(call->req, json_pack("{s:I}", "job", job));
	} else if (strcmp(o, "no_job") == 0) {
		control_error(call->req, VL_ERROR_NO_SUCH_JOB,
		              json_pack("{s:O}", "id",
		                        json_object_get(call->ctx, "id")));
	} else if (strcmp(o, "busy") == 0) {
		/* one unfinished job per plan and tenant, rollbacks included */
		control_error(call->req, VL_ERROR_JOB_EXISTS,
		              json_pack("{s:s, s:s, s:I}", "plan",
		                        PQgetvalue(res, 0, C_PLAN), "tenant",
		                        PQgetvalue(res, 0, C_TENANT), "id",
		                        (json_int_t)atoll(
		                                PQgetvalue(res, 0, C_OTHER))));
	} else if (strcmp(o, "state") == 0) {
		control_error(call->req, VL_ERROR_INVALID_JOB_STATE,
		              json_pack("{s:I, s:s}", "id", id, "state",
		                        PQgetvalue(res, 0, C_STATE)));
	} else if (strcmp(o, "depends") == 0) {
		dependency_error(call->req, res, 0);
	} else {
		control_error(call->req, VL_ERROR_NO_BACKUP,
		              json_pack("{s:I, s:s}", "id", id, "reason",
		                        refusal(res, 0, buf, sizeof(buf))));
	}
}

/* Sends the queue statement; ctx: id, plan, tenant, priority, steps. */
static void
queue(struct control_req *req, struct daemon *d, json_t *ctx,
      const struct plan *plan)
{
	const json_t *steps = json_object_get(ctx, "steps");
	json_t *after = NULL;
	char id_s[24], prio_s[24];
	char *steps_s = NULL, *after_s = NULL;
	const char *values[6];
	json_int_t id = json_integer_value(json_object_get(ctx, "id"));

	if (steps != NULL) {
		after = dependencies(req, plan, steps);
		if (after == NULL) {
			json_decref(ctx);
			return;
		}
		steps_s = json_dumps(steps, JSON_COMPACT);
		after_s = json_dumps(after, JSON_COMPACT);
		json_decref(after);
		if (steps_s == NULL || after_s == NULL) {
			free(steps_s);
			free(after_s);
			json_decref(ctx);
			dbcall_unavailable(req, "out of memory");
			return;
		}
	}
	snprintf(id_s, sizeof(id_s), "%lld", (long long)id);
	snprintf(prio_s, sizeof(prio_s), "%lld",
	         (long long)json_integer_value(
	                 json_object_get(ctx, "priority")));
	values[0] = id > 0 ? id_s : NULL;
	values[1] = json_string_value(json_object_get(ctx, "plan"));
	values[2] = json_string_value(json_object_get(ctx, "tenant"));
	values[3] = steps_s;
	values[4] = after_s;
	values[5] = prio_s;
	dbcall(req, d, queue_sql, 6, values, queued, ctx);
	free(steps_s);
	free(after_s);
}

/* Rollback JOB with steps: the job's plan, then the queue statement. */
static void
plan_found(struct dbcall *call, const PGresult *res)
{
	const struct plan *plan = NULL;

	if (PQntuples(res) == 0) {
		control_error(call->req, VL_ERROR_NO_SUCH_JOB,
		              json_pack("{s:O}", "id",
		                        json_object_get(call->ctx, "id")));
		return;
	}
	plan = catalog_find(call->d->plans, PQgetvalue(res, 0, 0));
	if (plan == NULL) {
		control_error(
		        call->req, VL_ERROR_NO_SUCH_PLAN,
		        json_pack("{s:s}", "name", PQgetvalue(res, 0, 0)));
		return;
	}
	queue(call->req, call->d, json_incref(call->ctx), plan);
}

struct rollback_args {
	long long id;
	const char *plan, *tenant;
	long long priority;
	json_t *steps;
};

static const struct vl_field rollback_fields[] = {
        PARAMS_FIELD_ID("id", 0, struct rollback_args, id),
        VL_FIELD_STRING("plan", 0, struct rollback_args, plan, 0, 0),
        VL_FIELD_STRING("tenant", 0, struct rollback_args, tenant, 0, 0),
        PARAMS_FIELD_PRIORITY(struct rollback_args, priority),
        VL_FIELD_STRINGS("steps", 0, struct rollback_args, steps, 1, 256),
        VL_FIELDS_END,
};
const struct vl_params rollback_params =
        VL_PARAMS(struct rollback_args, rollback_fields);

void
rollback_method(struct control_req *req, struct daemon *d, const void *args)
{
	const struct rollback_args *a = args;
	const char *bad = NULL;
	const struct plan *plan;
	char id_s[24];
	const char *values[1];
	json_t *ctx;

	if (params_job_ref(a->id, a->plan, a->tenant, &bad) < 0) {
		control_invalid_param(req, bad);
		return;
	}
	if (a->steps != NULL && json_array_size(a->steps) == 0) {
		control_invalid_param(req, "steps");
		return;
	}
	ctx = json_pack("{s:I, s:s*, s:s*, s:I, s:O*}", "id", (json_int_t)a->id,
	                "plan", a->plan, "tenant", a->tenant, "priority",
	                (json_int_t)a->priority, "steps", a->steps);
	if (ctx == NULL) {
		dbcall_unavailable(req, "out of memory");
		return;
	}
	if (a->steps == NULL || a->id <= 0) {
		plan = a->steps == NULL ? NULL
		                        : catalog_find(d->plans, a->plan);
		if (a->steps != NULL && plan == NULL) {
			json_decref(ctx);
			control_error(req, VL_ERROR_NO_SUCH_PLAN,
			              json_pack("{s:s}", "name", a->plan));
			return;
		}
		queue(req, d, ctx, plan);
		return;
	}
	snprintf(id_s, sizeof(id_s), "%lld", a->id);
	values[0] = id_s;
	dbcall(req, d, "SELECT plan FROM migrated.jobs WHERE id = $1::bigint",
	       1, values, plan_found, ctx);
}

/* ---- RollbackPlan ---- */

static void
plan_done(struct dbcall *call, const PGresult *res)
{
	json_t *jobs = json_array();
	json_t *stopped = NULL;
	long long stop[64];
	size_t i;
	json_t *v;
	int n = 0, queued_n = 0;
	char buf[512];

	for (int row = 0; row < PQntuples(res); row++) {
		const char *o = PQgetvalue(res, row, C_OUTCOME);
		const char *rb = cell(res, row, C_ROLLBACK);

		if (stopped == NULL)
			stopped = json_loads(PQgetvalue(res, row, C_STOPPED), 0,
			                     NULL);
		if (strcmp(o, "depends") == 0) {
			json_decref(jobs);
			json_decref(stopped);
			dependency_error(call->req, res, row);
			return;
		}
		if (strcmp(o, "none") == 0)
			continue;
		queued_n += rb != NULL;
		json_array_append_new(
		        jobs,
		        json_pack(
		                "{s:I, s:s, s:s?, s:o*, s:s*}", "job",
		                (json_int_t)atoll(PQgetvalue(res, row, C_JOB)),
		                "tenant", PQgetvalue(res, row, C_TENANT),
		                "pair", cell(res, row, C_PAIR), "rollback",
		                rb != NULL ? json_integer(atoll(rb)) : NULL,
		                "reason",
		                rb != NULL
		                        ? NULL
		                        : refusal(res, row, buf, sizeof(buf))));
	}
	if (!json_is_array(stopped)) {
		json_decref(stopped);
		stopped = json_array();
	}
	/* tell local runners at once; the batch guard covers other daemons */
	json_array_foreach(stopped, i, v)
	{
		stop[n++] = json_integer_value(v);
		if (n == 64) {
			scheduler_stop_jobs(call->d->sched, stop, n);
			n = 0;
		}
	}
	scheduler_stop_jobs(call->d->sched, stop, n);
	scheduler_kick(call->d->sched);
	log_notice("%s of plan %s: %zu job(s) stopped, %d rollback(s) queued",
	           json_is_true(json_object_get(call->ctx, "emergency"))
	                   ? "emergency rollback"
	                   : "rollback",
	           json_string_value(json_object_get(call->ctx, "plan")),
	           json_array_size(stopped), queued_n);
	control_reply(call->req, json_pack("{s:o, s:o}", "stopped", stopped,
	                                   "jobs", jobs));
}

struct rollback_plan_args {
	const char *plan;
	json_t *steps;
	bool emergency;
	long long priority;
};

static const struct vl_field rollback_plan_fields[] = {
        VL_FIELD_STRING("plan", VL_REQUIRED, struct rollback_plan_args, plan, 0,
                        0),
        VL_FIELD_STRINGS("steps", 0, struct rollback_plan_args, steps, 1, 256),
        VL_FIELD_BOOL("emergency", 0, struct rollback_plan_args, emergency),
        PARAMS_FIELD_PRIORITY(struct rollback_plan_args, priority),
        VL_FIELDS_END,
};
const struct vl_params rollback_plan_params =
        VL_PARAMS(struct rollback_plan_args, rollback_plan_fields);

void
rollback_plan_method(struct control_req *req, struct daemon *d,
                     const void *args)
{
	const struct rollback_plan_args *a = args;
	const struct plan *plan = catalog_find(d->plans, a->plan);
	json_t *after;
	char *steps_s = NULL, *after_s = NULL;
	char prio_s[24], uid_s[24];
	const char *values[6];

	/* an emergency rolls back everything: a subset would leave some */
	if ((a->steps != NULL && json_array_size(a->steps) == 0) ||
	    (a->steps != NULL && a->emergency)) {
		control_invalid_param(req, "steps");
		return;
	}
	if (plan == NULL) {
		control_error(req, VL_ERROR_NO_SUCH_PLAN,
		              json_pack("{s:s}", "name", a->plan));
		return;
	}
	after = dependencies(req, plan, a->steps);
	if (after == NULL)
		return;
	after_s = json_dumps(after, JSON_COMPACT);
	json_decref(after);
	steps_s = a->steps != NULL ? json_dumps(a->steps, JSON_COMPACT) : NULL;
	if (after_s == NULL || (a->steps != NULL && steps_s == NULL)) {
		free(after_s);
		free(steps_s);
		dbcall_unavailable(req, "out of memory");
		return;
	}
	snprintf(prio_s, sizeof(prio_s), "%lld",
	         a->emergency && a->priority == 0 ? EMERGENCY_PRIORITY
	                                          : a->priority);
	snprintf(uid_s, sizeof(uid_s), "%lu",
	         (unsigned long)control_peer_uid(req));
	values[0] = a->plan;
	values[1] = steps_s;
	values[2] = after_s;
	values[3] = prio_s;
	values[4] = a->emergency ? "true" : "false";
	values[5] = uid_s;
	dbcall(req, d, plan_sql, 6, values, plan_done,
	       json_pack("{s:s, s:b}", "plan", a->plan, "emergency",
	                 a->emergency));
	free(after_s);
	free(steps_s);
}
