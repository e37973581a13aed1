/*
 * Running one file of a schema run (schema_apply_file.h) on the set's
 * database: BEGIN, the file in one piece (simple query protocol), its
 * history row, COMMIT; a no-transaction file statement by statement and
 * its row after the last one; in a dry run, statement by statement inside
 * the run's one transaction. A failure is described as file:line:column,
 * rolled back, and recorded in the history outside any transaction.
 */
#include "schema_apply_file.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sql_params.h"

struct schema_file_run {
	struct pg_conn *conn;
	struct schema_file_ctx ctx;
	struct schema_file_events ev;
	const struct log_ctx *log;
	bool cancelled;

	/* the file running */
	const struct schema_item *it;
	bool more; /* files after it in the run */
	struct sql_span *spans;
	size_t nspans, sidx;
	bool whole; /* sent in one piece, not by statements */
	char *tags;
	long long changed;
	struct timespec t0;
	char started[64];
	char *error;    /* the failure being recorded */
	bool partial;   /* no-transaction: some statements took effect */
	bool also_sent; /* ctx.also, after the history row */
};

/*
 * A query not sent means the connection is gone: the run starts over once
 * it is back.
 */
static void
sent(int rc)
{
	(void)rc;
}

static void __attribute__((format(printf, 2, 3)))
fail(struct schema_file_run *fr, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fr->ev.failed(fr->ev.arg, msg);
}

static long long elapsed_ms(const struct schema_file_run *fr);

/* The file is done (recorded, committed; dry: ran, or skipped). */
static void
file_done(struct schema_file_run *fr)
{
	fr->ev.ran(fr->ev.arg, fr->tags, fr->changed, elapsed_ms(fr));
}

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
describe(const struct schema_item *it, const PGresult *res, size_t start,
         bool whole, const struct sql_span *spans, size_t nspans)
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

static void
stamp_start(struct schema_file_run *fr)
{
	struct timespec now;
	struct tm tm;
	char base[40];

	clock_gettime(CLOCK_MONOTONIC, &fr->t0);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(fr->started, sizeof(fr->started), "%s.%06ld+00", base,
	         now.tv_nsec / 1000);
}

static long long
elapsed_ms(const struct schema_file_run *fr)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - fr->t0.tv_sec) * 1000 +
	       (now.tv_nsec - fr->t0.tv_nsec) / 1000000;
}

static int
record(struct schema_file_run *fr, const char *outcome, pg_result_cb cb)
{
	const struct schema_item *it = fr->it;
	char version[24], ms[24], down[SCHEMA_CHECKSUM_LEN + 8];
	const char *values[13];
	bool failed = strcmp(outcome, "failed") == 0;

	snprintf(version, sizeof(version), "%lld", it->f->version);
	snprintf(ms, sizeof(ms), "%lld", elapsed_ms(fr));
	snprintf(down, sizeof(down), SCHEMA_DOWN_PREFIX "%s",
	         it->f->down_checksum);
	values[0] = fr->ctx.set;
	values[1] = version;
	values[2] = it->f->name;
	values[3] = it->checksum;
	values[4] = fr->ctx.revert ? "reverted" : "applied";
	/* the down file's checksum as it was applied: revert compares it */
	values[5] = !fr->ctx.revert && it->f->down_path != NULL ? down : NULL;
	values[6] = fr->ctx.uid;
	values[7] = fr->ctx.username;
	values[8] = fr->ctx.job;
	values[9] = fr->started;
	values[10] = ms;
	values[11] = outcome;
	values[12] = failed ? fr->error : NULL;
	/* not schema_history_insert_sql: its finished is now(), which in the
	 * file's transaction is when the transaction began */
	return pg_query(
	        fr->conn,
	        "INSERT INTO migrated.schema_history (set_name, version,"
	        " name, checksum, kind, adopted_from, uid, username,"
	        " job_id, started, finished, duration_ms, outcome,"
	        " error) VALUES ($1, $2::bigint, $3, $4, $5, $6,"
	        " $7::integer, $8, $9::bigint, $10::timestamptz,"
	        " clock_timestamp(), $11::bigint, $12, $13)",
	        13, values, cb, fr);
}

static void
on_failure_recorded(void *arg, const PGresult *res, const char *error)
{
	struct schema_file_run *fr = arg;
	const struct schema_item *it;
	char buf[512];

	(void)error;
	if (fr->cancelled || res == NULL)
		return;
	it = fr->it;
	if (!pg_result_ok(res))
		log_ctx(LOG_WARNING, fr->log,
		        "cannot record the failure in the history: %s",
		        pg_result_error(res, buf, sizeof(buf)));
	fail(fr, "%s; version %lld (%s) was not %s%s%s", fr->error,
	     it->f->version, it->f->name,
	     fr->ctx.revert ? "reverted" : "recorded as applied",
	     fr->partial ? " although the statements before the failing "
	                   "one took effect (the file runs outside a "
	                   "transaction)"
	                 : "",
	     fr->more ? ", and the versions after it did "
	                "not run"
	              : "");
}

/* Records the failure (outside any transaction), then fails the job. */
static void
record_failure(struct schema_file_run *fr)
{
	if (fr->ctx.dry_run) { /* a dry run records nothing */
		const struct schema_item *it = fr->it;
		fail(fr, "dry run: %s; version %lld (%s) would fail", fr->error,
		     it->f->version, it->f->name);
		return;
	}
	if (record(fr, "failed", on_failure_recorded) < 0)
		fail(fr, "%s", fr->error);
}

static void
on_rolled_back(void *arg, const PGresult *res, const char *error)
{
	struct schema_file_run *fr = arg;

	(void)error;
	if (fr->cancelled || res == NULL)
		return;
	record_failure(fr);
}

/* A statement of the file failed: describe it, roll back, record. */
static void
file_failed(struct schema_file_run *fr, const PGresult *res, size_t start)
{
	const struct schema_item *it = fr->it;

	free(fr->error);
	fr->error = describe(it, res, start, fr->whole, fr->spans, fr->nspans);
	if (fr->error == NULL) {
		fail(fr, "%s failed (out of memory describing it)", it->path);
		return;
	}
	log_ctx(LOG_ERR, fr->log, "%s", fr->error);
	if (it->no_tx && !fr->ctx.dry_run) {
		fr->partial = fr->sidx > 0;
		record_failure(fr);
		return;
	}
	if (pg_query(fr->conn, "ROLLBACK", 0, NULL, on_rolled_back, fr) < 0)
		fail(fr, "%s", fr->error);
}

static void
on_committed(void *arg, const PGresult *res, const char *error)
{
	struct schema_file_run *fr = arg;

	(void)error;
	if (fr->cancelled || res == NULL)
		return;
	if (!pg_result_ok(res)) { /* a deferred constraint, say */
		file_failed(fr, res, 0);
		return;
	}
	file_done(fr);
}

/* Recorded (and the caller's statement run): commit, or done. */
static void
recorded(struct schema_file_run *fr)
{
	if (fr->it->no_tx) {
		file_done(fr);
		return;
	}
	if (pg_query(fr->conn, "COMMIT", 0, NULL, on_committed, fr) < 0)
		return; /* the connection is gone: on_state starts over */
}

static void
record_failed(struct schema_file_run *fr, const PGresult *res)
{
	const struct schema_item *it = fr->it;
	char buf[512];

	fail(fr, "%s ran, but recording it in the history failed: %s%s",
	     it->path, pg_result_error(res, buf, sizeof(buf)),
	     it->no_tx ? " (it ran outside a transaction: record it "
	                 "with schema baseline or repair)"
	               : "; it was rolled back");
}

/* The history row, then the caller's statement (ctx.also), answered. */
static void
on_recorded(void *arg, const PGresult *res, const char *error)
{
	struct schema_file_run *fr = arg;
	const struct schema_file_stmt *also = fr->ctx.also;

	(void)error;
	if (fr->cancelled || res == NULL)
		return;
	if (!pg_result_ok(res)) {
		record_failed(fr, res);
		return;
	}
	if (also != NULL && !fr->also_sent) {
		fr->also_sent = true;
		sent(pg_query(fr->conn, also->sql, also->n, also->values,
		              on_recorded, fr));
		return;
	}
	recorded(fr);
}

/* Every statement ran: record the file (and commit), or, dry, go on. */
static void
file_ran(struct schema_file_run *fr)
{
	if (fr->ctx.dry_run) {
		file_done(fr);
		return;
	}
	if (record(fr, "succeeded", on_recorded) < 0)
		return; /* the connection is gone: on_state starts over */
}

static void
add_tag(struct schema_file_run *fr, const PGresult *res)
{
	const char *tag = PQcmdStatus((PGresult *)res);
	const char *rows = PQcmdTuples((PGresult *)res);
	size_t have = fr->tags != NULL ? strlen(fr->tags) : 0;
	char *p;

	if (rows[0] != '\0' && strncmp(tag, "SELECT", 6) != 0)
		fr->changed += atoll(rows);
	if (tag[0] == '\0')
		return;
	p = realloc(fr->tags, have + strlen(tag) + 3);
	if (p == NULL)
		return;
	snprintf(p + have, strlen(tag) + 3, "%s%s", have > 0 ? ", " : "", tag);
	fr->tags = p;
}

static void run_span(struct schema_file_run *fr);

static void
on_span(void *arg, const PGresult *res, const char *error)
{
	struct schema_file_run *fr = arg;

	(void)error;
	if (fr->cancelled || res == NULL)
		return;
	if (!pg_result_ok(res)) {
		file_failed(fr, res, fr->whole ? 0 : fr->spans[fr->sidx].start);
		return;
	}
	add_tag(fr, res);
	fr->sidx++;
	run_span(fr);
}

/* The next statement of the file (or the whole file), or its end. */
static void
run_span(struct schema_file_run *fr)
{
	const struct schema_item *it = fr->it;
	char *text;

	if (fr->whole) {
		if (fr->sidx > 0) {
			file_ran(fr);
			return;
		}
		sent(pg_script(fr->conn, it->sql, on_span, fr));
		return;
	}
	if (fr->sidx == fr->nspans) {
		file_ran(fr);
		return;
	}
	text = strndup(it->sql + fr->spans[fr->sidx].start,
	               fr->spans[fr->sidx].len);
	if (text == NULL) {
		fail(fr, "%s: out of memory", it->path);
		return;
	}
	sent(pg_script(fr->conn, text, on_span, fr));
	free(text);
}

static void
on_begun(void *arg, const PGresult *res, const char *error)
{
	struct schema_file_run *fr = arg;
	char buf[512];

	(void)error;
	if (fr->cancelled || res == NULL)
		return;
	if (!pg_result_ok(res)) {
		fail(fr, "BEGIN failed: %s",
		     pg_result_error(res, buf, sizeof(buf)));
		return;
	}
	run_span(fr);
}

/* A top-level statement that would end the file's transaction, or -1. */
static long
transaction_control(const struct schema_item *it, const struct sql_span *spans,
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

void
schema_file_run_start(struct schema_file_run *fr, const struct schema_item *it,
                      bool more)
{
	char err[512];
	unsigned line = 0;
	long tc;

	fr->it = it;
	fr->more = more;
	free(fr->spans);
	fr->spans = NULL;
	fr->nspans = fr->sidx = 0;
	free(fr->tags);
	fr->tags = NULL;
	fr->changed = 0;
	fr->partial = false;
	fr->also_sent = false;
	stamp_start(fr);
	if (sql_split(it->sql, &fr->spans, &fr->nspans, &line, err,
	              sizeof(err)) < 0) {
		if (it->no_tx) {
			fail(fr, "%s:%u: %s", it->path, line, err);
			return;
		}
		/* the server will say what is wrong with it */
		fr->spans = NULL;
		fr->nspans = 0;
	} else if (!it->no_tx &&
	           (tc = transaction_control(it, fr->spans, fr->nspans)) >= 0) {
		unsigned l, c;
		sql_position(it->sql, fr->spans[tc].start, 1, &l, &c);
		fail(fr,
		     "%s:%u:%u: the file ends or starts a transaction itself; "
		     "migrated runs each file in a transaction of its own with "
		     "its history row: remove the statement, or make \"-- "
		     "migrated: no-transaction\" the file's first line",
		     it->path, l, c);
		return;
	}
	fr->whole = !it->no_tx && (!fr->ctx.dry_run || fr->spans == NULL);
	if (it->no_tx && fr->ctx.dry_run) {
		char note[512];
		snprintf(note, sizeof(note),
		         "dry run: %s: not run (no-transaction: it cannot be "
		         "rolled back)",
		         it->step);
		fr->ev.warning(fr->ev.arg, note);
		file_done(fr);
		return;
	}
	if (it->no_tx || fr->ctx.dry_run) {
		run_span(fr);
		return;
	}
	sent(pg_query(fr->conn, "BEGIN", 0, NULL, on_begun, fr));
}

struct schema_file_run *
schema_file_run_new(struct pg_conn *conn, const struct schema_file_ctx *ctx,
                    const struct schema_file_events *ev,
                    const struct log_ctx *log)
{
	struct schema_file_run *fr = calloc(1, sizeof(*fr));

	if (fr == NULL)
		return NULL;
	fr->conn = conn;
	fr->ctx = *ctx;
	fr->ev = *ev;
	fr->log = log;
	return fr;
}

void
schema_file_run_cancel(struct schema_file_run *fr)
{
	if (fr != NULL)
		fr->cancelled = true;
}

void
schema_file_run_free(struct schema_file_run *fr)
{
	if (fr == NULL)
		return;
	free(fr->spans);
	free(fr->tags);
	free(fr->error);
	free(fr);
}
