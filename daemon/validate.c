#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "checks.h"
#include "compare.h"
#include "daemon.h"
#include "dbcall.h"
#include "params.h"
#include "pg.h"
#include "store.h"
#include "vl_names.h"

/*
 * One Validate or Verify call: the plan it runs and where it is. The
 * plan's SQL runs on a connection of the call's own, so a slow check never
 * waits in line with (or holds up) the daemon's other calls.
 */
struct run {
	struct control_req *req;
	struct daemon *d;
	struct pg_conn *conn;
	struct event *reap;           /* frees the run on the next loop turn */
	void (*start)(struct run *r); /* once conn is ready */
	bool started, ended;
	struct catalog *cat; /* keeps plan alive across a reload */
	const struct plan *plan;
	json_t *tenants; /* Validate: still to check */
	size_t next;
	json_t *results; /* Validate: one entry per tenant */
	json_t *job;     /* Verify: the job's id, plan, tenant, ... */
	bool compare;    /* Verify, VerifyPlan: compare = true */
	/* VerifyPlan: tenants holds the jobs to verify, results their
	 * JobVerifications; entry is the one a compare is completing */
	json_t *entry;
	struct compare *compare_run;
	bool failed;
};

static void
run_free(struct run *r)
{
	pg_conn_free(r->conn); /* its pending callbacks see r->ended */
	if (r->reap != NULL)
		event_free(r->reap);
	catalog_unref(r->cat);
	json_decref(r->tenants);
	json_decref(r->results);
	json_decref(r->job);
	json_decref(r->entry);
	free(r);
}

static void
on_reap(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_free(arg);
}

/* The call has been answered: the run goes, never inside its connection's
 * callbacks. */
static void
run_end(struct run *r)
{
	r->ended = true;
	event_active(r->reap, 0, 0);
}

static void
on_run_state(void *arg, enum pg_state state, const char *error)
{
	struct run *r = arg;

	if (r->ended)
		return;
	if (state == PG_READY && !r->started) {
		r->started = true;
		r->start(r);
	} else if (state == PG_DISCONNECTED) {
		dbcall_unavailable(r->req, error);
		run_end(r);
	}
}

/* Connects, then calls start; false when the call was answered already. */
static bool
run_connect(struct run *r, void (*start)(struct run *r))
{
	r->start = start;
	r->reap = event_new(r->d->base, -1, 0, on_reap, r);
	r->conn = r->reap != NULL
	                  ? pg_conn_new(r->d->base, r->d->cfg.target_conninfo,
	                                "migrated validate", on_run_state, r)
	                  : NULL;
	if (r->conn == NULL) {
		dbcall_unavailable(r->req, "out of memory");
		run_free(r);
		return false;
	}
	return true;
}

static struct run *
run_new(struct control_req *req, struct daemon *d, const char *plan)
{
	struct run *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		dbcall_unavailable(req, "out of memory");
		return NULL;
	}
	r->req = req;
	r->d = d;
	r->cat = catalog_ref(d->plans);
	r->plan = catalog_find(r->cat, plan);
	r->results = json_array();
	if (r->plan == NULL) {
		control_error(req, VL_ERROR_NO_SUCH_PLAN,
		              json_pack("{s:s}", "name", plan));
		catalog_unref(r->cat);
		json_decref(r->results);
		free(r);
		return NULL;
	}
	return r;
}

/* ---- Validate ---- */

static void validate_next(struct run *r);

static void
on_tenant_checked(void *arg, const struct checks_outcome *out)
{
	struct run *r = arg;
	const char *tenant =
	        json_string_value(json_array_get(r->tenants, r->next));

	if (r->ended)
		return;
	if (out->unavailable) {
		dbcall_unavailable(r->req, out->error);
		run_end(r);
		return;
	}
	json_array_append_new(
	        r->results,
	        json_pack("{s:s, s:b, s:s?, s:O}", "tenant", tenant, "ok",
	                  !out->failed && out->error == NULL, "error",
	                  out->error, "checks", out->results));
	r->next++;
	validate_next(r);
}

static void
validate_next(struct run *r)
{
	const char *tenant;

	if (r->next == json_array_size(r->tenants)) {
		control_reply(r->req,
		              json_pack("{s:O}", "results", r->results));
		run_end(r);
		return;
	}
	tenant = json_string_value(json_array_get(r->tenants, r->next));
	if (checks_run(r->conn, r->plan, r->plan->checks, r->plan->nchecks,
	               tenant, NULL, on_tenant_checked, r) < 0) {
		dbcall_unavailable(r->req, pg_conn_error(r->conn));
		run_end(r);
	}
}

static void
on_all_tenants(void *arg, const PGresult *res, const char *error)
{
	struct run *r = arg;
	char buf[512];

	if (r->ended)
		return;
	if (res == NULL || !pg_result_ok(res)) {
		dbcall_unavailable(
		        r->req,
		        res == NULL ? error
		                    : pg_result_error(res, buf, sizeof(buf)));
		run_end(r);
		return;
	}
	r->tenants = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		if (!PQgetisnull(res, i, 0))
			json_array_append_new(
			        r->tenants, json_string(PQgetvalue(res, i, 0)));
	validate_next(r);
}

static void
validate_start(struct run *r)
{
	if (r->tenants != NULL) {
		validate_next(r);
		return;
	}
	if (pg_query(r->conn, r->plan->tenants.stmt.text, 0, NULL,
	             on_all_tenants, r) < 0) {
		dbcall_unavailable(r->req, pg_conn_error(r->conn));
		run_end(r);
	}
}

struct validate_args {
	const char *plan;
	json_t *tenants;
	bool all;
};

static const struct vl_field validate_fields[] = {
        VL_FIELD_STRING("plan", VL_REQUIRED, struct validate_args, plan, 0, 0),
        PARAMS_FIELD_TENANTS(struct validate_args, tenants),
        VL_FIELD_BOOL("all", 0, struct validate_args, all),
        VL_FIELDS_END,
};
const struct vl_params validate_params =
        VL_PARAMS(struct validate_args, validate_fields);

void
validate_method(struct control_req *req, struct daemon *d, const void *args)
{
	const struct validate_args *a = args;
	const char *bad = NULL;
	struct run *r;

	if (params_tenants(a->tenants, NULL, a->all, &bad) < 0) {
		control_invalid_param(req, bad);
		return;
	}
	if (!store_ready(d->store)) {
		dbcall_unavailable(req, store_error(d->store));
		return;
	}
	r = run_new(req, d, a->plan);
	if (r == NULL)
		return;
	if (a->tenants != NULL)
		r->tenants = json_incref(a->tenants);
	(void)run_connect(r, validate_start);
}

/* ---- Verify ---- */

static void
on_verified(void *arg, const struct checks_outcome *out)
{
	struct run *r = arg;
	json_t *results = out->results;
	bool failed = out->failed;
	const char *error = out->error;

	if (r->ended)
		return;
	if (out->unavailable) {
		dbcall_unavailable(r->req, error);
	} else if (error != NULL) {
		control_error(r->req, VL_ERROR_DATABASE_ERROR,
		              json_pack("{s:s, s:s}", "message", error,
		                        "sqlstate", ""));
	} else {
		json_t *reply =
		        json_pack("{s:O, s:O, s:O, s:b, s:O}", "job",
		                  json_object_get(r->job, "id"), "plan",
		                  json_object_get(r->job, "plan"), "tenant",
		                  json_object_get(r->job, "tenant"), "ok",
		                  !failed, "checks", results);
		if (r->compare)
			compare_verify(r->req, r->d, r->cat, r->plan, r->job,
			               reply);
		else
			control_reply(r->req, reply);
	}
	run_end(r);
}

static void
verify_start(struct run *r)
{
	json_t *params = json_object_get(r->job, "params");

	if (checks_run(r->conn, r->plan, r->plan->verifies, r->plan->nverifies,
	               json_string_value(json_object_get(r->job, "tenant")),
	               json_is_object(params) ? params : NULL, on_verified,
	               r) < 0) {
		dbcall_unavailable(r->req, pg_conn_error(r->conn));
		run_end(r);
	}
}

static void
job_found(struct dbcall *call, const PGresult *res)
{
	json_t *job = dbcall_json_cell(res, 0, 0);
	struct run *r;

	if (!json_is_object(job)) {
		json_decref(job);
		if (json_is_integer(json_object_get(call->ctx, "id")))
			control_error(
			        call->req, VL_ERROR_NO_SUCH_JOB,
			        json_pack("{s:O}", "id",
			                  json_object_get(call->ctx, "id")));
		else
			control_error(call->req, VL_ERROR_NO_SUCH_JOB,
			              json_pack("{s:i}", "id", 0));
		return;
	}
	r = run_new(call->req, call->d,
	            json_string_value(json_object_get(job, "plan")));
	if (r == NULL) {
		json_decref(job);
		return;
	}
	r->job = job;
	r->compare = json_is_true(json_object_get(call->ctx, "compare"));
	(void)run_connect(r, verify_start);
}

struct verify_args {
	long long id;
	const char *plan, *tenant;
	bool compare;
};

static const struct vl_field verify_fields[] = {
        PARAMS_FIELD_ID("id", 0, struct verify_args, id),
        VL_FIELD_STRING("plan", 0, struct verify_args, plan, 0, 0),
        VL_FIELD_STRING("tenant", 0, struct verify_args, tenant, 0, 0),
        VL_FIELD_BOOL("compare", 0, struct verify_args, compare),
        VL_FIELDS_END,
};
const struct vl_params verify_params =
        VL_PARAMS(struct verify_args, verify_fields);

void
verify_method(struct control_req *req, struct daemon *d, const void *args)
{
	const struct verify_args *a = args;
	const char *bad = NULL;
	long long id = a->id;
	char id_s[24];
	const char *values[3];

	if (params_job_ref(id, a->plan, a->tenant, &bad) < 0) {
		control_invalid_param(req, bad);
		return;
	}
	snprintf(id_s, sizeof(id_s), "%lld", id);
	values[0] = id > 0 ? id_s : NULL;
	values[1] = a->plan;
	values[2] = a->tenant;
	dbcall(req, d,
	       "SELECT json_build_object('id', id, 'plan', plan, 'tenant',"
	       " tenant, 'params', params, 'pair', pair, 'args', args,"
	       " 'steps', steps) FROM migrated.jobs"
	       " WHERE ($1::bigint IS NOT NULL AND id = $1)"
	       " OR ($1::bigint IS NULL AND plan = $2 AND tenant = $3"
	       "  AND kind = 'migrate' AND NOT dry_run)"
	       " ORDER BY id DESC LIMIT 1",
	       3, values, job_found,
	       id > 0 ? json_pack("{s:I, s:b}", "id", (json_int_t)id, "compare",
	                          a->compare)
	              : json_pack("{s:b}", "compare", a->compare));
}

/* ---- VerifyPlan ---- */

static void verify_plan_next(struct run *r);

static void
on_plan_cancel(struct control_req *req, void *arg)
{
	struct run *r = arg;

	compare_cancel(r->compare_run);
	dbcall_unavailable(req, "compare stopped: the client went away or "
	                        "the daemon is stopping");
	r->ended = true; /* not inside its connection's callbacks: free now */
	run_free(r);
}

/* Appends the current job's verification and goes on with the next. */
static void
plan_job_done(struct run *r, json_t *entry)
{
	if (!json_is_true(json_object_get(entry, "ok")))
		r->failed = true;
	json_array_append_new(r->results, entry);
	r->next++;
	verify_plan_next(r);
}

static void
on_plan_compared(void *arg, const struct compare_outcome *out)
{
	struct run *r = arg;
	json_t *entry = r->entry;

	r->entry = NULL;
	r->compare_run = NULL;
	control_on_cancel(r->req, NULL, NULL);
	if (out->error != NULL) {
		json_object_set_new(entry, "ok", json_false());
		json_object_set_new(entry, "error", json_string(out->error));
	} else {
		json_object_set(entry, "compare", out->steps);
		if (!out->ok)
			json_object_set_new(entry, "ok", json_false());
	}
	plan_job_done(r, entry);
}

static void
on_plan_verified(void *arg, const struct checks_outcome *out)
{
	struct run *r = arg;
	json_t *job = json_array_get(r->tenants, r->next);
	struct compare_job cj = {
	        .id = json_integer_value(json_object_get(job, "id")),
	        .plan = r->plan,
	        .tenant = json_string_value(json_object_get(job, "tenant")),
	        .pair = json_string_value(json_object_get(job, "pair")),
	        .params = json_object_get(job, "params"),
	        .args = json_object_get(job, "args"),
	        .steps = json_object_get(job, "steps"),
	};
	json_t *entry;

	if (r->ended)
		return;
	if (out->unavailable) {
		dbcall_unavailable(r->req, out->error);
		run_end(r);
		return;
	}
	entry = json_pack("{s:O, s:O, s:O?, s:b, s:s?, s:O}", "job",
	                  json_object_get(job, "id"), "tenant",
	                  json_object_get(job, "tenant"), "pair",
	                  json_object_get(job, "pair"), "ok",
	                  !out->failed && out->error == NULL, "error",
	                  out->error, "checks", out->results);
	if (!r->compare || out->error != NULL) {
		plan_job_done(r, entry);
		return;
	}
	r->entry = entry;
	r->compare_run =
	        compare_job(r->d->base, &r->d->cfg, &cj, on_plan_compared, r);
	if (r->compare_run == NULL) {
		dbcall_unavailable(r->req, "out of memory");
		run_end(r);
		return;
	}
	control_on_cancel(r->req, on_plan_cancel, r);
}

static void
verify_plan_next(struct run *r)
{
	json_t *job = json_array_get(r->tenants, r->next);
	json_t *params;

	if (job == NULL) {
		control_reply(r->req, json_pack("{s:b, s:O}", "ok", !r->failed,
		                                "results", r->results));
		run_end(r);
		return;
	}
	params = json_object_get(job, "params");
	if (checks_run(r->conn, r->plan, r->plan->verifies, r->plan->nverifies,
	               json_string_value(json_object_get(job, "tenant")),
	               json_is_object(params) ? params : NULL, on_plan_verified,
	               r) < 0) {
		dbcall_unavailable(r->req, pg_conn_error(r->conn));
		run_end(r);
	}
}

static void
on_plan_jobs(void *arg, const PGresult *res, const char *error)
{
	struct run *r = arg;
	char buf[512];

	if (res == NULL || !pg_result_ok(res)) {
		dbcall_unavailable(
		        r->req,
		        res == NULL ? error
		                    : pg_result_error(res, buf, sizeof(buf)));
		run_free(r);
		return;
	}
	r->tenants = dbcall_json_cell(res, 0, 0);
	if (!json_is_array(r->tenants)) {
		dbcall_unavailable(r->req, "the jobs query returned no list");
		run_free(r);
		return;
	}
	/* the plan's SQL on a connection of the call's own, as Verify's */
	(void)run_connect(r, verify_plan_next);
}

struct verify_plan_args {
	const char *plan;
	bool compare;
};

static const struct vl_field verify_plan_fields[] = {
        VL_FIELD_STRING("plan", VL_REQUIRED, struct verify_plan_args, plan, 0,
                        0),
        VL_FIELD_BOOL("compare", 0, struct verify_plan_args, compare),
        VL_FIELDS_END,
};
const struct vl_params verify_plan_params =
        VL_PARAMS(struct verify_plan_args, verify_plan_fields);

void
verify_plan_method(struct control_req *req, struct daemon *d, const void *args)
{
	const struct verify_plan_args *a = args;
	const char *values[1] = {a->plan};
	struct run *r;

	if (!store_ready(d->store)) {
		dbcall_unavailable(req, store_error(d->store));
		return;
	}
	r = run_new(req, d, a->plan);
	if (r == NULL)
		return;
	r->compare = a->compare;
	/* the latest finished job of each tenant and pair, in tenant order */
	if (pg_query(
	            store_conn(d->store),
	            "SELECT coalesce(json_agg(json_build_object('id', id,"
	            " 'tenant', tenant, 'params', params, 'pair', pair,"
	            " 'args', args, 'steps', steps) ORDER BY tenant, pair), '[]')"
	            " FROM (SELECT DISTINCT ON (tenant, coalesce(pair, ''))"
	            "  * FROM migrated.jobs WHERE plan = $1 AND kind = 'migrate'"
	            "  AND NOT dry_run"
	            "  AND state IN ('succeeded', 'failed', 'cancelled')"
	            "  ORDER BY tenant, coalesce(pair, ''), id DESC) j",
	            1, values, on_plan_jobs, r) < 0) {
		dbcall_unavailable(req, store_error(d->store));
		run_free(r);
	}
}
