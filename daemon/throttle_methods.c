#include "throttle_methods.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "daemon.h"
#include "dbcall.h"
#include "duration.h"
#include "params.h"
#include "throttle.h"
#include "vl_names.h"

static json_t *
utc(time_t t)
{
	char buf[32];
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

json_t *
throttle_state_json(const struct throttle *t, long long max_rows_per_second)
{
	const struct throttle_report *r = throttle_report(t);
	json_t *reasons = json_array();

	for (size_t i = 0; i < r->nreasons; i++) {
		const struct throttle_reason *x = &r->reasons[i];
		json_array_append_new(
		        reasons, json_pack("{s:s, s:s, s:s, s:o, s:o}", "scope",
		                           x->scope, "kind", x->kind, "reason",
		                           x->text, "since", utc(x->since),
		                           "until", utc(x->until)));
	}
	return json_pack(
	        "{s:b, s:o, s:o, s:o, s:I}", "throttled", r->nreasons > 0,
	        "reasons", reasons, "load_value",
	        r->load_query && r->load_ok ? json_real(r->load_value)
	                                    : json_null(),
	        "load_error",
	        r->load_query && !r->load_ok
	                ? json_string(r->load_error[0] != '\0' ? r->load_error
	                                                       : "not run yet")
	                : json_null(),
	        "max_rows_per_second", (json_int_t)max_rows_per_second);
}

void
throttle_get(struct control_req *req, struct daemon *d, const void *args)
{
	(void)args;
	control_reply(req, json_pack("{s:o}", "throttle",
	                             throttle_state_json(
	                                     d->throttle,
	                                     d->cfg.max_rows_per_second)));
}

/* ---- ThrottleOn, ThrottleOff ---- */

struct on_args {
	const char *plan;
	const char *reason;
	const char *for_;
};

static const struct vl_field on_fields[] = {
        VL_FIELD_STRING("plan", 0, struct on_args, plan, 1, 200),
        VL_FIELD_STRING("reason", 0, struct on_args, reason, 0, 250),
        VL_FIELD_STRING("for", 0, struct on_args, for_, 1, 32),
        VL_FIELDS_END,
};
const struct vl_params throttle_on_params =
        VL_PARAMS(struct on_args, on_fields);

/* The change is stored: read the throttles again, then reply. */
static void
changed(struct dbcall *op, const PGresult *res)
{
	json_t *reply = json_object();
	json_t *removed = json_object_get(op->ctx, "removed");

	/* the rows the statement left: the throttles now */
	throttle_set_manual(op->d->throttle, res);
	json_object_set_new(
	        reply, "throttle",
	        throttle_state_json(op->d->throttle,
	                            op->d->cfg.max_rows_per_second));
	if (removed != NULL)
		json_object_set_new(
		        reply, "removed",
		        json_integer(PQntuples(res) > 0
		                             ? atoll(PQgetvalue(res, 0, 4))
		                             : json_integer_value(removed)));
	control_reply(op->req, reply);
}

static bool
known_plan(struct control_req *req, struct daemon *d, const char *plan)
{
	if (plan == NULL || catalog_find(d->plans, plan) != NULL)
		return true;
	control_error(req, VL_ERROR_NO_SUCH_PLAN,
	              json_pack("{s:s}", "name", plan));
	return false;
}

void
throttle_on(struct control_req *req, struct daemon *d, const void *args)
{
	const struct on_args *a = args;
	char uid[24], ms[24];
	long long for_ms = 0;
	const char *values[4] = {a->plan != NULL ? a->plan : "*",
	                         a->reason != NULL && a->reason[0] != '\0'
	                                 ? a->reason
	                                 : "no reason given",
	                         uid, NULL};

	if (!known_plan(req, d, a->plan))
		return;
	if (a->for_ != NULL &&
	    (duration_parse(a->for_, &for_ms) < 0 || for_ms == 0)) {
		control_error(
		        req, VL_ERROR_INVALID_PARAMETER_VALUE,
		        json_pack("{s:s, s:s}", "parameter", "for", "message",
		                  "expected a duration like 30s, 15m or 2h "
		                  "(at most 24h)"));
		return;
	}
	snprintf(uid, sizeof(uid), "%d", (int)control_peer_uid(req));
	snprintf(ms, sizeof(ms), "%lld", for_ms);
	values[3] = for_ms > 0 ? ms : NULL;
	dbcall(req, d,
	       "WITH ins AS (INSERT INTO migrated.throttles"
	       "  (scope, reason, uid, until) VALUES ($1, $2, $3::integer,"
	       "  now() + $4::bigint * interval '1 millisecond')"
	       "  ON CONFLICT (scope) DO UPDATE SET reason = excluded.reason,"
	       "  uid = excluded.uid, until = excluded.until, since = now()"
	       "  RETURNING *)"
	       " SELECT " THROTTLE_MANUAL_COLUMNS " FROM ("
	       "  SELECT * FROM migrated.throttles WHERE scope <> $1"
	       "  AND " THROTTLE_MANUAL_LIVE " UNION ALL SELECT * FROM ins) t"
	       " ORDER BY scope",
	       4, values, changed, json_object());
}

struct off_args {
	const char *plan;
};

static const struct vl_field off_fields[] = {
        VL_FIELD_STRING("plan", 0, struct off_args, plan, 1, 200),
        VL_FIELDS_END,
};
const struct vl_params throttle_off_params =
        VL_PARAMS(struct off_args, off_fields);

void
throttle_off(struct control_req *req, struct daemon *d, const void *args)
{
	const struct off_args *a = args;
	const char *values[1] = {a->plan != NULL ? a->plan : "*"};

	/* the throttles left, then a last row (scope NULL) with the count */
	dbcall(req, d,
	       "WITH del AS (DELETE FROM migrated.throttles WHERE scope = $1"
	       "  RETURNING 1), n AS (SELECT count(*) AS n FROM del)"
	       " SELECT " THROTTLE_MANUAL_COLUMNS
	       ", n.n FROM migrated.throttles,"
	       " n WHERE scope <> $1 AND " THROTTLE_MANUAL_LIVE
	       " UNION ALL SELECT NULL, NULL, NULL, NULL, n.n FROM n"
	       " ORDER BY 1 NULLS LAST",
	       1, values, changed, json_pack("{s:i}", "removed", 0));
}

/* ---- SetJob ---- */

struct set_args {
	long long id;
	long long batch_size;
	long long max_rows_per_second;
};

static const struct vl_field set_fields[] = {
        PARAMS_FIELD_ID("id", VL_REQUIRED, struct set_args, id),
        VL_FIELD_INT("batch_size", 0, struct set_args, batch_size, 1, 1000000,
                     0),
        VL_FIELD_INT("max_rows_per_second", 0, struct set_args,
                     max_rows_per_second, 0, 1000000000, -1),
        VL_FIELDS_END,
};
const struct vl_params throttle_set_job_params =
        VL_PARAMS(struct set_args, set_fields);

static void
set_done(struct dbcall *op, const PGresult *res)
{
	json_int_t id = json_integer_value(json_object_get(op->ctx, "id"));
	json_t *job;

	if (PQgetisnull(res, 0, 0)) {
		control_error(op->req, VL_ERROR_NO_SUCH_JOB,
		              json_pack("{s:I}", "id", id));
		return;
	}
	if (PQgetisnull(res, 0, 1)) {
		control_error(op->req, VL_ERROR_INVALID_JOB_STATE,
		              json_pack("{s:I, s:s}", "id", id, "state",
		                        PQgetvalue(res, 0, 0)));
		return;
	}
	job = dbcall_json_cell(res, 0, 1);
	/* the view read the row as it was before the statement changed it */
	json_object_set_new(job, "batch_size",
	                    json_integer(atoll(PQgetvalue(res, 0, 2))));
	json_object_set_new(job, "max_rows_per_second",
	                    json_integer(atoll(PQgetvalue(res, 0, 3))));
	control_reply(op->req, json_pack("{s:o}", "job", job));
}

void
throttle_set_job(struct control_req *req, struct daemon *d, const void *args)
{
	const struct set_args *a = args;
	char id[24], size[24], rps[24];
	const char *values[3] = {id, a->batch_size > 0 ? size : NULL,
	                         a->max_rows_per_second >= 0 ? rps : NULL};

	if (a->batch_size == 0 && a->max_rows_per_second < 0) {
		control_error(req, VL_ERROR_INVALID_PARAMETER_VALUE,
		              json_pack("{s:s, s:s}", "parameter", "batch_size",
		                        "message",
		                        "give batch_size, max_rows_per_second "
		                        "or both"));
		return;
	}
	snprintf(id, sizeof(id), "%lld", a->id);
	snprintf(size, sizeof(size), "%lld", a->batch_size);
	snprintf(rps, sizeof(rps), "%lld", a->max_rows_per_second);
	dbcall(req, d,
	       "WITH upd AS (UPDATE migrated.jobs SET"
	       "  batch_size = coalesce($2::integer, batch_size),"
	       "  max_rows_per_second = coalesce($3::integer,"
	       "   max_rows_per_second), updated = now()"
	       " WHERE id = $1::bigint"
	       "  AND state IN ('queued', 'running', 'paused')"
	       "  RETURNING id, batch_size, max_rows_per_second)"
	       " SELECT (SELECT state FROM migrated.jobs WHERE id = $1::bigint),"
	       "  (SELECT i.info FROM migrated.job_info i JOIN upd USING (id)),"
	       "  (SELECT batch_size FROM upd),"
	       "  (SELECT max_rows_per_second FROM upd)",
	       3, values, set_done,
	       json_pack("{s:I}", "id", (json_int_t)a->id));
}
