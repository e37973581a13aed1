#include "overview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "daemon.h"
#include "dbcall.h"
#include "log.h"
#include "pg.h"
#include "rates.h"
#include "scheduler.h"
#include "store.h"
#include "throttle.h"
#include "vl_names.h"

struct overview {
	struct daemon *d;
	struct rates *rates;
	struct event *timer;
	bool sampling;
};

/* One row per plan: plan, tenants {state: n}, steps [{...}] in order. */
static const char overview_sql[] =
        "WITH latest AS ("
        "  SELECT DISTINCT ON (plan, tenant) id, plan, state"
        "  FROM migrated.jobs"
        "  WHERE kind = 'migrate' AND NOT dry_run"
        "   AND ($1::text IS NULL OR plan = $1)"
        "  ORDER BY plan, tenant, id DESC),"
        " states AS ("
        "  SELECT plan, json_object_agg(state, n) AS tenants"
        "  FROM (SELECT plan, state, count(*) AS n FROM latest"
        "   GROUP BY 1, 2) c GROUP BY plan),"
        " steps AS ("
        "  SELECT l.plan, s.step, min(s.ord) AS ord,"
        "   sum(s.rows_done) AS done, sum(s.rows_estimated) AS est,"
        "   count(*) FILTER (WHERE s.state = 'done') AS tdone"
        "  FROM latest l JOIN migrated.job_steps s ON s.job_id = l.id"
        "  GROUP BY 1, 2)"
        "SELECT st.plan, st.tenants, coalesce((SELECT json_agg("
        "  json_build_object('name', p.step, 'rows_done', p.done,"
        "   'rows_estimated', p.est, 'tenants_done', p.tdone)"
        "  ORDER BY p.ord, p.step) FROM steps p WHERE p.plan = st.plan),"
        "  '[]')"
        " FROM states st ORDER BY st.plan";

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sample(struct overview *o, const char *key, double t, long long rows)
{
	if (rates_add(o->rates, key, t, rows) < 0)
		log_debug("progress rate: out of memory");
}

/* Adds rows_per_sec and eta_sec to obj (which has rows_done, _estimated). */
static void
add_rate(const struct overview *o, json_t *obj, const char *key)
{
	double rate = rates_get(o->rates, key, now_sec(), OVERVIEW_WINDOW_SEC);
	long long done = json_integer_value(json_object_get(obj, "rows_done"));
	long long est =
	        json_integer_value(json_object_get(obj, "rows_estimated"));

	json_object_set_new(obj, "rows_per_sec",
	                    rate >= 0 ? json_real(rate) : json_null());
	json_object_set_new(
	        obj, "eta_sec",
	        rate > 0 && est > done
	                ? json_integer(
	                          (json_int_t)((double)(est - done) / rate +
	                                       0.5))
	                : json_null());
}

/* type JobCounts from {state: n} (states absent are 0) */
static json_t *
job_counts(const json_t *got)
{
	json_t *c = json_object();

#define COUNT(state)                                                           \
	json_object_set_new(c, #state,                                         \
	                    json_integer(json_integer_value(                   \
	                            json_object_get(got, #state))));
	VL_JOB_STATES(COUNT)
#undef COUNT
	return c;
}

/* What holds plan's jobs back now (every plan's reasons and its own). */
static json_t *
throttled_for(const struct throttle *t, const char *plan)
{
	const struct throttle_report *r = t != NULL ? throttle_report(t) : NULL;
	json_t *out = json_array();

	for (size_t i = 0; r != NULL && out != NULL && i < r->nreasons; i++)
		if (strcmp(r->reasons[i].scope, "*") == 0 ||
		    strcmp(r->reasons[i].scope, plan) == 0)
			json_array_append_new(out,
			                      json_string(r->reasons[i].text));
	return out;
}

/*
 * The plans of res as []PlanOverview; samples the counters at t (the
 * total too when all is set: res holds every plan).
 */
static json_t *
absorb(struct overview *o, const PGresult *res, double t, bool all)
{
	json_t *plans = json_array();
	long long total = 0;

	for (int i = 0; i < PQntuples(res); i++) {
		const char *name = PQgetvalue(res, i, 0);
		json_t *tenants = dbcall_json_cell(res, i, 1);
		json_t *steps = dbcall_json_cell(res, i, 2);
		long long done = 0, est = 0;
		size_t j;
		json_t *step;
		char *key;

		json_array_foreach(steps, j, step)
		{
			long long sd = json_integer_value(
			        json_object_get(step, "rows_done"));
			done += sd;
			est += json_integer_value(
			        json_object_get(step, "rows_estimated"));
			if (asprintf(&key, "%s\x1f%s", name,
			             json_string_value(json_object_get(
			                     step, "name"))) < 0)
				continue;
			sample(o, key, t, sd);
			add_rate(o, step, key);
			free(key);
		}
		sample(o, name, t, done);
		total += done;
		json_t *plan = json_pack(
		        "{s:s, s:o, s:I, s:I, s:o, s:o}", "plan", name,
		        "tenants", job_counts(tenants), "rows_done",
		        (json_int_t)done, "rows_estimated", (json_int_t)est,
		        "steps", steps != NULL ? steps : json_array(),
		        "throttled", throttled_for(o->d->throttle, name));
		json_decref(tenants);
		if (plan == NULL)
			continue;
		add_rate(o, plan, name);
		json_array_append_new(plans, plan);
	}
	if (all)
		sample(o, "", t, total);
	return plans;
}

static void
on_sampled(void *arg, const PGresult *res, const char *error)
{
	struct overview *o = arg;

	(void)error;
	o->sampling = false;
	if (res == NULL || !pg_result_ok(res))
		return;
	json_decref(absorb(o, res, now_sec(), true));
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct overview *o = arg;
	const char *values[1] = {NULL};

	(void)fd;
	(void)what;
	/* nothing runs, nothing moves: spare the store's connection (the
	 * rates go unknown once their last sample is a window old) */
	if (o->sampling || !store_ready(o->d->store) ||
	    scheduler_counts(o->d->sched)->running == 0)
		return;
	if (pg_query(store_conn(o->d->store), overview_sql, 1, values,
	             on_sampled, o) == 0)
		o->sampling = true;
}

struct overview *
overview_new(struct daemon *d)
{
	struct overview *o = calloc(1, sizeof(*o));
	struct timeval tv = {OVERVIEW_SAMPLE_SEC, 0};

	if (o == NULL)
		return NULL;
	o->d = d;
	o->rates = rates_new();
	o->timer = event_new(d->base, -1, EV_PERSIST, on_timer, o);
	if (o->rates == NULL || o->timer == NULL ||
	    event_add(o->timer, &tv) < 0) {
		overview_free(o);
		return NULL;
	}
	return o;
}

void
overview_free(struct overview *o)
{
	if (o == NULL)
		return;
	if (o->timer != NULL)
		event_free(o->timer);
	rates_free(o->rates);
	free(o);
}

double
overview_rate(const struct overview *o)
{
	return rates_get(o->rates, "", now_sec(), OVERVIEW_WINDOW_SEC);
}

/* ---- GetPlanProgress ---- */

struct overview_args {
	const char *plan;
};

static const struct vl_field overview_fields[] = {
        VL_FIELD_STRING("plan", 0, struct overview_args, plan, 1, 255),
        VL_FIELDS_END,
};
const struct vl_params overview_params =
        VL_PARAMS(struct overview_args, overview_fields);

static void
overview_done(struct dbcall *call, const PGresult *res)
{
	const char *plan =
	        json_string_value(json_object_get(call->ctx, "plan"));
	json_t *plans;

	if (plan != NULL && PQntuples(res) == 0 &&
	    catalog_find(call->d->plans, plan) == NULL) {
		control_error(call->req, VL_ERROR_NO_SUCH_PLAN,
		              json_pack("{s:s}", "name", plan));
		return;
	}
	plans = absorb(call->d->overview, res, now_sec(), plan == NULL);
	control_reply(call->req, json_pack("{s:o}", "plans", plans));
}

void
overview_method(struct control_req *req, struct daemon *d, const void *args)
{
	const char *plan = ((const struct overview_args *)args)->plan;
	const char *values[1] = {plan};

	dbcall(req, d, overview_sql, 1, values, overview_done,
	       json_pack("{s:s?}", "plan", plan));
}
