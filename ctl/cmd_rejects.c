/* rejects JOB: the rows of SQLite sources kept out of the target. */
#include "cmd.h"

#include "output.h"
#include "request.h"
#include "table.h"

static int
report_rejects(FILE *f, const json_t *rejects)
{
	static const struct table_column cols[] = {
	        {"STEP", false},  {"KEY", true},    {"COLUMN", false},
	        {"VALUE", false}, {"ERROR", false},
	};
	struct table t;
	size_t i;
	const json_t *r;

	if (json_array_size(rejects) == 0) {
		fputs("No rejected rows.\n", f);
		return 0;
	}
	table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	json_array_foreach(rejects, i, r)
	{
		table_field(&t, r, "step");
		table_field(&t, r, "key");
		table_field(&t, r, "column");
		table_field(&t, r, "value");
		table_field(&t, r, "error");
	}
	return table_done(&t, f);
}

int
cmd_rejects(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_LIST_REJECTS,
	        .key = "rejects",
	        .type = JSON_ARRAY,
	        .human = report_rejects,
	};
	json_t *ids, *p;
	int rc = args_job_ids(a, &ids);

	if (rc != CTL_EXIT_OK)
		return rc;
	p = json_pack("{s:O}", "job", json_array_get(ids, 0));
	json_decref(ids);
	if (p == NULL)
		return CTL_EXIT_DAEMON;
	request_int(p, "limit", a->has_limit, a->limit);
	return session_ask(&ctx->session, &ask, p);
}
