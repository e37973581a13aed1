#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nss_cache.h"
#include "daemon.h"
#include "dbcall.h"
#include "log.h"
#include "pg.h"
#include "params.h"
#include "store.h"

static void
on_recorded(void *arg, const PGresult *res, const char *error)
{
	char *text = arg;
	char buf[512];

	if (res == NULL || !pg_result_ok(res))
		log_warning("audit entry not stored (%s): %s",
		            res == NULL
		                    ? error
		                    : pg_result_error(res, buf, sizeof(buf)),
		            text);
	free(text);
}

void
audit_record(struct daemon *d, uid_t uid, const char *action,
             json_t *parameters, const char *result)
{
	const char *user = nss_cache_name(uid);
	char uid_s[24];
	char *params = json_dumps(parameters != NULL ? parameters : json_null(),
	                          JSON_COMPACT | JSON_ENCODE_ANY);
	json_t *entry = json_pack("{s:i, s:s?, s:s, s:s?, s:s}", "uid",
	                          (int)uid, "user", user, "action", action,
	                          "parameters", params, "result", result);
	char *text = json_dumps(entry, JSON_COMPACT);
	const char *values[5];

	json_decref(entry);
	snprintf(uid_s, sizeof(uid_s), "%d", (int)uid);
	values[0] = uid_s;
	values[1] = user;
	values[2] = action;
	values[3] = params;
	values[4] = result;
	log_notice("audit: uid %d (%s) %s: %s", (int)uid,
	           user != NULL ? user : "?", action, result);
	if (!store_ready(d->store) ||
	    pg_query(
	            store_conn(d->store),
	            "INSERT INTO migrated.audit (uid, username, action,"
	            " parameters, result) VALUES ($1::integer, $2, $3, $4::jsonb,"
	            " $5)",
	            5, values, on_recorded, text) < 0) {
		log_warning("audit entry not stored (database unavailable): %s",
		            text != NULL ? text : action);
		free(text);
	}
	free(params);
}

static const char log_sql[] =
        "SELECT coalesce(json_agg(json_build_object("
        "  'id', id, 'at', to_char(at AT TIME ZONE 'UTC',"
        "   'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        "  'uid', uid, 'user', username, 'action', action, 'job', job_id,"
        "  'parameters', parameters, 'result', result) ORDER BY id DESC), '[]')"
        " FROM (SELECT * FROM migrated.audit"
        "  WHERE ($1::bigint IS NULL OR job_id = $1"
        "   OR parameters->>'id' = $1::text"
        "   OR coalesce(parameters->'ids' @> to_jsonb($1::bigint), false)"
        "   OR coalesce(parameters->'jobs' @> to_jsonb($1::bigint), false))"
        "  AND ($2::bigint IS NULL OR id < $2)"
        "  ORDER BY id DESC LIMIT $3::bigint) a";

static void
log_done(struct dbcall *call, const PGresult *res)
{
	control_reply(call->req, json_pack("{s:o}", "entries",
	                                   dbcall_json_cell(res, 0, 0)));
}

struct log_args {
	long long job, limit, before;
};

static const struct vl_field log_fields[] = {
        PARAMS_FIELD_ID("job", 0, struct log_args, job),
        VL_FIELD_INT("limit", 0, struct log_args, limit, 1, 100000, 100),
        PARAMS_FIELD_ID("before", 0, struct log_args, before),
        VL_FIELDS_END,
};
const struct vl_params audit_log_params =
        VL_PARAMS(struct log_args, log_fields);

void
audit_get_log(struct control_req *req, struct daemon *d, const void *args)
{
	const struct log_args *a = args;
	char job_s[24], limit_s[24], before_s[24];
	const char *values[3];

	snprintf(job_s, sizeof(job_s), "%lld", a->job);
	snprintf(limit_s, sizeof(limit_s), "%lld", a->limit);
	snprintf(before_s, sizeof(before_s), "%lld", a->before);
	values[0] = a->job > 0 ? job_s : NULL;
	values[1] = a->before > 0 ? before_s : NULL;
	values[2] = limit_s;
	dbcall(req, d, log_sql, 3, values, log_done, NULL);
}
