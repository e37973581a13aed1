#include "clear.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct clear {
	struct step_ctx ctx;
	json_t *steps;
	const char *owner;
	clear_done_cb cb;
	void *arg;
	size_t left; /* steps[left - 1] is the next to look at */
	const struct plan_step *step;
	char *sql;
	char rows[24];
	struct step_error error;
};

static void next_clear(struct clear *c);

static void
note_error(struct clear *c, const PGresult *res)
{
	char prefix[128];

	snprintf(prefix, sizeof(prefix), "step %s: clear: ", c->step->name);
	step_note_error(&c->error, res, prefix);
}

static void
on_part(void *arg, const PGresult *res, const char *error)
{
	(void)error;
	if (res != NULL)
		note_error(arg, res);
}

static void
on_end(void *arg, const PGresult *res, const char *error)
{
	struct clear *c = arg;

	on_part(arg, res, error);
	if (res == NULL)
		return;
	if (c->error.msg[0] != '\0') {
		c->cb(c->arg, c->error.msg, c->error.stale);
		return;
	}
	log_ctx(LOG_NOTICE, c->ctx.log, "fresh: step %s cleared (%s rows)",
	        c->step->name, c->rows);
	next_clear(c);
}

static void
on_cleared(void *arg, const PGresult *res, const char *error)
{
	struct clear *c = arg;
	const char *values[4] = {c->ctx.job, c->step->name, c->owner, c->rows};

	on_part(arg, res, error);
	if (res == NULL)
		return;
	if (c->error.msg[0] != '\0') {
		if (pg_query(c->ctx.target, "ROLLBACK", 0, NULL, on_end, c) < 0)
			return; /* connection lost: the driver drops the job */
		return;
	}
	snprintf(c->rows, sizeof(c->rows), "%s",
	         PQntuples(res) == 1 ? PQgetvalue(res, 0, 0)
	                             : PQcmdTuples((PGresult *)res));
	if (c->rows[0] == '\0')
		snprintf(c->rows, sizeof(c->rows), "0");
	if (pg_query(c->ctx.target,
	             "SELECT migrated.cleared($1::bigint, $2, $3, $4::bigint)",
	             4, values, on_part, c) < 0 ||
	    pg_query(c->ctx.target, "COMMIT", 0, NULL, on_end, c) < 0)
		return;
}

/* clear's text, with its deleted rows kept as a backup when asked. */
static int
build(struct clear *c, size_t n)
{
	const struct plan_step *st = c->step;

	free(c->sql);
	c->sql = NULL;
	if (!st->backup)
		return asprintf(&c->sql,
		                "WITH d AS (%s RETURNING 1)"
		                " SELECT count(*) FROM d",
		                st->clear.stmt.text) < 0
		               ? -1
		               : 0;
	return asprintf(
	               &c->sql,
	               "WITH d AS (%s RETURNING %s::text AS r),"
	               " b AS (INSERT INTO migrated.backups (job_id, step, rows)"
	               "  SELECT $%zu::bigint, $%zu, array_agg(r) FROM d"
	               "  HAVING count(*) > 0)"
	               " SELECT count(*) FROM d",
	               st->clear.stmt.text, st->clear_ref, n + 1, n + 2) < 0
	               ? -1
	               : 0;
}

static void
next_clear(struct clear *c)
{
	const char *values[STEP_MAX_VALUES], *missing;
	json_t *entry;
	int n;

	for (;;) {
		if (c->left == 0) {
			c->cb(c->arg, NULL, false);
			return;
		}
		entry = json_array_get(c->steps, --c->left);
		c->step = plan_step_find(
		        c->ctx.plan,
		        json_string_value(json_array_get(entry, 0)));
		if (c->step != NULL && c->step->has_clear &&
		    !json_is_true(json_array_get(entry, 3)))
			break;
	}
	c->ctx.step = c->step;
	c->error.msg[0] = '\0';
	n = step_bind(&c->ctx, &c->step->clear.stmt, NULL, NULL, values,
	              &missing);
	if (n < 0 || build(c, (size_t)n) < 0) {
		snprintf(c->error.msg, sizeof(c->error.msg),
		         "step %s: clear: %s", c->step->name,
		         n < 0 ? "a parameter has no value" : "out of memory");
		c->cb(c->arg, c->error.msg, false);
		return;
	}
	if (c->step->backup) {
		values[n++] = c->ctx.job;
		values[n++] = c->step->name;
	}
	if (pg_query(c->ctx.target, "BEGIN", 0, NULL, on_part, c) < 0 ||
	    pg_query(c->ctx.target, c->sql, n, values, on_cleared, c) < 0)
		return;
}

struct clear *
clear_start(const struct step_ctx *ctx, json_t *steps, const char *owner,
            clear_done_cb cb, void *arg)
{
	struct clear *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->ctx = *ctx;
	c->steps = json_incref(steps);
	c->owner = owner;
	c->cb = cb;
	c->arg = arg;
	c->left = json_array_size(steps);
	next_clear(c);
	return c;
}

void
clear_free(struct clear *c)
{
	if (c == NULL)
		return;
	json_decref(c->steps);
	free(c->sql);
	free(c);
}
