/* The verbs about pacing: throttle (on, off, or the state) and set. */
#include "cmd.h"

#include <string.h>

#include "output.h"
#include "request.h"

int
cmd_throttle(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask get = {
	        .method = VL_METHOD_GET_THROTTLE,
	        .key = "throttle",
	        .type = JSON_OBJECT,
	        .human = out_throttle,
	};
	static const struct session_ask on = {
	        .method = VL_METHOD_THROTTLE_ON,
	        .key = "throttle",
	        .type = JSON_OBJECT,
	        .human = out_throttle,
	};
	static const struct session_ask off = {
	        .method = VL_METHOD_THROTTLE_OFF,
	        .key = "throttle",
	        .type = JSON_OBJECT,
	        .human = out_throttle,
	};
	const char *sub = a->npos > 0 ? a->pos[0] : NULL;
	json_t *p;

	if (sub == NULL) {
		if (a->plan != NULL || a->reason != NULL || a->for_ != NULL)
			return args_usage_error(
			        a->command,
			        "--plan, --reason and --for go with 'on' or "
			        "'off'");
		return session_ask(&ctx->session, &get, NULL);
	}
	if (strcmp(sub, "on") != 0 && strcmp(sub, "off") != 0)
		return args_usage_error(a->command,
		                        "'%s': expected on or off (or nothing, "
		                        "for the state)",
		                        sub);
	p = json_object();
	if (p == NULL)
		return args_out_of_memory();
	if (a->plan != NULL)
		json_object_set_new(p, "plan", json_string(a->plan));
	if (strcmp(sub, "off") == 0) {
		if (a->reason != NULL || a->for_ != NULL) {
			json_decref(p);
			return args_usage_error(
			        a->command, "--reason and --for go with 'on'");
		}
		return session_ask(&ctx->session, &off, p);
	}
	if (a->reason != NULL)
		json_object_set_new(p, "reason", json_string(a->reason));
	if (a->for_ != NULL)
		json_object_set_new(p, "for", json_string(a->for_));
	return session_ask(&ctx->session, &on, p);
}

int
cmd_set(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_SET_JOB,
	        .key = "job",
	        .type = JSON_OBJECT,
	        .human = out_job,
	};
	json_t *ids = NULL;
	json_t *p;
	int rc;

	if (!a->has_batch_size && !a->has_max_rows_per_second)
		return args_usage_error(a->command,
		                        "give --batch-size N, "
		                        "--max-rows-per-second N or both");
	rc = args_job_ids(a, &ids);
	if (rc != CTL_EXIT_OK)
		return rc;
	p = json_pack("{s:O}", "id", json_array_get(ids, 0));
	json_decref(ids);
	if (p == NULL)
		return args_out_of_memory();
	request_int(p, "batch_size", a->has_batch_size, a->batch_size);
	request_int(p, "max_rows_per_second", a->has_max_rows_per_second,
	            a->max_rows_per_second);
	return session_ask(&ctx->session, &ask, p);
}
