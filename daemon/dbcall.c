#include "dbcall.h"

#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "log.h"
#include "pg.h"
#include "store.h"
#include "vl_names.h"

void
dbcall_unavailable(struct control_req *req, const char *why)
{
	control_error(req, VL_ERROR_DATABASE_UNAVAILABLE,
	              json_pack("{s:s}", "message",
	                        why != NULL ? why : "not connected"));
}

static void
dbcall_free(struct dbcall *call)
{
	json_decref(call->ctx);
	free(call);
}

static void
on_result(void *arg, const PGresult *res, const char *error)
{
	struct dbcall *call = arg;

	if (res == NULL) {
		dbcall_unavailable(call->req, error);
	} else if (!pg_result_ok(res)) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *msg =
		        PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		log_warning("%s failed: %s", control_call(call->req)->method,
		            msg != NULL ? msg : "?");
		control_error(call->req, VL_ERROR_DATABASE_ERROR,
		              json_pack("{s:s, s:s}", "message",
		                        msg != NULL ? msg : "?", "sqlstate",
		                        state != NULL ? state : ""));
	} else {
		call->fn(call, res);
	}
	dbcall_free(call);
}

static void
send_call(struct control_req *req, struct daemon *d, struct pg_conn *conn,
          const char *why_down, const char *sql, int n,
          const char *const *values, dbcall_fn fn, json_t *ctx)
{
	struct dbcall *call = calloc(1, sizeof(*call));

	if (call == NULL) {
		json_decref(ctx);
		dbcall_unavailable(req, "out of memory");
		return;
	}
	call->req = req;
	call->d = d;
	call->fn = fn;
	call->ctx = ctx;
	if (pg_query(conn, sql, n, values, on_result, call) < 0) {
		dbcall_free(call);
		dbcall_unavailable(req, why_down);
	}
}

void
dbcall(struct control_req *req, struct daemon *d, const char *sql, int n,
       const char *const *values, dbcall_fn fn, json_t *ctx)
{
	if (!store_ready(d->store)) {
		json_decref(ctx);
		dbcall_unavailable(req, store_error(d->store));
		return;
	}
	send_call(req, d, store_conn(d->store), store_error(d->store), sql, n,
	          values, fn, ctx);
}

void
dbcall_on(struct control_req *req, struct daemon *d, struct pg_conn *conn,
          const char *name, const char *sql, int n, const char *const *values,
          dbcall_fn fn, json_t *ctx)
{
	char why[512];

	snprintf(why, sizeof(why), "database %s: %s", name,
	         conn == NULL                  ? "not a PostgreSQL [database]"
	         : pg_conn_error(conn) != NULL ? pg_conn_error(conn)
	                                       : "not connected");
	if (conn == NULL || pg_conn_state(conn) != PG_READY) {
		json_decref(ctx);
		dbcall_unavailable(req, why);
		return;
	}
	send_call(req, d, conn, why, sql, n, values, fn, ctx);
}

json_t *
dbcall_json_cell(const PGresult *res, int row, int col)
{
	json_t *v;

	if (PQntuples(res) <= row || PQgetisnull(res, row, col))
		return json_null();
	v = json_loads(PQgetvalue(res, row, col), JSON_DECODE_ANY, NULL);
	return v != NULL ? v : json_null();
}
