/*
 * The verbs about jobs: submit, list, show, watch, and pause, resume,
 * cancel and retry.
 */
#include "cmd.h"

#include "output.h"
#include "request.h"
#include "watch.h"

/*
 * Calls method, whose reply is the ids of the jobs it changed, and shows
 * them: "Paused 2 jobs: 4, 5." Leaves the ids in *ids (the caller frees
 * them) when it is not NULL.
 */
static int
change_jobs(struct cmd_ctx *ctx, const char *method, json_t *params,
            const char *done, json_t **ids)
{
	struct vl_reply reply;
	const json_t *changed = NULL;
	int rc = session_call(&ctx->session, method, params, "jobs", JSON_ARRAY,
	                      &reply, &changed);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (!session_valid_ids(changed))
		rc = session_malformed(method, "has job ids that are not "
		                               "positive integers");
	else
		rc = session_show_ids(&ctx->session, &reply, changed, done);
	if (rc == CTL_EXIT_OK && ids != NULL)
		*ids = json_incref((json_t *)changed);
	vl_reply_clear(&reply);
	return rc;
}

static json_t *
submit_params(const struct args *a, json_t *p)
{
	if (a->steps != NULL)
		json_object_set(p, "steps", a->steps);
	request_int(p, "batch_size", a->has_batch_size, a->batch_size);
	request_int(p, "priority", a->has_priority, a->priority);
	request_true(p, "dry_run", a->dry_run);
	request_true(p, "skip_checks", a->skip_checks);
	if (a->params != NULL)
		json_object_set(p, "params", a->params);
	request_true(p, "fresh", a->fresh);
	return p;
}

int
cmd_submit(struct cmd_ctx *ctx, struct args *a)
{
	json_t *ids = NULL;
	json_t *p;
	int rc = request_tenants(a, &p);

	if (rc == CTL_EXIT_OK)
		rc = change_jobs(ctx, VL_METHOD_SUBMIT, submit_params(a, p),
		                 "submitted", &ids);
	/* With no job queued, Watch would follow every unfinished job. */
	if (rc == CTL_EXIT_OK && a->wait && json_array_size(ids) > 0)
		rc = watch_wait(&ctx->session, ids);
	json_decref(ids);
	return rc;
}

int
cmd_list(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_LIST_JOBS,
	        .key = "jobs",
	        .type = JSON_ARRAY,
	        .human = out_jobs,
	};
	const char *tenant;
	int rc = args_one_tenant(a, &tenant);
	json_t *p;

	if (rc != CTL_EXIT_OK)
		return rc;
	p = json_object();
	if (p == NULL)
		return CTL_EXIT_DAEMON;
	request_str(p, "state", a->state);
	request_str(p, "plan", a->plan);
	request_str(p, "tenant", tenant);
	request_int(p, "limit", a->has_limit, a->limit);
	request_int(p, "before", a->has_before, a->before);
	return session_ask(&ctx->session, &ask, p);
}

int
cmd_show(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_SHOW_JOB,
	        .key = "job",
	        .type = JSON_OBJECT,
	        .human = out_job,
	};
	json_t *ids;
	int rc = args_job_ids(a, &ids);

	if (rc != CTL_EXIT_OK)
		return rc;
	rc = session_ask(&ctx->session, &ask,
	                 json_pack("{s:O}", "id", json_array_get(ids, 0)));
	json_decref(ids);
	return rc;
}

int
cmd_watch(struct cmd_ctx *ctx, struct args *a)
{
	struct watch w;
	json_t *ids;
	int rc = args_job_ids(a, &ids);

	if (rc != CTL_EXIT_OK)
		return rc;
	rc = watch_jobs(&ctx->session, ids, &w);
	watch_clear(&w);
	return rc;
}

int
cmd_change_jobs(struct cmd_ctx *ctx, struct args *a)
{
	json_t *ids;
	int rc;

	if (a->npos > 0 && a->all)
		return args_usage_error(a->command, "job ids and --all exclude "
		                                    "each other");
	if (a->npos == 0 && !a->all)
		return args_usage_error(a->command, "give job ids or --all");
	rc = args_job_ids(a, &ids);
	if (rc != CTL_EXIT_OK)
		return rc;
	return change_jobs(ctx, ctx->method,
	                   ids != NULL ? json_pack("{s:o}", "ids", ids)
	                               : json_pack("{s:b}", "all", 1),
	                   ctx->done, NULL);
}
