#include "throttle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "daemon.h"
#include "log.h"
#include "pg.h"
#include "store.h"

#define TICK_MS 250
#define MANUAL_EVERY_MS 1000
#define MAX_PLANS 128

struct plan_budget {
	char plan[72];
	struct pacing_budget budget;
};

struct throttle {
	struct daemon *d;
	struct event *tick;
	struct event *soon; /* the earliest end of a budget wait */
	long long soon_at;
	struct pg_conn *load; /* to the target, for the load query */
	bool load_busy;
	long long load_sent_ms, load_next_ms, manual_next_ms;
	bool manual_busy;
	bool critical;                 /* the load is above critical now */
	time_t load_since;             /* the load reason holds since */
	struct throttle_report manual; /* the rows of migrated.throttles */
	struct throttle_report now;    /* manual + load: what throttles */
	struct throttle_job *jobs;
	struct pacing_budget all;
	struct plan_budget plans[MAX_PLANS];
	size_t nplans;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
add_reason(struct throttle_report *r, const char *scope, const char *kind,
           const char *text, time_t since, time_t until)
{
	struct throttle_reason *x;

	if (r->nreasons >= THROTTLE_MAX_REASONS)
		return;
	x = &r->reasons[r->nreasons++];
	snprintf(x->scope, sizeof(x->scope), "%s", scope);
	snprintf(x->kind, sizeof(x->kind), "%s", kind);
	snprintf(x->text, sizeof(x->text), "%s", text);
	x->since = since;
	x->until = until;
}

/* manual + the load's verdict into t->now */
static void
compose(struct throttle *t)
{
	const struct config *cfg = &t->d->cfg;
	struct throttle_report *r = &t->now;
	char text[320];
	bool above_max, above_crit;

	r->nreasons = 0;
	for (size_t i = 0; i < t->manual.nreasons; i++)
		r->reasons[r->nreasons++] = t->manual.reasons[i];
	r->load_query = cfg->throttle_query[0] != '\0';
	if (!r->load_query) {
		t->load_since = 0;
		return;
	}
	if (!r->load_ok) {
		if (t->load_since == 0)
			t->load_since = time(NULL);
		if (r->load_error[0] == '\0')
			snprintf(text, sizeof(text),
			         "the load query has not given a value yet");
		else
			snprintf(text, sizeof(text),
			         "the load query failed: %s", r->load_error);
		add_reason(r, "*", "load_failed", text, t->load_since, 0);
		return;
	}
	above_crit = cfg->throttle_critical > 0 &&
	             r->load_value > cfg->throttle_critical;
	above_max = cfg->throttle_max > 0 && r->load_value > cfg->throttle_max;
	if (!above_max && !above_crit) {
		t->load_since = 0;
		return;
	}
	if (t->load_since == 0)
		t->load_since = time(NULL);
	if (above_crit)
		snprintf(
		        text, sizeof(text),
		        "load %g is above critical %g: running jobs are paused",
		        r->load_value, cfg->throttle_critical);
	else
		snprintf(text, sizeof(text), "load %g is above max %g",
		         r->load_value, cfg->throttle_max);
	add_reason(r, "*", above_crit ? "critical" : "load", text,
	           t->load_since, 0);
}

const char *
throttle_why(const struct throttle *t, const char *plan)
{
	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < t->now.nreasons; i++) {
		const struct throttle_reason *x = &t->now.reasons[i];
		if (strcmp(x->scope, "*") == 0 ||
		    (plan != NULL && strcmp(x->scope, plan) == 0))
			return x->text;
	}
	return NULL;
}

static struct pacing_budget *
plan_budget(struct throttle *t, const char *plan)
{
	for (size_t i = 0; i < t->nplans; i++)
		if (strcmp(t->plans[i].plan, plan) == 0)
			return &t->plans[i].budget;
	if (t->nplans == MAX_PLANS)
		return NULL;
	snprintf(t->plans[t->nplans].plan, sizeof(t->plans[0].plan), "%s",
	         plan);
	t->plans[t->nplans].budget.next_ms = 0;
	return &t->plans[t->nplans++].budget;
}

/* How long budgets make j wait (ms), and which one. */
static long long
budget_wait(struct throttle *t, struct throttle_job *j, const char **which)
{
	long long now = now_ms(), w = 0, x;
	struct pacing_budget *pb = plan_budget(t, j->plan);

	*which = NULL;
	if ((x = pacing_budget_wait(&t->all, now)) > w) {
		w = x;
		*which = "the daemon's max_rows_per_second";
	}
	if (pb != NULL && (x = pacing_budget_wait(pb, now)) > w) {
		w = x;
		*which = "the plan's max_rows_per_second";
	}
	if ((x = pacing_budget_wait(&j->budget, now)) > w) {
		w = x;
		*which = "the job's max_rows_per_second";
	}
	return w;
}

/* Why j waits now into j->waiting; false when it may go. */
static bool
must_wait(struct throttle *t, struct throttle_job *j)
{
	const char *why = throttle_why(t, j->plan), *which;
	long long w;

	if (why != NULL) {
		snprintf(j->waiting, sizeof(j->waiting), "%s", why);
		return true;
	}
	w = budget_wait(t, j, &which);
	if (w > 0) {
		snprintf(j->waiting, sizeof(j->waiting), "%s", which);
		return true;
	}
	j->waiting[0] = '\0';
	return false;
}

/* Lets the waiters that may go now go. */
static void
wake(struct throttle *t)
{
	struct throttle_job *j = t->jobs, *next;

	for (; j != NULL; j = next) {
		next = j->next;
		if (j->go == NULL || must_wait(t, j))
			continue;
		void (*go)(void *, long long) = j->go;
		long long waited = now_ms() - j->wait_start_ms;
		j->go = NULL;
		j->throttled_ms += waited;
		j->waiting[0] = '\0';
		j->waiting_since = 0;
		go(j->go_arg, waited); /* may leave: next was taken first */
	}
}

/* ---- the manual throttles ---- */

void
throttle_set_manual(struct throttle *t, const PGresult *res)
{
	t->manual.nreasons = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		char text[320];
		const char *scope = PQgetvalue(res, i, 0);
		if (PQgetisnull(res, i, 0))
			continue; /* a row of counts, not a throttle */
		bool all = strcmp(scope, "*") == 0;
		snprintf(text, sizeof(text),
		         "throttled by an operator%s%s%s: %s",
		         all ? "" : " (plan ", all ? "" : scope, all ? "" : ")",
		         PQgetvalue(res, i, 1));
		add_reason(&t->manual, scope, "manual", text,
		           (time_t)atoll(PQgetvalue(res, i, 2)),
		           PQgetisnull(res, i, 3)
		                   ? 0
		                   : (time_t)atoll(PQgetvalue(res, i, 3)));
	}
	compose(t);
	wake(t);
}

static void
on_manual(void *arg, const PGresult *res, const char *error)
{
	struct throttle *t = arg;

	(void)error;
	t->manual_busy = false;
	if (res == NULL || !pg_result_ok(res))
		return; /* keep what was read last */
	throttle_set_manual(t, res);
}

static void
read_manual(struct throttle *t)
{
	if (t->manual_busy || !store_ready(t->d->store))
		return;
	if (pg_query(store_conn(t->d->store),
	             "SELECT " THROTTLE_MANUAL_COLUMNS
	             " FROM migrated.throttles WHERE " THROTTLE_MANUAL_LIVE
	             " ORDER BY scope",
	             0, NULL, on_manual, t) == 0)
		t->manual_busy = true;
}

/* ---- the load query ---- */

static void
on_paused(void *arg, const PGresult *res, const char *error)
{
	char buf[512];

	(void)arg;
	if (res == NULL || !pg_result_ok(res))
		log_warning("throttle: cannot pause the running jobs: %s",
		            res == NULL
		                    ? (error != NULL ? error : "?")
		                    : pg_result_error(res, buf, sizeof(buf)));
	else if (PQntuples(res) > 0)
		log_warning("throttle: %s", PQgetvalue(res, 0, 0));
}

/* Above critical: pause what runs, audited with why. */
static void
pause_running(struct throttle *t)
{
	char value[64], critical[64], why[200];
	const char *values[4] = {value, critical, t->d->cfg.throttle_query,
	                         why};

	snprintf(value, sizeof(value), "%g", t->now.load_value);
	snprintf(critical, sizeof(critical), "%g", t->d->cfg.throttle_critical);
	snprintf(why, sizeof(why), "load %s is above critical %s", value,
	         critical);
	if (!store_ready(t->d->store) ||
	    pg_query(store_conn(t->d->store),
	             "WITH p AS (UPDATE migrated.jobs SET state = 'paused',"
	             "  updated = now() WHERE state = 'running' RETURNING id),"
	             " msg AS (SELECT 'paused ' || count(*) ||"
	             "  ' running job(s): ' || $4::text AS m,"
	             "  json_agg(id ORDER BY id) AS ids FROM p"
	             "  HAVING count(*) > 0),"
	             " a AS (INSERT INTO migrated.audit (action, parameters,"
	             "  result) SELECT 'throttle critical',"
	             "  jsonb_build_object('jobs', ids, 'value', $1::float8,"
	             "  'critical', $2::float8, 'query', $3::text), m FROM msg)"
	             "SELECT m FROM msg",
	             4, values, on_paused, t) < 0)
		log_warning(
		        "throttle: cannot pause the running jobs: the state "
		        "database is not connected");
}

static void
load_result(struct throttle *t, bool ok, double value, const char *error)
{
	bool was_critical = t->critical;

	t->now.load_ok = ok;
	t->now.load_value = ok ? value : 0;
	snprintf(t->now.load_error, sizeof(t->now.load_error), "%s",
	         ok ? "" : error);
	if (!ok)
		log_warning("throttle: the load query failed (%s); jobs wait "
		            "until it works",
		            error);
	t->critical = ok && t->d->cfg.throttle_critical > 0 &&
	              value > t->d->cfg.throttle_critical;
	compose(t);
	if (t->critical) {
		if (!was_critical)
			log_warning("throttle: load %g is above critical %g; "
			            "pausing the running jobs",
			            value, t->d->cfg.throttle_critical);
		pause_running(t);
	}
	wake(t);
}

static void
on_load(void *arg, const PGresult *res, const char *error)
{
	struct throttle *t = arg;
	char buf[512];
	char *end;
	double v;

	t->load_busy = false;
	if (res == NULL) {
		load_result(t, false, 0,
		            error != NULL ? error : "no connection");
		return;
	}
	if (!pg_result_ok(res)) {
		load_result(t, false, 0,
		            pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	if (PQntuples(res) != 1 || PQnfields(res) != 1 ||
	    PQgetisnull(res, 0, 0)) {
		load_result(t, false, 0,
		            "it must return one row of one non-null number");
		return;
	}
	errno = 0;
	v = strtod(PQgetvalue(res, 0, 0), &end);
	if (errno != 0 || end == PQgetvalue(res, 0, 0) || *end != '\0') {
		snprintf(buf, sizeof(buf), "'%.100s' is not a number",
		         PQgetvalue(res, 0, 0));
		load_result(t, false, 0, buf);
		return;
	}
	load_result(t, true, v, NULL);
}

static void
on_timeout_set(void *arg, const PGresult *res, const char *error)
{
	(void)arg;
	(void)res;
	(void)error;
}

static void
on_load_state(void *arg, enum pg_state state, const char *error)
{
	struct throttle *t = arg;
	char ms[24];
	const char *values[1] = {ms};

	if (state == PG_READY) {
		snprintf(ms, sizeof(ms), "%lld", t->d->cfg.throttle_timeout_ms);
		if (pg_query(
		            t->load,
		            "SELECT set_config('statement_timeout', $1, false)",
		            1, values, on_timeout_set, t) < 0)
			log_debug("throttle: timeout not set");
		return;
	}
	if (t->d->cfg.throttle_query[0] != '\0' && state == PG_DISCONNECTED)
		load_result(t, false, 0,
		            error != NULL ? error
		                          : "cannot connect to the target");
}

static void
run_load(struct throttle *t, long long now)
{
	const char *q = t->d->cfg.throttle_query;

	if (q[0] == '\0') {
		if (t->now.load_query) {
			t->now.load_ok = false;
			compose(t);
			wake(t);
		}
		return;
	}
	if (t->load_busy) {
		if (now - t->load_sent_ms >
		    t->d->cfg.throttle_timeout_ms + 2000) {
			/* the server did not cancel it: start over */
			pg_conn_reset(t->load, "the load query timed out");
		}
		return;
	}
	if (now < t->load_next_ms)
		return;
	t->load_next_ms = now + t->d->cfg.throttle_interval_ms;
	if (strcmp(q, "replication_lag") == 0)
		q = THROTTLE_REPLICATION_LAG_SQL;
	if (pg_conn_state(t->load) != PG_READY) {
		load_result(t, false, 0,
		            pg_conn_error(t->load) != NULL
		                    ? pg_conn_error(t->load)
		                    : "not connected to the target yet");
		return;
	}
	if (pg_query(t->load, q, 0, NULL, on_load, t) == 0) {
		t->load_busy = true;
		t->load_sent_ms = now;
	}
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct throttle *t = arg;
	long long now = now_ms();

	(void)fd;
	(void)what;
	if (now >= t->manual_next_ms) {
		t->manual_next_ms = now + MANUAL_EVERY_MS;
		read_manual(t);
	}
	run_load(t, now);
	wake(t);
}

static void
on_soon(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wake(arg);
}

struct throttle *
throttle_new(struct daemon *d)
{
	struct throttle *t = calloc(1, sizeof(*t));
	struct timeval tv = {0, (suseconds_t)TICK_MS * 1000};

	if (t == NULL)
		return NULL;
	t->d = d;
	t->load = pg_conn_new(d->base, d->cfg.target_conninfo,
	                      "migrated-throttle", on_load_state, t);
	t->tick = event_new(d->base, -1, EV_PERSIST, on_tick, t);
	t->soon = evtimer_new(d->base, on_soon, t);
	if (t->load == NULL || t->tick == NULL || t->soon == NULL ||
	    event_add(t->tick, &tv) < 0) {
		throttle_free(t);
		return NULL;
	}
	pg_conn_set_backoff_max(t->load, d->cfg.reconnect_max_ms);
	compose(t);
	return t;
}

void
throttle_free(struct throttle *t)
{
	if (t == NULL)
		return;
	if (t->tick != NULL)
		event_free(t->tick);
	if (t->soon != NULL)
		event_free(t->soon);
	pg_conn_free(t->load);
	for (struct throttle_job *j = t->jobs; j != NULL; j = j->next)
		j->t = NULL;
	free(t);
}

/* ---- the jobs ---- */

void
throttle_join(struct throttle *t, struct throttle_job *j)
{
	j->t = t;
	j->go = NULL;
	j->prev = NULL;
	j->next = NULL;
	if (t == NULL)
		return;
	j->next = t->jobs;
	if (t->jobs != NULL)
		t->jobs->prev = j;
	t->jobs = j;
}

void
throttle_leave(struct throttle_job *j)
{
	struct throttle *t = j->t;

	j->go = NULL;
	if (t == NULL)
		return;
	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		t->jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	j->t = NULL;
	j->prev = j->next = NULL;
}

bool
throttle_gate(struct throttle_job *j,
              void (*go)(void *arg, long long waited_ms), void *arg)
{
	const char *which;
	long long w;

	if (j->t == NULL || !must_wait(j->t, j))
		return false;
	w = budget_wait(j->t, j, &which);
	if (w > 0 && throttle_why(j->t, j->plan) == NULL) {
		struct throttle *t = j->t;
		long long at = now_ms() + w;
		if (!evtimer_pending(t->soon, NULL) || at < t->soon_at) {
			struct timeval tv = {(time_t)(w / 1000),
			                     (suseconds_t)(w % 1000) * 1000};
			t->soon_at = at;
			evtimer_add(t->soon, &tv);
		}
	}
	j->go = go;
	j->go_arg = arg;
	j->wait_start_ms = now_ms();
	j->waiting_since = time(NULL);
	return true;
}

long long
throttle_cancel(struct throttle_job *j)
{
	long long waited;

	if (j->go == NULL)
		return -1;
	waited = now_ms() - j->wait_start_ms;
	j->go = NULL;
	j->throttled_ms += waited;
	j->waiting[0] = '\0';
	j->waiting_since = 0;
	return waited;
}

void
throttle_spent(struct throttle_job *j, long long rows, long long plan_cap)
{
	struct throttle *t = j->t;
	long long now = now_ms();
	struct pacing_budget *pb;

	j->batches++;
	(void)pacing_budget_spend(&j->budget, now, rows,
	                          j->max_rows_per_second);
	if (t == NULL)
		return;
	(void)pacing_budget_spend(&t->all, now, rows,
	                          t->d->cfg.max_rows_per_second);
	pb = plan_budget(t, j->plan);
	if (pb != NULL)
		(void)pacing_budget_spend(pb, now, rows, plan_cap);
}

const struct throttle_report *
throttle_report(const struct throttle *t)
{
	return &t->now;
}

size_t
throttle_jobs(const struct throttle *t, const struct throttle_job **out,
              size_t max)
{
	size_t n = 0;

	for (const struct throttle_job *j = t->jobs; j != NULL && n < max;
	     j = j->next)
		out[n++] = j;
	return n;
}
