/*
 * A method call answered by one statement on the store's connection: runs
 * it, turns a lost connection or an SQL error into the Varlink error, and
 * hands a good result to the method's own function.
 */
#ifndef DBCALL_H
#define DBCALL_H

#include <jansson.h>
#include <libpq-fe.h>

#include "control.h"
#include "pg.h"

struct daemon;
struct dbcall;

/* Builds the reply from a good result; the call is freed afterwards. */
typedef void (*dbcall_fn)(struct dbcall *call, const PGresult *res);

struct dbcall {
	struct control_req *req;
	struct daemon *d;
	dbcall_fn fn;
	json_t *ctx; /* what fn needs besides the result */
};

/* Runs sql for req (steals ctx); every failure gets its error reply. */
void dbcall(struct control_req *req, struct daemon *d, const char *sql, int n,
            const char *const *values, dbcall_fn fn, json_t *ctx);

/* The same on another connection (a [database NAME]'s), named by name. */
void dbcall_on(struct control_req *req, struct daemon *d, struct pg_conn *conn,
               const char *name, const char *sql, int n,
               const char *const *values, dbcall_fn fn, json_t *ctx);

/* io.migrated.DatabaseUnavailable with why (or "not connected"). */
void dbcall_unavailable(struct control_req *req, const char *why);

/* A JSON text cell, parsed; null when NULL or absent. */
json_t *dbcall_json_cell(const PGresult *res, int row, int col);

#endif
