#include "schema_sqlite_file.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "schema_history.h"
#include "schema_sqlite_history.h"

void
schema_sqlite_position(const char *text, size_t off, unsigned *line,
                       unsigned *column)
{
	*line = 1;
	*column = 1;
	for (size_t i = 0; i < off && text[i] != '\0'; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\n' ||
		    (c == '\r' && text[i + 1] != '\n' && i + 1 <= off)) {
			(*line)++;
			*column = 1;
		} else if (c != '\r' && (c & 0xC0) != 0x80) {
			(*column)++; /* a character starts: UTF-8 lead byte */
		}
	}
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The statement's first word, upper-cased, in buf. */
static const char *
first_word(const char *sql, char *buf, size_t len)
{
	size_t n = 0;

	for (;;) {
		while (*sql == ' ' || *sql == '\t' || *sql == '\n' ||
		       *sql == '\r')
			sql++;
		if (sql[0] == '-' && sql[1] == '-') {
			while (*sql != '\0' && *sql != '\n')
				sql++;
		} else if (sql[0] == '/' && sql[1] == '*') {
			const char *e = strstr(sql + 2, "*/");
			sql = e != NULL ? e + 2 : sql + strlen(sql);
		} else {
			break;
		}
	}
	while (n + 1 < len &&
	       ((*sql >= 'a' && *sql <= 'z') || (*sql >= 'A' && *sql <= 'Z')))
		buf[n++] = (char)(*sql >= 'a' ? *sql - 'a' + 'A' : *sql), sql++;
	buf[n] = '\0';
	return buf;
}

/* A statement that would end the file's transaction. */
static bool
ends_transaction(const char *sql)
{
	char w[16], next[16];
	const char *rest;

	first_word(sql, w, sizeof(w));
	if (strcmp(w, "BEGIN") == 0 || strcmp(w, "COMMIT") == 0 ||
	    strcmp(w, "END") == 0)
		return true;
	if (strcmp(w, "ROLLBACK") != 0)
		return false;
	rest = strcasestr(sql, "ROLLBACK") + 8;
	first_word(rest, next, sizeof(next));
	if (strcmp(next, "TRANSACTION") == 0)
		first_word(strcasestr(rest, "TRANSACTION") + 11, next,
		           sizeof(next));
	return strcmp(next, "TO") != 0; /* ROLLBACK TO a savepoint is fine */
}

static void
add_tag(struct schema_sqlite_file_out *out, const char *sql, int changes,
        bool counts)
{
	size_t n = strlen(out->tags);
	char w1[32], w2[32];
	const char *after;

	first_word(sql, w1, sizeof(w1));
	after = strcasestr(sql, w1) != NULL ? strcasestr(sql, w1) + strlen(w1)
	                                    : sql;
	first_word(after, w2, sizeof(w2));
	if (strcmp(w1, "CREATE") != 0 && strcmp(w1, "DROP") != 0 &&
	    strcmp(w1, "ALTER") != 0)
		w2[0] = '\0';
	if (counts)
		snprintf(out->tags + n, sizeof(out->tags) - n, "%s%s%s%s %d",
		         n > 0 ? "; " : "", w1, w2[0] != '\0' ? " " : "", w2,
		         changes);
	else
		snprintf(out->tags + n, sizeof(out->tags) - n, "%s%s%s%s",
		         n > 0 ? "; " : "", w1, w2[0] != '\0' ? " " : "", w2);
}

/* Every statement of it->sql; -1 with out->error at the failing one. */
static int
run_statements(sqlite3 *db, const struct schema_sqlite_file_in *in,
               struct schema_sqlite_file_out *out, bool in_tx)
{
	return schema_sqlite_run_text(db, in->it->path, in->it->sql, in_tx,
	                              out);
}

int
schema_sqlite_run_text(sqlite3 *db, const char *path, const char *sql,
                       bool in_tx, struct schema_sqlite_file_out *out)
{
	const struct {
		const char *path, *sql;
	} file = {path, sql}, *it = &file;
	const char *p = it->sql;

	while (*p != '\0') {
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		unsigned line, col;
		int rc = sqlite3_prepare_v2(db, p, -1, &st, &tail);
		int off;
		char w[16];

		if (rc != SQLITE_OK) {
			off = sqlite3_error_offset(db);
			/* the offset is in the text handed to prepare */
			schema_sqlite_position(
			        it->sql,
			        (size_t)(p - it->sql) +
			                (off >= 0 ? (size_t)off
			                          : strspn(p, " \t\r\n")),
			        &line, &col);
			snprintf(out->error, sizeof(out->error),
			         "%s:%u:%u: %s (SQLite: %s)", it->path, line,
			         col, sqlite3_errmsg(db), sqlite3_errstr(rc));
			return -1;
		}
		if (st == NULL) { /* only white space or comments left */
			p = tail;
			continue;
		}
		schema_sqlite_position(
		        it->sql, (size_t)(p - it->sql) + strspn(p, " \t\r\n"),
		        &line, &col);
		if (in_tx && ends_transaction(sqlite3_sql(st))) {
			snprintf(
			        out->error, sizeof(out->error),
			        "%s:%u:%u: %s would end the transaction the file "
			        "runs in together with its history row: take it "
			        "out, or make the file's first line \"-- "
			        "migrated: no-transaction\"",
			        it->path, line, col,
			        first_word(sqlite3_sql(st), w, sizeof(w)));
			sqlite3_finalize(st);
			return -1;
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			; /* a SELECT's rows are dropped */
		if (rc != SQLITE_DONE) {
			const char *msg = sqlite3_errmsg(db);
			snprintf(
			        out->error, sizeof(out->error),
			        "%s:%u:%u: %s (SQLite: %s)%s", it->path, line,
			        col, msg, sqlite3_errstr(rc),
			        strstr(msg, "within a transaction") != NULL
			                ? "; a statement that cannot run in a "
			                  "transaction needs the file's first "
			                  "line \"-- migrated: no-transaction\""
			                : "");
			sqlite3_finalize(st);
			return -1;
		}
		{
			bool dml = !sqlite3_stmt_readonly(st) &&
			           sqlite3_changes(db) > 0;
			out->changed += dml ? sqlite3_changes(db) : 0;
			add_tag(out, sqlite3_sql(st), sqlite3_changes(db), dml);
		}
		sqlite3_finalize(st);
		p = tail;
	}
	return 0;
}

static int
record(sqlite3 *db, const struct schema_sqlite_file_in *in, const char *started,
       long long ms, const char *error, char *err, size_t errlen)
{
	const struct schema_item *it = in->it;
	char down[SCHEMA_CHECKSUM_LEN + 8];
	struct schema_sqlite_row r = {
	        .set = in->set,
	        .version = it->f->version,
	        .name = it->f->name,
	        .checksum = it->checksum,
	        .kind = in->revert ? "reverted" : "applied",
	        .uid = in->uid,
	        .username = in->username,
	        .job = in->job,
	        .started = started,
	        .duration_ms = ms,
	        .outcome = error != NULL ? "failed" : "succeeded",
	        .error = error,
	};

	snprintf(down, sizeof(down), SCHEMA_DOWN_PREFIX "%s",
	         it->f->down_checksum);
	/* the down file's checksum as it was applied: revert compares it */
	if (!in->revert && it->f->down_path != NULL)
		r.adopted_from = down;
	return schema_sqlite_history_insert(db, &r, err, errlen);
}

/* Whether the version is (still) to run, read under the write lock. */
static int
still_to_run(sqlite3 *db, const struct schema_sqlite_file_in *in, bool *run,
             char *err, size_t errlen)
{
	json_t *rows = schema_sqlite_history_rows(db, in->set, err, errlen);
	bool applied = false;
	size_t i;
	json_t *r;

	if (rows == NULL)
		return -1;
	json_array_foreach(rows, i, r)
	{
		if (json_integer_value(json_object_get(r, "version")) ==
		    in->it->f->version)
			applied = schema_history_kind_applied(
			        json_string_value(json_object_get(r, "kind")));
	}
	json_decref(rows);
	*run = in->revert ? applied : !applied;
	return 0;
}

static void
rollback(sqlite3 *db)
{
	char ignore[256];

	if (!sqlite3_get_autocommit(db) &&
	    schema_sqlite_exec(db, "ROLLBACK", ignore, sizeof(ignore)) < 0)
		return; /* the connection's own state: nothing more to do */
}

int
schema_sqlite_file_run(sqlite3 *db, const struct schema_sqlite_file_in *in,
                       struct schema_sqlite_file_out *out)
{
	char started[40], err[1024];
	long long t0 = now_ms();
	bool run = true;
	int rc;

	memset(out, 0, sizeof(*out));
	schema_sqlite_now(started, sizeof(started));
	if (in->dry_run) {
		rc = run_statements(db, in, out, true);
		out->ms = now_ms() - t0;
		return rc;
	}
	if (!in->it->no_tx) {
		if (schema_sqlite_exec(db, "BEGIN IMMEDIATE", err,
		                       sizeof(err)) < 0 ||
		    still_to_run(db, in, &run, err, sizeof(err)) < 0) {
			int code = sqlite3_errcode(db) & 0xff;

			out->busy =
			        code == SQLITE_BUSY || code == SQLITE_LOCKED;
			snprintf(out->error, sizeof(out->error), "%s: %s",
			         in->it->path, err);
			rollback(db);
			return -1;
		}
		if (!run) {
			rollback(db);
			out->skipped = true;
			snprintf(out->tags, sizeof(out->tags),
			         "%s by another applier meanwhile",
			         in->revert ? "reverted" : "applied");
			return 0;
		}
	}
	rc = run_statements(db, in, out, !in->it->no_tx);
	out->ms = now_ms() - t0;
	if (rc < 0) {
		rollback(db);
		if (in->it->no_tx) {
			size_t n = strlen(out->error);
			snprintf(out->error + n, sizeof(out->error) - n,
			         " (a no-transaction file: its statements "
			         "before this one stay done)");
		}
		/* the failure is history too, outside the rolled back work */
		if (record(db, in, started, out->ms, out->error, err,
		           sizeof(err)) < 0) {
			size_t n = strlen(out->error);
			snprintf(out->error + n, sizeof(out->error) - n,
			         "; and recording the failure failed: %s", err);
		}
		return -1;
	}
	if (record(db, in, started, out->ms, NULL, err, sizeof(err)) < 0 ||
	    (!in->it->no_tx &&
	     schema_sqlite_exec(db, "COMMIT", err, sizeof(err)) < 0)) {
		snprintf(out->error, sizeof(out->error), "%s: %s", in->it->path,
		         err);
		rollback(db);
		return -1;
	}
	return 0;
}
