/*
 * The schema job driver. One run is a chain of queries on its own
 * connection to the set's database:
 *
 *   session settings, the history table, pg_advisory_lock on the set,
 *   the history, then per file:
 *     BEGIN; the file (simple query protocol); its history row; COMMIT
 *   and after each COMMIT the job's step on the state connection.
 *
 * A file whose first line is "-- migrated: no-transaction" runs statement
 * by statement outside a transaction and is recorded after its last one.
 * A dry run opens one transaction for all files, runs them statement by
 * statement (for the command tags) and rolls it back.
 *
 * If the set's database goes away, the run starts over once it is back:
 * a file in flight rolled back together with its history row, and the
 * history, read again, says what is still pending.
 */
#include "schema_apply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "schema_history.h"
#include "schema_files.h"
#include "sql_params.h"

/* an applied row's adopted_from, when the version had a down file */
#define DOWN_PREFIX "down:"

struct item {
	const struct schema_file *f;
	const char *sql, *path, *checksum;
	bool no_tx;
	char step[256]; /* NNN_name, as the file is called */
};

enum outcome { O_NONE, O_DONE, O_FAILED, O_STOPPED };

struct ticket;

struct schema_run {
	struct event_base *base;
	struct pg_conn *state;
	struct pg_conn *conn;
	struct schema_run_events ev;
	char *set, *dbname, *conninfo, *dir_path, *owner;
	char *uid, *username;
	char job[24];
	char plan[128];
	bool revert, dry_run;
	long long to; /* -1: none */
	struct log_ctx log;

	struct schema_dir *dir;
	struct item *items;
	size_t nitems, idx;

	/* the file running */
	struct sql_span *spans;
	size_t nspans, sidx;
	bool whole; /* sent in one piece, not by statements */
	char *tags;
	long long changed;
	struct timespec t0;
	char started[64];
	char *error;  /* the failure being recorded */
	bool partial; /* no-transaction: some statements took effect */

	unsigned gen; /* one per (re)start; older answers are dropped */
	struct ticket *tickets;
	bool stop, freeing, ended;
	enum outcome outcome;
	char *msg;
	struct event *report;
	const char *ensure_sql;
};

static void next_item(struct schema_run *run);

/*
 * A query not sent means the connection is gone: on_state starts over
 * once it is back (the state connection's loss ends the run instead).
 */
static void
sent(int rc)
{
	(void)rc;
}
static void fail(struct schema_run *run, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* ---- ending: reported from the loop ---- */

static void
on_report(evutil_socket_t fd, short what, void *arg)
{
	struct schema_run *run = arg;

	(void)fd;
	(void)what;
	/* the handler may free run: nothing after it */
	switch (run->outcome) {
	case O_DONE:
		run->ev.done(run->ev.arg);
		break;
	case O_FAILED:
		run->ev.failed(run->ev.arg, run->msg != NULL ? run->msg : "?");
		break;
	case O_STOPPED:
		run->ev.stopped(run->ev.arg);
		break;
	case O_NONE:
		break;
	}
}

static void
finish(struct schema_run *run, enum outcome outcome, const char *msg)
{
	if (run->ended)
		return;
	run->ended = true;
	run->outcome = outcome;
	run->msg = msg != NULL ? strdup(msg) : NULL;
	event_active(run->report, 0, 0);
}

static void
fail(struct schema_run *run, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	finish(run, O_FAILED, msg);
}

/* ---- queries on the state connection (the runner's) ---- */

typedef void (*ticket_fn)(struct schema_run *run, const PGresult *res);

/* A query on a connection the run does not own: it may end after run. */
struct ticket {
	struct schema_run *run; /* NULL once run is gone */
	unsigned gen;
	ticket_fn fn; /* NULL: only log a failure */
	struct ticket *next;
};

static void
on_ticket(void *arg, const PGresult *res, const char *error)
{
	struct ticket *t = arg;
	struct schema_run *run = t->run;
	unsigned gen = t->gen;
	ticket_fn fn = t->fn;
	char buf[512];

	(void)error;
	if (run != NULL)
		for (struct ticket **p = &run->tickets; *p != NULL;
		     p = &(*p)->next)
			if (*p == t) {
				*p = t->next;
				break;
			}
	free(t);
	if (run == NULL || run->freeing || res == NULL)
		return;
	if (!pg_result_ok(res)) {
		log_ctx(LOG_WARNING, &run->log,
		        "recording the job's progress: %s",
		        pg_result_error(res, buf, sizeof(buf)));
		if (fn != NULL && !run->ended && gen == run->gen)
			fail(run, "recording the job's progress: %s", buf);
		return;
	}
	if (fn != NULL && !run->ended && gen == run->gen)
		fn(run, res);
}

static int
state_query(struct schema_run *run, const char *sql, int n,
            const char *const *values, ticket_fn fn)
{
	struct ticket *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	t->run = run;
	t->gen = run->gen;
	t->fn = fn;
	if (pg_query(run->state, sql, n, values, on_ticket, t) < 0) {
		free(t);
		return -1;
	}
	t->next = run->tickets;
	run->tickets = t;
	return 0;
}

static void
add_warning(struct schema_run *run, const char *text)
{
	const char *values[2] = {run->job, text};

	log_ctx(LOG_NOTICE, &run->log, "%s", text);
	sent(state_query(run,
	                 "UPDATE migrated.jobs SET warnings = warnings ||"
	                 " $2::text WHERE id = $1::bigint",
	                 2, values, NULL));
}

/* ---- positions and messages ---- */

/* One line of a possibly multi-line server text. */
static void
first_line(const char *s, char *out, size_t len)
{
	size_t n = strcspn(s, "\n");

	snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), s);
}

/*
 * "file:line:column: message (SQLSTATE xxxxx)" of a failed statement that
 * started at byte start of the item's text (whole: the file in one piece).
 */
static char *
describe(const struct item *it, const PGresult *res, size_t start, bool whole,
         const struct sql_span *spans, size_t nspans)
{
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);
	char where[1200], ctx[512] = "", out[4096];
	unsigned line, col;

	if (msg == NULL)
		msg = PQresultErrorMessage(res);
	/* no position from the server: a file of one statement is that one */
	if (pos == NULL && whole && nspans == 1) {
		whole = false;
		start = spans[0].start;
	}
	if (pos != NULL || !whole) {
		sql_position(it->sql, start, pos != NULL ? atol(pos) : 1, &line,
		             &col);
		snprintf(where, sizeof(where), "%s:%u:%u", it->path, line, col);
	} else {
		snprintf(where, sizeof(where), "%s", it->path);
	}
	if (context != NULL)
		first_line(context, ctx, sizeof(ctx));
	snprintf(out, sizeof(out), "%s: %s (SQLSTATE %s)%s%s%s%s%s%s%s", where,
	         msg != NULL ? msg : "?", state != NULL ? state : "?????",
	         detail != NULL ? "; detail: " : "",
	         detail != NULL ? detail : "", hint != NULL ? "; hint: " : "",
	         hint != NULL ? hint : "", ctx[0] != '\0' ? "; context: " : "",
	         ctx,
	         state != NULL && strcmp(state, "25001") == 0 && !it->no_tx
	                 ? "; this statement cannot run inside a transaction:"
	                   " make \"-- migrated: no-transaction\" the first "
	                   "line of the file, and migrated runs its statements "
	                   "one by one outside a transaction"
	                 : "");
	return strdup(out);
}

/* ---- the history rows ---- */

static void
stamp_start(struct schema_run *run)
{
	struct timespec now;
	struct tm tm;
	char base[40];

	clock_gettime(CLOCK_MONOTONIC, &run->t0);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(run->started, sizeof(run->started), "%s.%06ld+00", base,
	         now.tv_nsec / 1000);
}

static long long
elapsed_ms(const struct schema_run *run)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - run->t0.tv_sec) * 1000 +
	       (now.tv_nsec - run->t0.tv_nsec) / 1000000;
}

static int
record(struct schema_run *run, const char *outcome, pg_result_cb cb)
{
	const struct item *it = &run->items[run->idx];
	char version[24], ms[24], down[SCHEMA_CHECKSUM_LEN + 8];
	const char *values[13];
	bool failed = strcmp(outcome, "failed") == 0;

	snprintf(version, sizeof(version), "%lld", it->f->version);
	snprintf(ms, sizeof(ms), "%lld", elapsed_ms(run));
	snprintf(down, sizeof(down), DOWN_PREFIX "%s", it->f->down_checksum);
	values[0] = run->set;
	values[1] = version;
	values[2] = it->f->name;
	values[3] = it->checksum;
	values[4] = run->revert ? "reverted" : "applied";
	/* the down file's checksum as it was applied: revert compares it */
	values[5] = !run->revert && it->f->down_path != NULL ? down : NULL;
	values[6] = run->uid;
	values[7] = run->username;
	values[8] = run->job;
	values[9] = run->started;
	values[10] = ms;
	values[11] = outcome;
	values[12] = failed ? run->error : NULL;
	/* not schema_history_insert_sql: its finished is now(), which in the
	 * file's transaction is when the transaction began */
	return pg_query(
	        run->conn,
	        "INSERT INTO migrated.schema_history (set_name, version,"
	        " name, checksum, kind, adopted_from, uid, username,"
	        " job_id, started, finished, duration_ms, outcome,"
	        " error) VALUES ($1, $2::bigint, $3, $4, $5, $6,"
	        " $7::integer, $8, $9::bigint, $10::timestamptz,"
	        " clock_timestamp(), $11::bigint, $12, $13)",
	        13, values, cb, run);
}

/* ---- a file's end ---- */

static void
on_advanced(struct schema_run *run, const PGresult *res)
{
	if (strcmp(PQcmdTuples((PGresult *)res), "1") != 0) {
		log_ctx(LOG_INFO, &run->log,
		        "the job is no longer running here; stopping");
		finish(run, O_STOPPED, NULL);
		return;
	}
	run->log.step = NULL;
	run->idx++;
	next_item(run);
}

/* The file is done (recorded, committed): its step too. */
static void
advance(struct schema_run *run)
{
	const struct item *it = &run->items[run->idx];
	char changed[24];
	const char *values[5];

	log_ctx(LOG_INFO, &run->log, "%s %s in %lld ms%s%s",
	        run->dry_run  ? "ran (dry run)"
	        : run->revert ? "reverted"
	                      : "applied",
	        it->path, elapsed_ms(run), run->tags != NULL ? ": " : "",
	        run->tags != NULL ? run->tags : "");
	if (run->dry_run) {
		char note[2048];

		if (!it->no_tx) {
			snprintf(note, sizeof(note),
			         "dry run: %s: %s (rolled back)", it->step,
			         run->tags != NULL ? run->tags
			                           : "nothing to run");
			add_warning(run, note);
		}
	}
	snprintf(changed, sizeof(changed), "%lld", run->changed);
	values[0] = run->job;
	values[1] = it->step;
	values[2] = changed;
	values[3] = run->dry_run ? run->tags : NULL;
	values[4] = run->owner;
	if (state_query(run,
	                "UPDATE migrated.job_steps s SET state = 'done',"
	                " rows_done = 1, rows_changed = $3::bigint,"
	                " checkpoint = $4 FROM migrated.jobs j"
	                " WHERE s.job_id = $1::bigint AND s.step = $2"
	                " AND j.id = s.job_id AND j.state = 'running'"
	                " AND j.owner = $5",
	                5, values, on_advanced) < 0)
		fail(run, "cannot record the job's progress: the state "
		          "database is not connected");
}

static void
on_failure_recorded(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;
	const struct item *it;
	char buf[512];

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	it = &run->items[run->idx];
	if (!pg_result_ok(res))
		log_ctx(LOG_WARNING, &run->log,
		        "cannot record the failure in the history: %s",
		        pg_result_error(res, buf, sizeof(buf)));
	fail(run, "%s; version %lld (%s) was not %s%s%s", run->error,
	     it->f->version, it->f->name,
	     run->revert ? "reverted" : "recorded as applied",
	     run->partial ? " although the statements before the failing "
	                    "one took effect (the file runs outside a "
	                    "transaction)"
	                  : "",
	     run->nitems > run->idx + 1 ? ", and the versions after it did "
	                                  "not run"
	                                : "");
}

/* Records the failure (outside any transaction), then fails the job. */
static void
record_failure(struct schema_run *run)
{
	if (run->dry_run) { /* a dry run records nothing */
		const struct item *it = &run->items[run->idx];
		fail(run, "dry run: %s; version %lld (%s) would fail",
		     run->error, it->f->version, it->f->name);
		return;
	}
	if (record(run, "failed", on_failure_recorded) < 0)
		fail(run, "%s", run->error);
}

static void
on_rolled_back(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	record_failure(run);
}

/* A statement of the file failed: describe it, roll back, record. */
static void
file_failed(struct schema_run *run, const PGresult *res, size_t start)
{
	const struct item *it = &run->items[run->idx];

	free(run->error);
	run->error =
	        describe(it, res, start, run->whole, run->spans, run->nspans);
	if (run->error == NULL) {
		fail(run, "%s failed (out of memory describing it)", it->path);
		return;
	}
	log_ctx(LOG_ERR, &run->log, "%s", run->error);
	if (it->no_tx && !run->dry_run) {
		run->partial = run->sidx > 0;
		record_failure(run);
		return;
	}
	if (pg_query(run->conn, "ROLLBACK", 0, NULL, on_rolled_back, run) < 0)
		fail(run, "%s", run->error);
}

static void
on_committed(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	if (!pg_result_ok(res)) { /* a deferred constraint, say */
		file_failed(run, res, 0);
		return;
	}
	advance(run);
}

static void
on_recorded(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;
	const struct item *it;
	char buf[512];

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	it = &run->items[run->idx];
	if (!pg_result_ok(res)) {
		fail(run,
		     "%s ran, but recording it in the history failed: %s%s",
		     it->path, pg_result_error(res, buf, sizeof(buf)),
		     it->no_tx ? " (it ran outside a transaction: record it "
		                 "with schema baseline or repair)"
		               : "; it was rolled back");
		return;
	}
	if (it->no_tx) {
		advance(run);
		return;
	}
	if (pg_query(run->conn, "COMMIT", 0, NULL, on_committed, run) < 0)
		return; /* the connection is gone: on_state starts over */
}

/* Every statement ran: record the file (and commit), or, dry, go on. */
static void
file_ran(struct schema_run *run)
{
	if (run->dry_run) {
		advance(run);
		return;
	}
	if (record(run, "succeeded", on_recorded) < 0)
		return; /* the connection is gone: on_state starts over */
}

static void
add_tag(struct schema_run *run, const PGresult *res)
{
	const char *tag = PQcmdStatus((PGresult *)res);
	const char *rows = PQcmdTuples((PGresult *)res);
	size_t have = run->tags != NULL ? strlen(run->tags) : 0;
	char *p;

	if (rows[0] != '\0' && strncmp(tag, "SELECT", 6) != 0)
		run->changed += atoll(rows);
	if (tag[0] == '\0')
		return;
	p = realloc(run->tags, have + strlen(tag) + 3);
	if (p == NULL)
		return;
	snprintf(p + have, strlen(tag) + 3, "%s%s", have > 0 ? ", " : "", tag);
	run->tags = p;
}

static void run_span(struct schema_run *run);

static void
on_span(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	if (!pg_result_ok(res)) {
		file_failed(run, res,
		            run->whole ? 0 : run->spans[run->sidx].start);
		return;
	}
	add_tag(run, res);
	run->sidx++;
	run_span(run);
}

/* The next statement of the file (or the whole file), or its end. */
static void
run_span(struct schema_run *run)
{
	const struct item *it = &run->items[run->idx];
	char *text;

	if (run->whole) {
		if (run->sidx > 0) {
			file_ran(run);
			return;
		}
		sent(pg_script(run->conn, it->sql, on_span, run));
		return;
	}
	if (run->sidx == run->nspans) {
		file_ran(run);
		return;
	}
	text = strndup(it->sql + run->spans[run->sidx].start,
	               run->spans[run->sidx].len);
	if (text == NULL) {
		fail(run, "%s: out of memory", it->path);
		return;
	}
	sent(pg_script(run->conn, text, on_span, run));
	free(text);
}

static void
on_begun(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;
	char buf[512];

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	if (!pg_result_ok(res)) {
		fail(run, "BEGIN failed: %s",
		     pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	run_span(run);
}

/* A top-level statement that would end the file's transaction, or -1. */
static long
transaction_control(const struct item *it, const struct sql_span *spans,
                    size_t n)
{
	static const char *const words[] = {"begin",    "start", "commit",
	                                    "end",      "abort", "rollback",
	                                    "prepare ", NULL};

	for (size_t i = 0; i < n; i++) {
		const char *s = it->sql + spans[i].start;
		for (size_t w = 0; words[w] != NULL; w++) {
			size_t len = strlen(words[w]);
			if (spans[i].len >= len &&
			    strncasecmp(s, words[w], len) == 0 &&
			    (spans[i].len == len ||
			     !(s[len] == '_' ||
			       (s[len] >= 'a' && s[len] <= 'z') ||
			       (s[len] >= 'A' && s[len] <= 'Z'))))
				return (long)i;
		}
	}
	return -1;
}

static void
start_item(struct schema_run *run)
{
	struct item *it = &run->items[run->idx];
	const char *values[2] = {run->job, it->step};
	char err[512];
	unsigned line = 0;
	long tc;

	run->log.step = it->step;
	free(run->spans);
	run->spans = NULL;
	run->nspans = run->sidx = 0;
	free(run->tags);
	run->tags = NULL;
	run->changed = 0;
	run->partial = false;
	stamp_start(run);
	sent(state_query(run,
	                 "UPDATE migrated.job_steps SET state = 'running'"
	                 " WHERE job_id = $1::bigint AND step = $2"
	                 " AND state = 'pending'",
	                 2, values, NULL));
	if (sql_split(it->sql, &run->spans, &run->nspans, &line, err,
	              sizeof(err)) < 0) {
		if (it->no_tx) {
			fail(run, "%s:%u: %s", it->path, line, err);
			return;
		}
		/* the server will say what is wrong with it */
		run->spans = NULL;
		run->nspans = 0;
	} else if (!it->no_tx && (tc = transaction_control(it, run->spans,
	                                                   run->nspans)) >= 0) {
		unsigned l, c;
		sql_position(it->sql, run->spans[tc].start, 1, &l, &c);
		fail(run,
		     "%s:%u:%u: the file ends or starts a transaction itself; "
		     "migrated runs each file in a transaction of its own with "
		     "its history row: remove the statement, or make \"-- "
		     "migrated: no-transaction\" the file's first line",
		     it->path, l, c);
		return;
	}
	run->whole = !it->no_tx && (!run->dry_run || run->spans == NULL);
	if (it->no_tx && run->dry_run) {
		char note[512];
		snprintf(note, sizeof(note),
		         "dry run: %s: not run (no-transaction: it cannot be "
		         "rolled back)",
		         it->step);
		add_warning(run, note);
		advance(run);
		return;
	}
	if (it->no_tx || run->dry_run) {
		run_span(run);
		return;
	}
	sent(pg_query(run->conn, "BEGIN", 0, NULL, on_begun, run));
}

static void
on_dry_end(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	finish(run, O_DONE, NULL);
}

static void
next_item(struct schema_run *run)
{
	if (run->idx < run->nitems && !run->stop) {
		start_item(run);
		return;
	}
	if (run->dry_run) {
		sent(pg_query(run->conn, "ROLLBACK", 0, NULL, on_dry_end, run));
		return;
	}
	if (run->stop) {
		log_ctx(LOG_INFO, &run->log, "stopping as asked");
		finish(run, O_STOPPED, NULL);
		return;
	}
	log_ctx(LOG_INFO, &run->log, "%s %zu version(s)",
	        run->revert ? "reverted" : "applied", run->nitems);
	finish(run, O_DONE, NULL);
}

/* ---- planning: the history against the directory ---- */

static void
on_dry_begun(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;
	char buf[512];

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	if (!pg_result_ok(res)) {
		fail(run, "BEGIN failed: %s",
		     pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	next_item(run);
}

static void
on_steps_synced(struct schema_run *run, const PGresult *res)
{
	(void)res;
	if (run->dry_run) {
		sent(pg_query(run->conn, "BEGIN", 0, NULL, on_dry_begun, run));
		return;
	}
	next_item(run);
}

/*
 * One step per file to run, in order after the steps done before (a
 * resumed job); steps not done that are no longer to run were done by an
 * earlier attempt whose progress was not recorded.
 */
static void
sync_steps(struct schema_run *run)
{
	json_t *names = json_array();
	char *text;
	const char *values[2];

	for (size_t i = 0; i < run->nitems; i++)
		json_array_append_new(names, json_string(run->items[i].step));
	text = json_dumps(names, JSON_COMPACT);
	json_decref(names);
	if (text == NULL) {
		fail(run, "out of memory");
		return;
	}
	values[0] = run->job;
	values[1] = text;
	if (state_query(
	            run,
	            "WITH want AS (SELECT s AS step, n::integer AS n"
	            "  FROM json_array_elements_text($2::json)"
	            "  WITH ORDINALITY AS u(s, n)),"
	            " base AS (SELECT coalesce(max(ord), 0) AS b"
	            "  FROM migrated.job_steps WHERE job_id = $1::bigint"
	            "  AND state = 'done'"
	            "  AND step NOT IN (SELECT step FROM want)),"
	            " ins AS (INSERT INTO migrated.job_steps (job_id, step, ord,"
	            "  rows_estimated) SELECT $1::bigint, step, b + n, 1"
	            "  FROM want, base ON CONFLICT (job_id, step) DO UPDATE"
	            "  SET state = 'pending', rows_done = 0, ord = EXCLUDED.ord"
	            "  RETURNING 1),"
	            " old AS (UPDATE migrated.job_steps SET state = 'done',"
	            "  rows_done = 1 WHERE job_id = $1::bigint"
	            "  AND state <> 'done' AND step NOT IN (SELECT step FROM want)"
	            "  RETURNING 1)"
	            "SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM old)",
	            2, values, on_steps_synced) < 0)
		fail(run, "cannot record the job's steps: the state database "
		          "is not connected");
	free(text);
}

/* NNN_name of a file: its name without the directory and ".sql". */
static void
step_name(const struct schema_file *f, char *out, size_t len)
{
	const char *base = strrchr(f->path, '/');
	size_t n;

	base = base != NULL ? base + 1 : f->path;
	n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".sql") == 0)
		n -= 4;
	snprintf(out, len, "%.*s", (int)n, base);
}

struct applied {
	long long version;
	const char *kind, *checksum, *name, *down; /* in the result */
};

static void
add_item(struct schema_run *run, const struct schema_file *f)
{
	struct item *it = &run->items[run->nitems++];

	it->f = f;
	if (run->revert) {
		it->sql = f->down_sql;
		it->path = f->down_path;
		it->checksum = f->down_checksum;
		it->no_tx = false;
	} else {
		it->sql = f->sql;
		it->path = f->path;
		it->checksum = f->checksum;
		it->no_tx = f->no_transaction;
	}
	step_name(f, it->step, sizeof(it->step));
}

/* Refuses an apply while an applied file was edited or is missing. */
static int
plan_apply(struct schema_run *run, const struct applied *a, size_t na)
{
	const struct schema_dir *dir = run->dir;

	for (size_t i = 0; i < na; i++) {
		const struct schema_file *f =
		        schema_dir_find(dir, a[i].version);

		if (f == NULL) {
			fail(run,
			     "refused before running anything: version %lld (%s) "
			     "is recorded as applied to %s but has no file in %s "
			     "any more; put the file back, or record the decision "
			     "with \"migratectl schema repair %s %lld forget\"",
			     a[i].version, a[i].name, run->dbname,
			     run->dir_path, run->set, a[i].version);
			return -1;
		}
		if (a[i].checksum != NULL &&
		    strcmp(a[i].checksum, f->checksum) != 0) {
			fail(run,
			     "refused before running anything: %s was edited "
			     "since it was applied (the history has sha256 "
			     "%.12s..., the file now %.12s...); undo the edit, or "
			     "accept it with \"migratectl schema repair %s %lld "
			     "accept\"",
			     f->path, a[i].checksum, f->checksum, run->set,
			     a[i].version);
			return -1;
		}
	}
	for (size_t i = 0; i < dir->n; i++) {
		const struct schema_file *f = &dir->files[i];
		bool done = false;

		if (run->to >= 0 && f->version > run->to)
			break;
		for (size_t k = 0; k < na && !done; k++)
			done = a[k].version == f->version;
		if (!done)
			add_item(run, f);
	}
	if (run->nitems > 0 && na > 0 &&
	    run->items[0].f->version < a[na - 1].version) {
		char note[512];
		snprintf(
		        note, sizeof(note),
		        "version %lld is older than the newest applied (%lld); "
		        "applying it out of order",
		        run->items[0].f->version, a[na - 1].version);
		add_warning(run, note);
	}
	return 0;
}

/* The newest applied versions above to (or the newest), newest first. */
static int
plan_revert(struct schema_run *run, const struct applied *a, size_t na)
{
	for (size_t k = na; k-- > 0;) {
		const struct schema_file *f;

		if (run->to >= 0 ? a[k].version <= run->to : run->nitems > 0)
			break;
		f = schema_dir_find(run->dir, a[k].version);
		if (f == NULL) {
			fail(run,
			     "refused before reverting anything: version %lld "
			     "(%s) has no files in %s any more, so no down file "
			     "to revert it with",
			     a[k].version, a[k].name, run->dir_path);
			return -1;
		}
		if (f->down_path == NULL) {
			char step[256];
			step_name(f, step, sizeof(step));
			fail(run,
			     "refused before reverting anything: version %lld "
			     "(%s) has no down file (%s/%s.down.sql); write one, "
			     "or revert to a later version only",
			     f->version, f->name, run->dir_path, step);
			return -1;
		}
		if (strcmp(a[k].kind, "applied") == 0 && a[k].down != NULL &&
		    strncmp(a[k].down, DOWN_PREFIX, strlen(DOWN_PREFIX)) == 0 &&
		    strcmp(a[k].down + strlen(DOWN_PREFIX), f->down_checksum) !=
		            0) {
			fail(run,
			     "refused before reverting anything: %s changed "
			     "since version %lld was applied (sha256 %.12s... "
			     "then, %.12s... now); restore the down file as it "
			     "was when the version was applied",
			     f->down_path, f->version,
			     a[k].down + strlen(DOWN_PREFIX), f->down_checksum);
			return -1;
		}
		add_item(run, f);
	}
	return 0;
}

static void
on_history(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;
	struct applied *a;
	size_t na = (size_t)0;
	char buf[512], err[1024];
	int rc;

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	if (!pg_result_ok(res)) {
		fail(run, "reading the schema history of %s: %s", run->dbname,
		     pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	/* the directory as it is now, under the lock */
	schema_dir_free(run->dir);
	run->dir = schema_dir_load(run->dir_path, err, sizeof(err));
	if (run->dir == NULL) {
		fail(run, "%s", err);
		return;
	}
	free(run->items);
	run->nitems = run->idx = 0;
	run->items = calloc(run->dir->n + 1, sizeof(*run->items));
	a = calloc((size_t)PQntuples(res) + 1, sizeof(*a));
	if (run->items == NULL || a == NULL) {
		free(a);
		fail(run, "out of memory");
		return;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		a[na].version = atoll(PQgetvalue(res, i, 0));
		a[na].kind = PQgetvalue(res, i, 1);
		a[na].checksum =
		        PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
		a[na].name = PQgetvalue(res, i, 3);
		a[na].down =
		        PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4);
		na++;
	}
	rc = run->revert ? plan_revert(run, a, na) : plan_apply(run, a, na);
	free(a);
	if (rc < 0)
		return;
	if (run->nitems == 0) {
		log_ctx(LOG_INFO, &run->log, "nothing to %s",
		        run->revert ? "revert" : "apply");
		finish(run, O_DONE, NULL);
		return;
	}
	log_ctx(LOG_INFO, &run->log, "%s %zu version(s) on %s%s",
	        run->revert ? "reverting" : "applying", run->nitems,
	        run->dbname, run->dry_run ? " (dry run)" : "");
	sync_steps(run);
}

static void
on_locked(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;
	const char *values[1] = {run->set};
	char buf[512];

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	if (!pg_result_ok(res)) {
		fail(run, "taking the lock on schema set %s: %s", run->set,
		     pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	/* a version's state: its newest succeeded row */
	sent(pg_query(run->conn,
	              "SELECT version, kind, checksum, name, adopted_from FROM"
	              " (SELECT DISTINCT ON (version) version, kind, checksum,"
	              "  name, adopted_from FROM migrated.schema_history"
	              "  WHERE set_name = $1 AND outcome = 'succeeded'"
	              "  ORDER BY version, id DESC) h"
	              " WHERE kind IN ('applied', 'baseline', 'adopted',"
	              "  'repaired') ORDER BY version",
	              1, values, on_history, run));
}

static void
on_ensured(void *arg, const PGresult *res, const char *error)
{
	struct schema_run *run = arg;
	const char *values[1] = {run->set};
	char buf[512];

	(void)error;
	if (run->freeing || res == NULL || run->ended)
		return;
	if (!pg_result_ok(res)) {
		fail(run, "creating the schema history table on %s: %s",
		     run->dbname, pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	log_ctx(LOG_DEBUG, &run->log, "waiting for the lock on schema set %s",
	        run->set);
	/* the key every writer of the set's history locks (schema_history.h):
	 * baseline and repair wait for a run, and a run for them */
	sent(pg_query(run->conn,
	              "SELECT pg_advisory_lock(" SCHEMA_HISTORY_LOCK_KEY ")", 1,
	              values, on_locked, run));
}

static void
on_ignored(void *arg, const PGresult *res, const char *error)
{
	(void)arg;
	(void)res;
	(void)error;
}

static void
on_state(void *arg, enum pg_state state, const char *error)
{
	struct schema_run *run = arg;

	if (run->freeing || run->ended)
		return;
	if (state != PG_READY) {
		if (state == PG_DISCONNECTED && run->gen > 0)
			log_ctx(LOG_WARNING, &run->log,
			        "connection to %s lost (%s); the file running "
			        "then rolled back, and the job goes on from the "
			        "history once the database is back",
			        run->dbname, error != NULL ? error : "?");
		return;
	}
	run->gen++;
	/* a dead daemon's session ends soon, and so does its lock */
	sent(pg_query(run->conn,
	              "SELECT set_config('client_connection_check_interval',"
	              " '1000', false)",
	              0, NULL, on_ignored, run));
	sent(pg_script(run->conn, run->ensure_sql, on_ensured, run));
}

/* ---- the run ---- */

static char *
arg_string(json_t *args, const char *key)
{
	const char *s = json_string_value(json_object_get(args, key));

	return s != NULL ? strdup(s) : NULL;
}

struct schema_run *
schema_run_start(const struct schema_run_ctx *ctx,
                 const struct schema_run_events *ev)
{
	struct schema_run *run = calloc(1, sizeof(*run));
	const struct config_schema *cs;
	const char *op, *to;
	char name[160];

	if (run == NULL)
		return NULL;
	run->base = ctx->base;
	run->state = ctx->state;
	run->ev = *ev;
	run->ensure_sql = schema_history_ensure_sql;
	snprintf(run->job, sizeof(run->job), "%s", ctx->job);
	snprintf(run->plan, sizeof(run->plan), "schema:%s", ctx->set);
	run->set = strdup(ctx->set);
	run->owner = strdup(ctx->owner);
	run->uid = arg_string(ctx->args, "uid");
	run->username = arg_string(ctx->args, "username");
	op = json_string_value(json_object_get(ctx->args, "op"));
	to = json_string_value(json_object_get(ctx->args, "to"));
	run->revert = op != NULL && strcmp(op, "revert") == 0;
	run->to = to != NULL ? atoll(to) : -1;
	run->dry_run = json_is_true(json_object_get(ctx->args, "dry_run")) ||
	               (json_string_value(json_object_get(ctx->args,
	                                                  "dry_run")) != NULL &&
	                strcmp(json_string_value(
	                               json_object_get(ctx->args, "dry_run")),
	                       "true") == 0);
	run->report = event_new(ctx->base, -1, 0, on_report, run);
	run->log.job = atoll(ctx->job);
	run->log.plan = run->plan;
	if (run->set == NULL || run->owner == NULL || run->report == NULL) {
		schema_run_free(run);
		return NULL;
	}
	cs = config_schema(ctx->cfg, ctx->set);
	if (cs == NULL) {
		fail(run, "schema set %s is not configured here any more",
		     ctx->set);
		return run;
	}
	run->dbname = strdup(cs->database);
	run->dir_path = strdup(cs->dir);
	run->log.tenant = run->dbname;
	if (strcmp(cs->database, "target") == 0) {
		run->conninfo = strdup(ctx->cfg->target_conninfo);
	} else {
		const struct config_database *db =
		        config_database(ctx->cfg, cs->database);
		if (db == NULL || db->conninfo == NULL) {
			fail(run,
			     "schema set %s: database %s is not a PostgreSQL "
			     "[database NAME] of this daemon",
			     ctx->set, cs->database);
			return run;
		}
		run->conninfo = strdup(db->conninfo);
	}
	if (run->dbname == NULL || run->dir_path == NULL ||
	    run->conninfo == NULL) {
		schema_run_free(run);
		return NULL;
	}
	log_ctx(LOG_INFO, &run->log, "%s%s of schema set %s on %s",
	        run->revert ? "revert" : "apply",
	        run->dry_run ? " (dry run)" : "", run->set, run->dbname);
	snprintf(name, sizeof(name), "migrated-schema-%s", run->set);
	run->conn = pg_conn_new(ctx->base, run->conninfo, name, on_state, run);
	if (run->conn == NULL) {
		schema_run_free(run);
		return NULL;
	}
	return run;
}

void
schema_run_stop(struct schema_run *run)
{
	run->stop = true;
}

void
schema_run_free(struct schema_run *run)
{
	if (run == NULL)
		return;
	run->freeing = true;
	for (struct ticket *t = run->tickets; t != NULL; t = t->next)
		t->run = NULL; /* they free themselves when answered */
	pg_conn_free(run->conn);
	if (run->report != NULL)
		event_free(run->report);
	schema_dir_free(run->dir);
	free(run->items);
	free(run->spans);
	free(run->tags);
	free(run->error);
	free(run->msg);
	free(run->set);
	free(run->dbname);
	free(run->conninfo);
	free(run->dir_path);
	free(run->owner);
	free(run->uid);
	free(run->username);
	free(run);
}
