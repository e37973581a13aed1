#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nss_cache.h"
#include "audit_spool.h"
#include "daemon.h"
#include "dbcall.h"
#include "log.h"
#include "pg.h"
#include "params.h"
#include "store.h"

struct recorded {
	char *text; /* the entry as the spool keeps it */
	struct audit_spool *spool;
};

/* An entry being stored: the spool's line for it, should that fail. */
static void
on_recorded(void *arg, const PGresult *res, const char *error)
{
	struct recorded *r = arg;
	char buf[512];

	if (res == NULL) { /* the connection went: kept for when it is back */
		log_warning("audit entry not stored yet (%s); spooled: %s",
		            error, r->text);
		if (r->spool != NULL)
			audit_spool_add(r->spool, r->text);
	} else if (!pg_result_ok(res)) {
		log_warning("audit entry not stored (%s): %s",
		            pg_result_error(res, buf, sizeof(buf)), r->text);
	}
	free(r->text);
	free(r);
}

/* Now as the audit table's at: UTC with milliseconds. */
static void
now_text(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char sec[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", sec, ts.tv_nsec / 1000000);
}

void
audit_record(struct daemon *d, uid_t uid, const char *action,
             json_t *parameters, const char *result)
{
	const char *user = nss_cache_name(uid);
	char uid_s[24], at[48];
	char *params = json_dumps(parameters != NULL ? parameters : json_null(),
	                          JSON_COMPACT | JSON_ENCODE_ANY);
	json_t *entry;
	struct recorded *r = calloc(1, sizeof(*r));
	const char *values[6];

	now_text(at, sizeof(at));
	entry = json_pack("{s:s, s:i, s:s?, s:s, s:O?, s:s}", "at", at, "uid",
	                  (int)uid, "user", user, "action", action,
	                  "parameters", parameters, "result", result);
	if (r != NULL) {
		r->text =
		        entry != NULL ? json_dumps(entry, JSON_COMPACT) : NULL;
		r->spool = d->audit_spool;
	}
	json_decref(entry);
	snprintf(uid_s, sizeof(uid_s), "%d", (int)uid);
	values[0] = uid_s;
	values[1] = user;
	values[2] = action;
	values[3] = params;
	values[4] = result;
	values[5] = at;
	log_notice("audit: uid %d (%s) %s: %s", (int)uid,
	           user != NULL ? user : "?", action, result);
	if (r == NULL || r->text == NULL) {
		log_error("audit entry lost (out of memory): %s", action);
	} else if (!store_ready(d->store) ||
	           pg_query(store_conn(d->store),
	                    "INSERT INTO migrated.audit (uid, username, action,"
	                    " parameters, result, at) VALUES ($1::integer, $2,"
	                    " $3, $4::jsonb, $5, $6::timestamptz)",
	                    6, values, on_recorded, r) < 0) {
		if (d->audit_spool != NULL) {
			log_warning("audit entry not stored yet (database "
			            "unavailable); spooled: %s",
			            r->text);
			audit_spool_add(d->audit_spool, r->text);
		} else {
			log_warning("audit entry not stored (database "
			            "unavailable, no audit_spool): %s",
			            r->text);
		}
	} else {
		r = NULL; /* on_recorded's */
	}
	if (r != NULL)
		free(r->text);
	free(r);
	free(params);
}

void
audit_store_ready(struct daemon *d)
{
	audit_spool_flush(d->audit_spool, store_conn(d->store));
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
