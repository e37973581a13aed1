/* The verbs about backups: rollback restores them, backups lists or drops them. */
#include "cmd.h"

#include "output.h"
#include "report.h"
#include "request.h"
#include "watch.h"

/* Waits for the rollbacks a plan-wide rollback queued. */
static int
wait_rollbacks(struct cmd_ctx *ctx, const json_t *jobs)
{
	json_t *ids = json_array();
	const json_t *v;
	size_t i;
	int rc;

	if (ids == NULL)
		return session_output_failed();
	json_array_foreach(jobs, i, v)
	{
		if (json_is_integer(json_object_get(v, "rollback")))
			json_array_append(ids, json_object_get(v, "rollback"));
	}
	rc = json_array_size(ids) > 0 ? watch_wait(&ctx->session, ids)
	                              : CTL_EXIT_OK;
	json_decref(ids);
	return rc;
}

/* rollback PLAN (--all | --emergency) [--steps A,B] */
static int
rollback_plan(struct cmd_ctx *ctx, struct args *a)
{
	struct vl_reply reply;
	const json_t *jobs = NULL;
	json_t *p;
	int rc;

	if (a->tenants != NULL)
		return args_usage_error(a->command,
		                        "--tenant and --%s exclude each other",
		                        a->emergency ? "emergency" : "all");
	if (a->emergency && a->steps != NULL)
		return args_usage_error(a->command,
		                        "--emergency rolls back every step; "
		                        "--steps cannot narrow it");
	if (args_is_job_id(a->pos[0]))
		return args_usage_error(a->command,
		                        "--%s takes a plan, not a job id",
		                        a->emergency ? "emergency" : "all");
	p = json_pack("{s:s}", "plan", a->pos[0]);
	if (p == NULL)
		return args_out_of_memory();
	if (a->steps != NULL)
		json_object_set(p, "steps", a->steps);
	request_true(p, "emergency", a->emergency);
	request_int(p, "priority", a->has_priority, a->priority);
	rc = session_call(&ctx->session, VL_METHOD_ROLLBACK_PLAN, p, "jobs",
	                  JSON_ARRAY, &reply, &jobs);
	if (rc != CTL_EXIT_OK)
		return rc;
	rc = session_show(&ctx->session, &reply, reply.parameters,
	                  report_plan_rollback);
	if (rc == CTL_EXIT_OK && a->wait)
		rc = wait_rollbacks(ctx, jobs);
	vl_reply_clear(&reply);
	return rc;
}

int
cmd_rollback(struct cmd_ctx *ctx, struct args *a)
{
	struct vl_reply reply;
	const json_t *job = NULL;
	json_t *target;
	int rc;

	if (a->all || a->emergency)
		return rollback_plan(ctx, a);
	rc = request_target(a, &target);
	if (rc != CTL_EXIT_OK)
		return rc;
	request_int(target, "priority", a->has_priority, a->priority);
	if (a->steps != NULL)
		json_object_set(target, "steps", a->steps);
	rc = session_call(&ctx->session, VL_METHOD_ROLLBACK,
	                  json_incref(target), "job", JSON_INTEGER, &reply,
	                  &job);
	if (rc == CTL_EXIT_OK && json_integer_value(job) <= 0)
		rc = session_malformed(VL_METHOD_ROLLBACK,
		                       "has a job id that is not "
		                       "a positive integer");
	if (rc == CTL_EXIT_OK && ctx->session.global->json)
		rc = out_json(stdout, reply.parameters) < 0
		             ? session_output_failed()
		             : session_written();
	else if (rc == CTL_EXIT_OK) {
		report_rollback_queued(stdout, json_integer_value(job), target);
		rc = session_written();
	}
	if (rc == CTL_EXIT_OK && a->wait) {
		json_t *ids = json_pack("[O]", job);

		rc = ids != NULL ? watch_wait(&ctx->session, ids)
		                 : session_output_failed();
		json_decref(ids);
	}
	vl_reply_clear(&reply);
	json_decref(target);
	return rc;
}

/* backups --drop (JOB ... | --older-than DAYS) */
static int
drop_backups(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_DROP_BACKUPS,
	        .key = "dropped",
	        .type = JSON_INTEGER,
	        .human = report_dropped,
	};
	json_t *ids = NULL;
	int rc;

	if (a->has_job || a->plan != NULL || a->tenants != NULL)
		return args_usage_error(
		        a->command, "--job, --plan and --tenant choose backups "
		                    "to list; --drop takes job ids or "
		                    "--older-than");
	if (a->npos > 0 && a->has_older_than)
		return args_usage_error(a->command, "job ids and --older-than "
		                                    "exclude each other");
	if (a->npos == 0 && !a->has_older_than)
		return args_usage_error(
		        a->command,
		        "--drop: give job ids or --older-than DAYS");
	rc = args_job_ids(a, &ids);
	if (rc != CTL_EXIT_OK)
		return rc;
	return session_ask(&ctx->session, &ask,
	                   ids != NULL ? json_pack("{s:o}", "jobs", ids)
	                               : json_pack("{s:I}", "older_than_days",
	                                           (json_int_t)a->older_than));
}

int
cmd_backups(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_LIST_BACKUPS,
	        .key = "backups",
	        .type = JSON_ARRAY,
	        .human = report_backups,
	};
	const char *tenant;
	json_t *p;
	int rc;

	if (a->drop)
		return drop_backups(ctx, a);
	if (a->npos > 0)
		return args_usage_error(a->command,
		                        "unexpected argument '%s'; to drop the "
		                        "backups of jobs add --drop",
		                        a->pos[0]);
	if (a->has_older_than)
		return args_usage_error(a->command,
		                        "--older-than needs --drop");
	rc = args_one_tenant(a, &tenant);
	if (rc != CTL_EXIT_OK)
		return rc;
	p = json_object();
	if (p == NULL)
		return CTL_EXIT_DAEMON;
	request_int(p, "job", a->has_job, a->job);
	request_str(p, "plan", a->plan);
	request_str(p, "tenant", tenant);
	return session_ask(&ctx->session, &ask, p);
}
