/* The verbs that run a plan's checks: validate (before) and verify (after). */
#include "cmd.h"

#include "report.h"
#include "request.h"

/*
 * Every element of results (Validate's TenantChecks, Verify's
 * StepCompare) is ok.
 */
static bool
all_ok(const json_t *results)
{
	size_t i;
	const json_t *result;

	json_array_foreach(results, i, result)
	{
		if (!json_is_true(json_object_get(result, "ok")))
			return false;
	}
	return true;
}

/* Verify's reply says ok, and so does each step it compared. */
static bool
verified(const json_t *reply)
{
	return json_is_true(json_object_get(reply, "ok")) &&
	       all_ok(json_object_get(reply, "compare"));
}

/* VerifyPlan's reply says ok, and so does each job's. */
static bool
plan_verified(const json_t *reply)
{
	return json_is_true(json_object_get(reply, "ok")) &&
	       all_ok(json_object_get(reply, "results"));
}

int
cmd_validate(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_VALIDATE,
	        .key = "results",
	        .type = JSON_ARRAY,
	        .human = report_validation,
	        .passed = all_ok,
	};
	json_t *p;
	int rc = request_tenants(a, &p);

	if (rc != CTL_EXIT_OK)
		return rc;
	return session_ask(&ctx->session, &ask, p);
}

int
cmd_verify(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_VERIFY,
	        .key = "checks",
	        .type = JSON_ARRAY,
	        .human = report_verification,
	        .whole = true,
	        .passed = verified,
	};
	static const struct session_ask plan_ask = {
	        .method = VL_METHOD_VERIFY_PLAN,
	        .key = "results",
	        .type = JSON_ARRAY,
	        .human = report_plan_verification,
	        .whole = true,
	        .passed = plan_verified,
	};
	json_t *p;
	int rc;

	if (a->all) {
		if (a->tenants != NULL)
			return args_usage_error(
			        a->command,
			        "--tenant and --all exclude each other");
		if (args_is_job_id(a->pos[0]))
			return args_usage_error(
			        a->command, "--all takes a plan, not a job id");
		p = json_pack("{s:s}", "plan", a->pos[0]);
		if (p == NULL)
			return args_out_of_memory();
		request_true(p, "compare", a->compare);
		return session_ask(&ctx->session, &plan_ask, p);
	}
	rc = request_target(a, &p);
	if (rc != CTL_EXIT_OK)
		return rc;
	request_true(p, "compare", a->compare);
	return session_ask(&ctx->session, &ask, p);
}
