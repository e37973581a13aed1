#include "rejects.h"

#include <stdio.h>

#include "daemon.h"
#include "dbcall.h"
#include "params.h"
#include "vl_names.h"

/* The job's existence, then its rejects, oldest first (at most $2). */
static const char list_sql[] =
        "SELECT (SELECT id FROM migrated.jobs WHERE id = $1::bigint),"
        " coalesce((SELECT json_agg(json_build_object("
        "  'job', job_id, 'step', step, 'key', key, 'column', col,"
        "  'value', value, 'error', error,"
        "  'at', to_char(at AT TIME ZONE 'UTC',"
        "   'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) ORDER BY id)"
        "  FROM (SELECT * FROM migrated.rejects WHERE job_id = $1::bigint"
        "   ORDER BY id LIMIT $2::bigint) r), '[]')";

static void
list_done(struct dbcall *call, const PGresult *res)
{
	if (PQgetisnull(res, 0, 0)) {
		control_error(call->req, VL_ERROR_NO_SUCH_JOB,
		              json_pack("{s:O}", "id",
		                        json_object_get(call->ctx, "id")));
		return;
	}
	control_reply(call->req, json_pack("{s:o}", "rejects",
	                                   dbcall_json_cell(res, 0, 1)));
}

struct list_args {
	long long job;
	long long limit;
};

static const struct vl_field list_fields[] = {
        PARAMS_FIELD_ID("job", VL_REQUIRED, struct list_args, job),
        VL_FIELD_INT("limit", 0, struct list_args, limit, 1, 100000, 1000),
        VL_FIELDS_END,
};
const struct vl_params rejects_list_params =
        VL_PARAMS(struct list_args, list_fields);

void
rejects_list(struct control_req *req, struct daemon *d, const void *args)
{
	const struct list_args *a = args;
	char job_s[24], limit_s[24];
	const char *values[2] = {job_s, limit_s};

	snprintf(job_s, sizeof(job_s), "%lld", a->job);
	snprintf(limit_s, sizeof(limit_s), "%lld", a->limit);
	dbcall(req, d, list_sql, 2, values, list_done,
	       json_pack("{s:I}", "id", (json_int_t)a->job));
}
