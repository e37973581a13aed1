#include "jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "jobends.h"
#include "log.h"
#include "pg.h"
#include "catalog.h"
#include "scheduler.h"
#include "store.h"
#include "databases.h"
#include "dbcall.h"
#include "params.h"
#include "submit.h"
#include "vl_dispatch.h"
#include "vl_names.h"

/* v as JSON text; NULL for NULL or null (an SQL NULL) */
static char *
dump(json_t *v)
{
	return v != NULL && !json_is_null(v)
	               ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)
	               : NULL;
}

/* ---- Submit ---- */

struct submit_args {
	const char *plan;
	json_t *tenants;
	bool all;
	json_t *steps;
	long long batch_size;
	long long priority;
	bool dry_run;
	bool skip_checks;
	json_t *pairs;
	json_t *params;
	bool fresh;
};

/* type Pair: checked here, read from the JSON by the statement */
struct submit_pair {
	const char *old_tenant;
	const char *new_tenant;
};

static const struct vl_field pair_fields[] = {
        VL_FIELD_STRING("old", VL_REQUIRED, struct submit_pair, old_tenant, 1,
                        PARAMS_MAX_TENANT),
        VL_FIELD_STRING("new", VL_REQUIRED, struct submit_pair, new_tenant, 1,
                        PARAMS_MAX_TENANT),
        VL_FIELDS_END,
};

static const struct vl_field submit_fields[] = {
        VL_FIELD_STRING("plan", VL_REQUIRED, struct submit_args, plan, 0, 0),
        PARAMS_FIELD_TENANTS(struct submit_args, tenants),
        VL_FIELD_BOOL("all", 0, struct submit_args, all),
        VL_FIELD_STRINGS("steps", 0, struct submit_args, steps, 1, 256),
        VL_FIELD_INT("batch_size", 0, struct submit_args, batch_size, 1,
                     PLAN_BATCH_MAX, 0),
        PARAMS_FIELD_PRIORITY(struct submit_args, priority),
        VL_FIELD_BOOL("dry_run", 0, struct submit_args, dry_run),
        VL_FIELD_BOOL("skip_checks", 0, struct submit_args, skip_checks),
        VL_FIELD_OBJECTS("pairs", 0, struct submit_args, pairs, pair_fields),
        VL_FIELD_STRING_MAP("params", 0, struct submit_args, params, 0, 0),
        VL_FIELD_BOOL("fresh", 0, struct submit_args, fresh),
        VL_FIELDS_END,
};
const struct vl_params jobs_submit_params =
        VL_PARAMS(struct submit_args, submit_fields);

/*
 * One statement, so that what it checks still holds when it inserts: one
 * job per tenant ($2) or pair ($9, old and new), duplicates collapsed,
 * none if any of them has an unfinished job of the plan (dup) or if a step
 * the job leaves out but needs ($12, [[step, after], ...]) was not done by
 * an earlier job of the same plan, tenant and pair (missing).
 */
static const char submit_sql[] =
        "WITH t AS ("
        "  SELECT tenant, pair, min(ord) AS ord FROM ("
        "   SELECT x AS tenant, NULL::text AS pair, ord"
        "   FROM json_array_elements_text($2::json) WITH ORDINALITY AS u(x, ord)"
        "   UNION ALL"
        "   SELECT p->>'old', p->>'new', ord"
        "   FROM json_array_elements($9::json) WITH ORDINALITY AS u(p, ord)) s"
        "  GROUP BY tenant, pair),"
        " dup AS ("
        "  SELECT j.id, j.tenant FROM migrated.jobs j JOIN t"
        "  ON j.tenant = t.tenant AND coalesce(j.pair, '') = coalesce(t.pair, '')"
        "  WHERE j.plan = $1 AND j.state IN ('queued', 'running', 'paused')"
        "  ORDER BY j.id LIMIT 1),"
        " need AS ("
        "  SELECT d->>0 AS step, d->>1 AS dep, ord"
        "  FROM json_array_elements($12::json) WITH ORDINALITY AS u(d, ord)),"
        " missing AS ("
        "  SELECT need.step, need.dep, t.tenant, t.pair FROM need CROSS JOIN t"
        "  WHERE NOT EXISTS (SELECT 1 FROM migrated.jobs j"
        "   JOIN migrated.job_steps js ON js.job_id = j.id"
        "   WHERE j.plan = $1 AND j.tenant = t.tenant"
        "   AND coalesce(j.pair, '') = coalesce(t.pair, '')"
        "   AND j.kind = 'migrate' AND j.state = 'succeeded' AND NOT j.dry_run"
        "   AND js.step = need.dep AND js.state = 'done'"
        /* a step a rollback restored (rollback --steps) is undone */
        "   AND NOT js.rolled_back)"
        "  ORDER BY need.ord, t.ord LIMIT 1),"
        " ins AS ("
        "  INSERT INTO migrated.jobs (plan, tenant, pair, priority, batch_size,"
        "   steps, dry_run, skip_checks, args, fresh)"
        "  SELECT $1, tenant, pair, $3::integer, $4::integer,"
        "   (SELECT array_agg(x) FROM json_array_elements_text($5::json) x),"
        "   $7::boolean, $8::boolean, $10::jsonb, $11::boolean"
        "  FROM t WHERE NOT EXISTS (SELECT 1 FROM dup)"
        "   AND NOT EXISTS (SELECT 1 FROM missing)"
        "  ORDER BY ord"
        "  RETURNING id),"
        " st AS ("
        "  INSERT INTO migrated.job_steps (job_id, step, ord)"
        "  SELECT ins.id, s.name, s.ord FROM ins CROSS JOIN"
        "   json_array_elements_text($6::json) WITH ORDINALITY AS s(name, ord))"
        "SELECT (SELECT coalesce(json_agg(id ORDER BY id), '[]') FROM ins),"
        " (SELECT id FROM dup), (SELECT tenant FROM dup),"
        " (SELECT step FROM missing), (SELECT dep FROM missing),"
        " (SELECT tenant FROM missing), (SELECT pair FROM missing)";

static void
submit_done(struct dbcall *op, const PGresult *res)
{
	json_t *ids = dbcall_json_cell(res, 0, 0);
	const char *plan = json_string_value(json_object_get(op->ctx, "plan"));

	if (!PQgetisnull(res, 0, 1)) {
		json_decref(ids);
		control_error(
		        op->req, VL_ERROR_JOB_EXISTS,
		        json_pack("{s:s, s:s, s:I}", "plan", plan, "tenant",
		                  PQgetvalue(res, 0, 2), "id",
		                  (json_int_t)atoll(PQgetvalue(res, 0, 1))));
		return;
	}
	if (!PQgetisnull(res, 0, 3)) {
		json_decref(ids);
		/* the first tenant (or pair) refused; pair is its NEW half */
		control_error(op->req, VL_ERROR_STEP_DEPENDENCY,
		              json_pack("{s:s, s:s, s:s, s:s, s:s*}", "plan",
		                        plan, "step", PQgetvalue(res, 0, 3),
		                        "after", PQgetvalue(res, 0, 4),
		                        "tenant", PQgetvalue(res, 0, 5), "pair",
		                        PQgetisnull(res, 0, 6)
		                                ? NULL
		                                : PQgetvalue(res, 0, 6)));
		return;
	}
	log_info("queued %zu job(s) of plan %s", json_array_size(ids), plan);
	scheduler_kick(op->d->sched);
	control_reply(op->req, json_pack("{s:o}", "jobs", ids));
}

/*
 * Inserts the jobs; ctx holds plan, tenants or pairs, priority, batch,
 * steps, run, dry_run, skip_checks, args, fresh and deps.
 */
static void
submit_insert(struct control_req *req, struct daemon *d, json_t *ctx)
{
	char prio[32], batch[32];
	char *tenants = dump(json_object_get(ctx, "tenants"));
	char *pairs = dump(json_object_get(ctx, "pairs"));
	char *steps = dump(json_object_get(ctx, "steps"));
	char *order = dump(json_object_get(ctx, "run"));
	char *args = dump(json_object_get(ctx, "args"));
	char *deps = dump(json_object_get(ctx, "deps"));
	const char *values[12];

	snprintf(prio, sizeof(prio), "%lld",
	         (long long)json_integer_value(
	                 json_object_get(ctx, "priority")));
	snprintf(batch, sizeof(batch), "%lld",
	         (long long)json_integer_value(json_object_get(ctx, "batch")));
	values[0] = json_string_value(json_object_get(ctx, "plan"));
	values[1] = tenants;
	values[2] = prio;
	values[3] = batch;
	values[4] = steps;
	values[5] = order;
	values[6] = json_is_true(json_object_get(ctx, "dry_run")) ? "t" : "f";
	values[7] =
	        json_is_true(json_object_get(ctx, "skip_checks")) ? "t" : "f";
	values[8] = pairs;
	values[9] = args;
	values[10] = json_is_true(json_object_get(ctx, "fresh")) ? "t" : "f";
	values[11] = deps;
	if ((tenants == NULL && pairs == NULL) || order == NULL ||
	    args == NULL || deps == NULL)
		dbcall_unavailable(req, "out of memory");
	else
		dbcall(req, d, submit_sql, 12, values, submit_done,
		       json_incref(ctx));
	free(tenants);
	free(pairs);
	free(steps);
	free(order);
	free(args);
	free(deps);
	json_decref(ctx);
}

static void
tenants_done(struct dbcall *op, const PGresult *res)
{
	json_t *tenants = json_array();
	int n = PQntuples(res);

	if (PQnfields(res) < 1) {
		json_decref(tenants);
		control_error(op->req, VL_ERROR_DATABASE_ERROR,
		              json_pack("{s:s, s:s}", "message",
		                        "the plan's tenants query returned no "
		                        "column",
		                        "sqlstate", ""));
		return;
	}
	for (int i = 0; i < n; i++) {
		if (PQgetisnull(res, i, 0))
			continue;
		if (PQgetlength(res, i, 0) > PARAMS_MAX_TENANT) {
			json_decref(tenants);
			control_error(
			        op->req, VL_ERROR_DATABASE_ERROR,
			        json_pack("{s:s, s:s}", "message",
			                  "the plan's tenants query returned a "
			                  "name over 1024 bytes",
			                  "sqlstate", ""));
			return;
		}
		json_array_append_new(tenants,
		                      json_string(PQgetvalue(res, i, 0)));
	}
	json_object_set_new(op->ctx, "tenants", tenants);
	submit_insert(op->req, op->d, json_incref(op->ctx));
}

void
jobs_submit(struct control_req *req, struct daemon *d, const void *args)
{
	const struct submit_args *a = args;
	const char *bad = NULL;
	const struct plan *plan;
	json_t *order, *deps;
	char msg[1024];

	if (params_tenants(a->tenants, a->pairs, a->all, &bad) < 0) {
		control_invalid_param(req, bad);
		return;
	}
	plan = catalog_find(d->plans, a->plan);
	if (plan == NULL) {
		control_error(req, VL_ERROR_NO_SUCH_PLAN,
		              json_pack("{s:s}", "name", a->plan));
		return;
	}
	order = catalog_run_order(plan, a->steps, &bad);
	if (order == NULL && bad != NULL) {
		control_error(
		        req, VL_ERROR_NO_SUCH_STEP,
		        json_pack("{s:s, s:s}", "plan", a->plan, "step", bad));
		return;
	}
	if (order == NULL) {
		dbcall_unavailable(req, "out of memory");
		return;
	}
	if (submit_check(plan, order, a->params, a->pairs != NULL, a->fresh,
	                 &bad, msg, sizeof(msg)) < 0) {
		json_decref(order);
		control_error(req, VL_ERROR_INVALID_PARAMETER_VALUE,
		              json_pack("{s:s, s:s}", "parameter", bad,
		                        "message", msg));
		return;
	}
	deps = submit_step_deps(plan, order);
	json_t *ctx = json_pack(
	        "{s:s, s:O?, s:O?, s:I, s:I, s:O?, s:o, s:b, s:b, s:o, s:b, "
	        "s:o?}",
	        "plan", a->plan, "tenants", a->tenants, "pairs", a->pairs,
	        "priority", (json_int_t)a->priority, "batch",
	        (json_int_t)a->batch_size, "steps", a->steps, "run", order,
	        "dry_run", a->dry_run, "skip_checks", a->skip_checks, "args",
	        a->params != NULL ? json_incref(a->params) : json_object(),
	        "fresh", a->fresh, "deps", deps);
	if (ctx == NULL || deps == NULL) {
		json_decref(ctx);
		dbcall_unavailable(req, "out of memory");
		return;
	}
	if (!a->all) {
		submit_insert(req, d, ctx);
		return;
	}
	if (plan->source != NULL) /* the tenants live in the legacy database */
		dbcall_on(req, d, databases_pg(d->dbs, plan->source),
		          plan->source, plan->tenants.stmt.text, 0, NULL,
		          tenants_done, ctx);
	else
		dbcall(req, d, plan->tenants.stmt.text, 0, NULL, tenants_done,
		       ctx);
}

/* ---- ListJobs, ShowJob ---- */

static const char list_sql[] =
        "SELECT coalesce(json_agg(info ORDER BY id DESC), '[]') FROM ("
        " SELECT id, info FROM migrated.job_info"
        " WHERE ($1::text IS NULL OR state = $1)"
        "  AND ($2::text IS NULL OR plan = $2)"
        "  AND ($3::text IS NULL OR tenant = $3)"
        "  AND ($4::bigint IS NULL OR id < $4)"
        " ORDER BY id DESC LIMIT $5::bigint) s";

static void
list_done(struct dbcall *op, const PGresult *res)
{
	/* a page of jobs can be large: pass PostgreSQL's JSON through */
	control_reply_member(op->req, "jobs", PQgetvalue(res, 0, 0));
}

struct list_args {
	const char *state, *plan, *tenant;
	long long limit, before;
};

static const struct vl_field list_fields[] = {
        VL_FIELD_STRING("state", 0, struct list_args, state, 0, 0),
        VL_FIELD_STRING("plan", 0, struct list_args, plan, 0, 0),
        VL_FIELD_STRING("tenant", 0, struct list_args, tenant, 0, 0),
        VL_FIELD_INT("limit", 0, struct list_args, limit, 1, 100000, 100),
        PARAMS_FIELD_ID("before", 0, struct list_args, before),
        VL_FIELDS_END,
};
const struct vl_params jobs_list_params =
        VL_PARAMS(struct list_args, list_fields);

void
jobs_list(struct control_req *req, struct daemon *d, const void *args)
{
	const struct list_args *a = args;
	char limit_s[32], before_s[32];
	const char *values[5];

	snprintf(limit_s, sizeof(limit_s), "%lld", a->limit);
	snprintf(before_s, sizeof(before_s), "%lld", a->before);
	values[0] = a->state;
	values[1] = a->plan;
	values[2] = a->tenant;
	values[3] = a->before > 0 ? before_s : NULL;
	values[4] = limit_s;
	dbcall(req, d, list_sql, 5, values, list_done, NULL);
}

/*
 * Each step's batch_size: the size its batches run with (the job's, the
 * step's or the daemon's), null when this daemon has not loaded the plan
 * or the step.
 */
static void
add_batch_sizes(const struct daemon *d, json_t *job)
{
	const char *name = json_string_value(json_object_get(job, "plan"));
	const struct plan *plan =
	        name != NULL ? catalog_find(d->plans, name) : NULL;
	long long asked =
	        json_integer_value(json_object_get(job, "batch_size"));
	size_t i;
	json_t *step;

	json_array_foreach(json_object_get(job, "steps"), i, step)
	{
		const char *sname =
		        json_string_value(json_object_get(step, "name"));
		const struct plan_step *ps =
		        plan != NULL && sname != NULL
		                ? plan_step_find(plan, sname)
		                : NULL;
		if (json_is_integer(json_object_get(step, "batch_size")))
			continue; /* the size a running step uses (pacing) */
		json_object_set_new(
		        step, "batch_size",
		        ps != NULL ? json_integer((json_int_t)plan_batch_size(
		                             ps, asked, d->cfg.batch_size))
		                   : json_null());
	}
}

static void
show_done(struct dbcall *op, const PGresult *res)
{
	if (PQntuples(res) == 0) {
		control_error(op->req, VL_ERROR_NO_SUCH_JOB,
		              json_pack("{s:O}", "id",
		                        json_object_get(op->ctx, "id")));
		return;
	}
	json_t *job = dbcall_json_cell(res, 0, 0);

	add_batch_sizes(op->d, job);
	control_reply(op->req, json_pack("{s:o}", "job", job));
}

struct show_args {
	long long id;
};

static const struct vl_field show_fields[] = {
        PARAMS_FIELD_ID("id", VL_REQUIRED, struct show_args, id),
        VL_FIELDS_END,
};
const struct vl_params jobs_show_params =
        VL_PARAMS(struct show_args, show_fields);

void
jobs_show(struct control_req *req, struct daemon *d, const void *args)
{
	const struct show_args *a = args;
	char id_s[32];
	const char *values[1] = {id_s};

	snprintf(id_s, sizeof(id_s), "%lld", a->id);
	dbcall(req, d,
	       "SELECT info FROM migrated.job_info WHERE id = $1::bigint", 1,
	       values, show_done, json_pack("{s:I}", "id", (json_int_t)a->id));
}

/* ---- Pause, Resume, Cancel, Retry ---- */

struct transition {
	const char *to;
	const char *from; /* a text[] literal of our own constants */
};

static const char transition_sql[] =
        "WITH want AS ("
        "  SELECT x::bigint AS id FROM json_array_elements_text($1::json) x),"
        " bad AS ("
        "  SELECT w.id, j.state FROM want w LEFT JOIN migrated.jobs j USING (id)"
        "  WHERE j.id IS NULL OR NOT (j.state = ANY ($3::text[]))"
        "  ORDER BY w.id LIMIT 1),"
        " busy AS ("
        "  SELECT w.id, a.id AS other, a.plan, a.tenant FROM want w"
        "  JOIN migrated.jobs j USING (id) JOIN migrated.jobs a"
        "  ON a.plan = j.plan AND a.tenant = j.tenant AND a.id <> j.id"
        "  WHERE $2 = 'queued' AND j.state IN ('failed', 'cancelled')"
        "  AND a.state IN ('queued', 'running', 'paused')"
        "  ORDER BY w.id LIMIT 1),"
        " upd AS ("
        "  UPDATE migrated.jobs j SET state = $2, updated = now(),"
        "   finished = CASE WHEN $2 = 'cancelled' THEN now() ELSE NULL END,"
        "   error = CASE WHEN $2 = 'queued' THEN NULL ELSE j.error END"
        "  WHERE j.state = ANY ($3::text[]) AND NOT EXISTS (SELECT 1 FROM bad)"
        "   AND NOT EXISTS (SELECT 1 FROM busy)"
        "   AND ($1::json IS NULL OR j.id IN (SELECT id FROM want))"
        /* all: one unfinished job per plan and tenant, so Retry skips a
         * job whose tenant has an unfinished one, or a newer one to retry */
        "   AND ($1::json IS NOT NULL OR NOT EXISTS (SELECT 1"
        "    FROM migrated.jobs a WHERE a.plan = j.plan"
        "    AND a.tenant = j.tenant AND a.id <> j.id"
        "    AND (a.state IN ('queued', 'running', 'paused')"
        "     OR (a.state = ANY ($3::text[]) AND a.id > j.id))))"
        "  RETURNING j.id),"
        /* a cancel ends jobs: watches hear it in this transaction */
        " ended AS (SELECT pg_notify('" JOBENDS_CHANNEL "', id::text)"
        "  FROM upd WHERE $2 = 'cancelled')"
        "SELECT (SELECT coalesce(json_agg(id ORDER BY id), '[]') FROM upd),"
        " (SELECT id FROM bad), (SELECT state FROM bad),"
        " (SELECT other FROM busy), (SELECT plan FROM busy),"
        " (SELECT tenant FROM busy), (SELECT count(*) FROM ended)";

static void
transition_done(struct dbcall *op, const PGresult *res)
{
	json_t *ids = dbcall_json_cell(res, 0, 0);
	const char *to = json_string_value(json_object_get(op->ctx, "to"));
	bool stopping = to == NULL || strcmp(to, "paused") == 0 ||
	                strcmp(to, "cancelled") == 0;
	long long stop[64];
	size_t i;
	json_t *v;
	int n = 0;

	if (!PQgetisnull(res, 0, 3)) {
		json_decref(ids);
		control_error(
		        op->req, VL_ERROR_JOB_EXISTS,
		        json_pack("{s:s, s:s, s:I}", "plan",
		                  PQgetvalue(res, 0, 4), "tenant",
		                  PQgetvalue(res, 0, 5), "id",
		                  (json_int_t)atoll(PQgetvalue(res, 0, 3))));
		return;
	}
	if (!PQgetisnull(res, 0, 1)) {
		json_int_t id = atoll(PQgetvalue(res, 0, 1));
		json_decref(ids);
		if (PQgetisnull(res, 0, 2))
			control_error(op->req, VL_ERROR_NO_SUCH_JOB,
			              json_pack("{s:I}", "id", id));
		else
			control_error(op->req, VL_ERROR_INVALID_JOB_STATE,
			              json_pack("{s:I, s:s}", "id", id, "state",
			                        PQgetvalue(res, 0, 2)));
		return;
	}
	/* tell local runners at once; the batch guard covers other daemons.
	 * Only a pause or cancel stops a run: jobs resumed or retried are
	 * queued, and a runner may already have claimed one again */
	json_array_foreach(ids, i, v)
	{
		if (!stopping)
			break;
		stop[n++] = json_integer_value(v);
		if (n == 64) {
			scheduler_stop_jobs(op->d->sched, stop, n);
			n = 0;
		}
	}
	scheduler_stop_jobs(op->d->sched, stop, n);
	scheduler_kick(op->d->sched);
	log_info("%s: %zu job(s) now %s", control_call(op->req)->method,
	         json_array_size(ids),
	         json_string_value(json_object_get(op->ctx, "to")));
	control_reply(op->req, json_pack("{s:o}", "jobs", ids));
}

struct select_args {
	json_t *ids;
	bool all;
};

static const struct vl_field select_fields[] = {
        VL_FIELD_INTS("ids", 0, struct select_args, ids, 1, INT64_MAX),
        VL_FIELD_BOOL("all", 0, struct select_args, all),
        VL_FIELDS_END,
};
const struct vl_params jobs_select_params =
        VL_PARAMS(struct select_args, select_fields);

static void
transition(struct control_req *req, struct daemon *d, const void *args,
           const struct transition *t)
{
	const struct select_args *a = args;
	const char *values[3];
	char *ids_s = NULL;

	if (a->all == (a->ids != NULL) ||
	    (a->ids != NULL && json_array_size(a->ids) == 0)) {
		control_invalid_param(req, "ids");
		return;
	}
	if (a->ids != NULL)
		ids_s = dump(a->ids);
	values[0] = ids_s;
	values[1] = t->to;
	values[2] = t->from;
	dbcall(req, d, transition_sql, 3, values, transition_done,
	       json_pack("{s:s}", "to", t->to));
	free(ids_s);
}

void
jobs_pause(struct control_req *req, struct daemon *d, const void *args)
{
	static const struct transition t = {"paused", "{queued,running}"};
	transition(req, d, args, &t);
}

void
jobs_resume(struct control_req *req, struct daemon *d, const void *args)
{
	static const struct transition t = {"queued", "{paused}"};
	transition(req, d, args, &t);
}

void
jobs_cancel(struct control_req *req, struct daemon *d, const void *args)
{
	static const struct transition t = {"cancelled",
	                                    "{queued,running,paused}"};
	transition(req, d, args, &t);
}

void
jobs_retry(struct control_req *req, struct daemon *d, const void *args)
{
	static const struct transition t = {"queued", "{failed,cancelled}"};
	transition(req, d, args, &t);
}
