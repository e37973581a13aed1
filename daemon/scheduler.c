#include "scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "vl_names.h"
#include "notify.h"
#include "pg.h"
#include "runner.h"
#include "store.h"
#include "throttle.h"

#define TICK_MS 1000
#define RATE_WINDOW 10 /* seconds the rate is averaged over */

struct scheduler {
	struct daemon *d;
	struct runner **runners;
	int nrunners;
	struct event *tick;
	bool ready;
	bool claiming; /* one claim at a time, in priority order */
	bool kicked;   /* new work arrived during a claim */
	bool counting;
	struct job_counts counts;
	long long rows_done;
	long long rate_rows[RATE_WINDOW];
	time_t rate_sec[RATE_WINDOW];
};

static void claim_next(struct scheduler *s);

/* HH:MM:SS UTC of t */
static const char *
clock_text(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%H:%M:%S", &tm) == 0)
		snprintf(buf, len, "?");
	return buf;
}

static void
on_counts(void *arg, const PGresult *res, const char *error)
{
	struct scheduler *s = arg;
	struct job_counts c = {0};
	const struct throttle_report *th;
	char why[400] = "", since[16];

	(void)error;
	s->counting = false;
	if (res == NULL || !pg_result_ok(res))
		return;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *state = PQgetvalue(res, i, 0);
		long long n = atoll(PQgetvalue(res, i, 1));
		if (strcmp(state, "queued") == 0)
			c.queued = n;
		else if (strcmp(state, "running") == 0)
			c.running = n;
		else if (strcmp(state, "paused") == 0)
			c.paused = n;
		else if (strcmp(state, "succeeded") == 0)
			c.succeeded = n;
		else if (strcmp(state, "failed") == 0)
			c.failed = n;
		else if (strcmp(state, "cancelled") == 0)
			c.cancelled = n;
		else if (strcmp(state, "rolled_back") == 0)
			c.rolled_back = n;
	}
	s->counts = c;
	th = throttle_report(s->d->throttle);
	if (th->nreasons > 0)
		snprintf(why, sizeof(why), "; throttled since %s: %s%s",
		         clock_text(th->reasons[0].since, since, sizeof(since)),
		         th->reasons[0].text,
		         th->nreasons > 1 ? " (and more)" : "");
#define PUSH(state) metrics_jobs(#state, c.state);
	VL_JOB_STATES(PUSH)
#undef PUSH
	notify_status("%d/%d workers busy; jobs: %lld queued, %lld running, "
	              "%lld paused, %lld failed, %lld succeeded; %.0f rows/s%s",
	              scheduler_busy(s), s->nrunners, c.queued, c.running,
	              c.paused, c.failed, c.succeeded, scheduler_rate(s), why);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *s = arg;

	(void)fd;
	(void)what;
	if (s->ready && !s->counting &&
	    pg_query(store_conn(s->d->store),
	             "SELECT state, count(*) FROM migrated.jobs GROUP BY state",
	             0, NULL, on_counts, s) == 0)
		s->counting = true;
	claim_next(s);
}

/* Asks the first idle runner to claim a job, excluding ours. */
static void
claim_next(struct scheduler *s)
{
	json_t *held;
	char *exclude;

	if (!s->ready)
		return;
	if (s->claiming) {
		s->kicked = true;
		return;
	}
	s->kicked = false;
	held = json_array();
	for (int i = 0; i < s->nrunners; i++)
		if (runner_job(s->runners[i]) != 0)
			json_array_append_new(
			        held, json_integer(runner_job(s->runners[i])));
	exclude = json_dumps(held, JSON_COMPACT);
	json_decref(held);
	for (int i = 0; exclude != NULL && i < s->nrunners; i++) {
		if (!runner_idle(s->runners[i]))
			continue;
		s->claiming = true;
		runner_claim(s->runners[i], exclude);
		break;
	}
	free(exclude);
}

static void
on_runner_idle(void *arg, struct runner *r)
{
	(void)r;
	claim_next(arg);
}

static void
on_runner_claimed(void *arg, struct runner *r, bool got_job)
{
	struct scheduler *s = arg;

	(void)r;
	s->claiming = false;
	/* after a claim that found nothing, wait for the next tick or kick */
	if (got_job || s->kicked)
		claim_next(s);
}

static void
on_rows(void *arg, long long rows)
{
	struct scheduler *s = arg;
	time_t now = time(NULL);
	int slot = (int)(now % RATE_WINDOW);

	s->rows_done += rows;
	if (s->rate_sec[slot] != now) {
		s->rate_sec[slot] = now;
		s->rate_rows[slot] = 0;
	}
	s->rate_rows[slot] += rows;
}

struct scheduler *
scheduler_new(struct daemon *d)
{
	struct scheduler *s = calloc(1, sizeof(*s));
	struct runner_events ev = {on_runner_idle, on_runner_claimed, on_rows,
	                           NULL};
	struct timeval tv = {TICK_MS / 1000,
	                     (suseconds_t)(TICK_MS % 1000) * 1000};

	if (s == NULL)
		return NULL;
	ev.arg = s;
	s->d = d;
	s->nrunners = (int)d->cfg.workers;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	s->runners = calloc((size_t)s->nrunners, sizeof(*s->runners));
	s->tick = event_new(d->base, -1, EV_PERSIST, on_tick, s);
	if (s->runners == NULL || s->tick == NULL ||
	    event_add(s->tick, &tv) < 0) {
		scheduler_free(s);
		return NULL;
	}
	for (int i = 0; i < s->nrunners; i++) {
		s->runners[i] = runner_new(d, i + 1, &ev);
		if (s->runners[i] == NULL) {
			scheduler_free(s);
			return NULL;
		}
	}
	return s;
}

void
scheduler_free(struct scheduler *s)
{
	if (s == NULL)
		return;
	for (int i = 0; s->runners != NULL && i < s->nrunners; i++)
		runner_free(s->runners[i]);
	free(s->runners);
	if (s->tick != NULL)
		event_free(s->tick);
	free(s);
}

void
scheduler_set_ready(struct scheduler *s, bool ready)
{
	s->ready = ready;
	if (ready)
		event_active(s->tick, 0, 0);
}

void
scheduler_set_backoff_max(struct scheduler *s, long long ms)
{
	for (int i = 0; i < s->nrunners; i++)
		runner_set_backoff_max(s->runners[i], ms);
}

void
scheduler_kick(struct scheduler *s)
{
	/* fresh totals for status, and a claim, on the next loop turn */
	event_active(s->tick, 0, 0);
}

void
scheduler_stop_jobs(struct scheduler *s, const long long *ids, int n)
{
	for (int i = 0; i < s->nrunners; i++)
		for (int j = 0; j < n; j++)
			if (runner_job(s->runners[i]) == ids[j])
				runner_stop(s->runners[i]);
}

const struct job_counts *
scheduler_counts(const struct scheduler *s)
{
	return &s->counts;
}

int
scheduler_busy(const struct scheduler *s)
{
	int busy = 0;

	for (int i = 0; i < s->nrunners; i++)
		if (runner_job(s->runners[i]) != 0)
			busy++;
	return busy;
}

long long
scheduler_rows_done(const struct scheduler *s)
{
	return s->rows_done;
}

double
scheduler_rate(const struct scheduler *s)
{
	time_t now = time(NULL);
	long long rows = 0;

	for (int i = 0; i < RATE_WINDOW; i++)
		if (s->rate_sec[i] > now - RATE_WINDOW && s->rate_sec[i] <= now)
			rows += s->rate_rows[i];
	return (double)rows / RATE_WINDOW;
}
