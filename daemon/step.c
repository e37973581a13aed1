/* What every kind of step shares: the kind table, binding, messages. */
#include "step.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

const struct step_ops *
step_ops_for(const struct plan_step *step, bool restore)
{
	static const struct {
		enum plan_step_kind kind;
		const struct step_ops *ops;
	} kinds[] = {
	        {PLAN_STEP_INPLACE, &step_inplace_ops},
	        {PLAN_STEP_COPY, &step_copy_ops},
	};

	if (restore)
		return &step_restore_ops;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == step->kind)
			return kinds[i].ops;
	return NULL;
}

int
step_bind(const struct step_ctx *ctx, const struct sql_stmt *stmt,
          const char *lo, const char *hi, const char **values,
          const char **missing)
{
	*missing = "?";
	if (catalog_bind(stmt, ctx->tenant, lo, hi, ctx->values, values) == 0)
		return (int)stmt->nparams;
	for (size_t i = 0; i < stmt->nparams; i++) {
		const char *name = stmt->names[i];

		if (strcmp(name, "tenant") != 0 && strcmp(name, "lo") != 0 &&
		    strcmp(name, "hi") != 0 &&
		    json_object_get(ctx->values, name) == NULL)
			*missing = name;
	}
	return -1;
}

char *
step_table(struct pg_conn *conn, const struct plan_step *step)
{
	char *t = pg_escape_ident(conn, step->table);
	char *sch = step->schema != NULL ? pg_escape_ident(conn, step->schema)
	                                 : NULL;
	char *out = NULL;

	if (t != NULL && (step->schema == NULL || sch != NULL) &&
	    asprintf(&out, "%s%s%s", sch != NULL ? sch : "",
	             sch != NULL ? "." : "", t) < 0)
		out = NULL;
	free(t);
	free(sch);
	return out;
}

void
step_fail(const struct step_ctx *ctx, const char *fmt, ...)
{
	char msg[1800], full[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "step %s: %s", ctx->step->name, msg);
	ctx->ev.failed(ctx->ev.arg, full);
}

bool
step_ok(const struct step_ctx *ctx, const PGresult *res, const char *what)
{
	char buf[1024];

	if (res == NULL)
		return false;
	if (pg_result_ok(res))
		return true;
	step_fail(ctx, "%s: %s", what, pg_result_error(res, buf, sizeof(buf)));
	return false;
}

void
step_trim_utf8(char *s)
{
	size_t n = strlen(s), i = n, need;
	unsigned char lead;

	while (i > 0 && n - i < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0 || (unsigned char)s[i - 1] < 0xC0)
		return;
	lead = (unsigned char)s[i - 1];
	need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

/* The value below every key of a column type, or NULL if unsupported. */
const char *
step_lowest_key(const char *type)
{
	static const struct {
		const char *prefix;
		const char *lowest;
	} types[] = {
	        {"smallint", "-32768"},
	        {"integer", "-2147483648"},
	        {"bigint", "-9223372036854775808"},
	        {"numeric", "-Infinity"},
	        {"double precision", "-Infinity"},
	        {"real", "-Infinity"},
	        {"text", ""},
	        {"character varying", ""},
	        {"character", ""},
	        {"citext", ""},
	        {"uuid", "00000000-0000-0000-0000-000000000000"},
	        {"date", "-infinity"},
	        {"timestamp", "-infinity"},
	};

	/* the whole name, or a modifier after it ("numeric(10,2)",
	 * "timestamp with time zone"): not an array ("integer[]"), a range
	 * ("daterange") or another type whose name starts alike */
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t len = strlen(types[i].prefix);
		if (strncmp(type, types[i].prefix, len) == 0 &&
		    (type[len] == '\0' || type[len] == '(' ||
		     type[len] == ' ') &&
		    strchr(type + len, '[') == NULL)
			return types[i].lowest;
	}
	return NULL;
}

void
step_note_error(struct step_error *e, const PGresult *res, const char *prefix)
{
	const char *state;
	char buf[1024];

	if (pg_result_ok(res) || e->msg[0] != '\0')
		return;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	e->stale = state != NULL && strcmp(state, "MG002") == 0;
	snprintf(e->msg, sizeof(e->msg), "%s%s", prefix,
	         pg_result_error(res, buf, sizeof(buf)));
}
