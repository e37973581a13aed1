/* The verbs about the daemon itself: status, plans, log. */
#include "cmd.h"

#include <stdio.h>

#include "output.h"
#include "detailed.h"
#include "report.h"
#include "request.h"

int
cmd_status(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_GET_STATUS,
	        .key = "status",
	        .type = JSON_OBJECT,
	        .human = out_status,
	};

	static const struct session_ask detailed = {
	        .method = VL_METHOD_GET_PLAN_PROGRESS,
	        .key = "plans",
	        .type = JSON_ARRAY,
	        .human = out_overview,
	};

	if (a->plan != NULL && !a->detailed) {
		fprintf(stderr,
		        "migratectl: status: --plan needs --detailed\n");
		return CTL_EXIT_USAGE;
	}
	if (a->detailed)
		return session_ask(&ctx->session, &detailed,
		                   json_pack("{s:s?}", "plan", a->plan));
	return session_ask(&ctx->session, &ask, NULL);
}

int
cmd_plans(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask list = {
	        .method = VL_METHOD_LIST_PLANS,
	        .key = "plans",
	        .type = JSON_ARRAY,
	        .human = out_plans,
	};
	static const struct session_ask show = {
	        .method = VL_METHOD_SHOW_PLAN,
	        .key = "plan",
	        .type = JSON_OBJECT,
	        .human = out_plan,
	};

	if (a->npos == 0)
		return session_ask(&ctx->session, &list, NULL);
	return session_ask(&ctx->session, &show,
	                   json_pack("{s:s}", "name", a->pos[0]));
}

int
cmd_log(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_GET_LOG,
	        .key = "entries",
	        .type = JSON_ARRAY,
	        .human = report_log,
	};
	json_t *p = json_object();

	if (p == NULL)
		return CTL_EXIT_DAEMON;
	request_int(p, "job", a->has_job, a->job);
	request_int(p, "limit", a->has_limit, a->limit);
	request_int(p, "before", a->has_before, a->before);
	return session_ask(&ctx->session, &ask, p);
}
