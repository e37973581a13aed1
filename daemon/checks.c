#include "checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct checks {
	struct pg_conn *conn;
	const struct plan *plan;
	const struct plan_check *list;
	size_t n, next;
	char *tenant;
	json_t *params;
	json_t *results;
	bool failed;
	bool lost;
	checks_done_cb cb;
	void *arg;
};

static void run_next(struct checks *c);

static void
finish(struct checks *c, const char *error)
{
	struct checks_outcome out = {
	        .results = c->results,
	        .failed = c->failed,
	        .error = error,
	        .unavailable = c->lost,
	};

	c->cb(c->arg, &out);
	json_decref(c->results);
	json_decref(c->params);
	free(c->tenant);
	free(c);
}

static void
on_check(void *arg, const PGresult *res, const char *error)
{
	struct checks *c = arg;
	const struct plan_check *check = &c->list[c->next];
	char buf[1024];
	json_t *found;
	bool ok;

	if (res == NULL) {
		c->lost = true;
		finish(c, error);
		return;
	}
	if (!pg_result_ok(res)) {
		char msg[1200];
		snprintf(msg, sizeof(msg), "%s: %s", check->name,
		         pg_result_error(res, buf, sizeof(buf)));
		finish(c, msg);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		/* a COPY (its rows were dropped by pg.c) or a command */
		char msg[1200];
		snprintf(msg, sizeof(msg),
		         "%s: sql must be a query that returns rows (SELECT "
		         "...); it ran as %s",
		         check->name, PQcmdStatus((PGresult *)res));
		finish(c, msg);
		return;
	}
	if (PQntuples(res) == 0 || PQnfields(res) == 0 ||
	    PQgetisnull(res, 0, 0))
		found = json_null();
	else
		found = json_string(PQgetvalue(res, 0, 0));
	ok = json_is_string(found) &&
	     strcmp(json_string_value(found), check->expect) == 0;
	if (!ok && check->severity == PLAN_SEVERITY_ERROR)
		c->failed = true;
	json_array_append_new(
	        c->results,
	        json_pack("{s:s, s:s, s:b, s:o, s:s}", "name", check->name,
	                  "severity",
	                  check->severity == PLAN_SEVERITY_ERROR ? "error"
	                                                         : "warning",
	                  "ok", ok, "found", found, "expected", check->expect));
	c->next++;
	run_next(c);
}

static void
run_next(struct checks *c)
{
	const char *values[CATALOG_MAX_PARAMS];
	const struct plan_check *check;

	if (c->next == c->n) {
		finish(c, NULL);
		return;
	}
	check = &c->list[c->next];
	if (catalog_bind(&check->sql.stmt, c->tenant, NULL, NULL, c->params,
	                 values) < 0) {
		finish(c, "a check has a parameter without a value");
		return;
	}
	if (pg_query(c->conn, check->sql.stmt.text,
	             (int)check->sql.stmt.nparams, values, on_check, c) < 0) {
		c->lost = true;
		finish(c, pg_conn_error(c->conn) != NULL
		                  ? pg_conn_error(c->conn)
		                  : "not connected");
	}
}

json_t *
checks_params_row(const struct plan *plan, const PGresult *res, char *err,
                  size_t errlen)
{
	json_t *row;

	if (PQntuples(res) != 1) {
		snprintf(err, errlen,
		         "the params query returned %d rows; it must return "
		         "exactly one",
		         PQntuples(res));
		return NULL;
	}
	row = json_object();
	for (size_t i = 0; i < plan->nparam_names; i++) {
		int col = PQfnumber(res, plan->param_names[i]);
		if (col < 0) {
			snprintf(err, errlen,
			         "the params query has no column %s",
			         plan->param_names[i]);
			json_decref(row);
			return NULL;
		}
		json_object_set_new(
		        row, plan->param_names[i],
		        PQgetisnull(res, 0, col)
		                ? json_null()
		                : json_string(PQgetvalue(res, 0, col)));
	}
	return row;
}

static void
on_params(void *arg, const PGresult *res, const char *error)
{
	struct checks *c = arg;
	char buf[1024], msg[1200];

	if (res == NULL) {
		c->lost = true;
		finish(c, error);
		return;
	}
	if (!pg_result_ok(res)) {
		snprintf(msg, sizeof(msg), "params: %s",
		         pg_result_error(res, buf, sizeof(buf)));
		finish(c, msg);
		return;
	}
	c->params = checks_params_row(c->plan, res, buf, sizeof(buf));
	if (c->params == NULL) {
		finish(c, buf);
		return;
	}
	run_next(c);
}

static void
on_params_skip(void *arg, const PGresult *res, const char *error)
{
	struct checks *c = arg;

	if (res == NULL) {
		c->lost = true;
		finish(c, error);
		return;
	}
	run_next(c);
}

int
checks_run(struct pg_conn *conn, const struct plan *plan,
           const struct plan_check *list, size_t n, const char *tenant,
           json_t *params, checks_done_cb cb, void *arg)
{
	struct checks *c;
	const char *values[CATALOG_MAX_PARAMS];
	int rc;

	if (pg_conn_state(conn) != PG_READY)
		return -1;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -1;
	c->conn = conn;
	c->plan = plan;
	c->list = list;
	c->n = n;
	c->tenant = strdup(tenant);
	c->params = json_incref(params);
	c->results = json_array();
	c->cb = cb;
	c->arg = arg;
	if (c->tenant == NULL || c->results == NULL) {
		json_decref(c->results);
		json_decref(c->params);
		free(c->tenant);
		free(c);
		return -1;
	}
	if (params != NULL || !plan->has_params) {
		if (c->params == NULL)
			c->params = json_object();
		/* always answer later, never from inside this call */
		rc = pg_query(conn, "SELECT 1", 0, NULL, on_params_skip, c);
	} else {
		rc = catalog_bind(&plan->params.stmt, tenant, NULL, NULL, NULL,
		                  values) < 0
		             ? -1
		             : pg_query(conn, plan->params.stmt.text,
		                        (int)plan->params.stmt.nparams, values,
		                        on_params, c);
	}
	if (rc < 0) {
		json_decref(c->results);
		json_decref(c->params);
		free(c->tenant);
		free(c);
	}
	return rc;
}

char *
checks_describe(json_t *results, bool warnings_only)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const char *sep = "";
	size_t i;
	json_t *r;

	if (f == NULL)
		return NULL;
	json_array_foreach(results, i, r)
	{
		json_t *found = json_object_get(r, "found");
		bool warning = strcmp(json_string_value(
		                              json_object_get(r, "severity")),
		                      "warning") == 0;
		if (json_is_true(json_object_get(r, "ok")) ||
		    warning != warnings_only)
			continue;
		fprintf(f, "%s%s: found %s%s%s, expected '%s'", sep,
		        json_string_value(json_object_get(r, "name")),
		        json_is_null(found) ? "" : "'",
		        json_is_null(found) ? "NULL" : json_string_value(found),
		        json_is_null(found) ? "" : "'",
		        json_string_value(json_object_get(r, "expected")));
		sep = "; ";
	}
	fclose(f);
	return out;
}
