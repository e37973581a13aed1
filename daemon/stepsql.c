#include "stepsql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

static char *
quote(struct pg_conn *conn, const char *name)
{
	return pg_escape_ident(conn, name);
}

const char stepsql_cols_sql[] =
        "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),"
        " string_agg(quote_ident(attname), ', ' ORDER BY attnum)"
        "  FILTER (WHERE attidentity <> 'a'),"
        " string_agg('r.' || quote_ident(attname), ', ' ORDER BY attnum)"
        "  FILTER (WHERE attidentity <> 'a')"
        " FROM pg_attribute WHERE attrelid = to_regclass($1)"
        " AND attnum > 0 AND NOT attisdropped AND attgenerated = ''";

char *
stepsql_table(struct pg_conn *conn, const struct plan_step *step)
{
	char *t = quote(conn, step->table);
	char *sch = step->schema != NULL ? quote(conn, step->schema) : NULL;
	char *out = NULL;

	if (t != NULL && (step->schema == NULL || sch != NULL) &&
	    asprintf(&out, "%s%s%s", sch != NULL ? sch : "",
	             sch != NULL ? "." : "", t) < 0)
		out = NULL;
	free(t);
	free(sch);
	return out;
}

static int
build_migrate(struct stepsql *s, const char *key)
{
	const char *where = s->step->where.stmt.text;
	size_t n = s->step->where.stmt.nparams;

	if (asprintf(&s->text[STEPSQL_ESTIMATE],
	             "SELECT count(*), count(*) FILTER (WHERE %s IS NULL"
	             " OR NOT (%s > $%zu)) FROM %s WHERE (%s)",
	             key, key, n + 1, s->table, where) < 0 ||
	    asprintf(&s->text[STEPSQL_RANGE],
	             "SELECT max(k)::text, count(*) FROM (SELECT %s AS k"
	             " FROM %s WHERE (%s) AND %s > $%zu ORDER BY 1"
	             " LIMIT $%zu::bigint) s",
	             key, s->table, where, key, n + 1, n + 2) < 0)
		return -1;
	s->text[STEPSQL_APPLY] = strdup(s->step->apply.stmt.text);
	if (s->text[STEPSQL_APPLY] == NULL)
		return -1;
	if (s->step->backup &&
	    asprintf(&s->text[STEPSQL_BACKUP],
	             "INSERT INTO migrated.backups (job_id, step, rows)"
	             " SELECT $%zu::bigint, $%zu, array_agg(t::text)"
	             " FROM %s t WHERE (%s) AND t.%s > $%zu AND t.%s <= $%zu"
	             " HAVING count(*) > 0",
	             n + 1, n + 2, s->table, where, key, n + 3, key, n + 4) < 0)
		return -1;
	return 0;
}

static int
build_restore(struct stepsql *s, const char *key, const struct stepsql_cols *c)
{
	if (asprintf(&s->text[STEPSQL_ESTIMATE],
	             "SELECT coalesce(sum(cardinality(rows)), 0), 0"
	             " FROM migrated.backups"
	             " WHERE job_id = $1::bigint AND step = $2") < 0 ||
	    /* one stored batch at a time, in the order they were taken */
	    asprintf(&s->text[STEPSQL_RANGE],
	             "SELECT max(id)::text, coalesce(sum(cardinality(rows)), 0)"
	             " FROM (SELECT id, rows FROM migrated.backups"
	             " WHERE job_id = $1::bigint AND step = $2"
	             " AND id > $3::bigint ORDER BY id LIMIT 1) s") < 0)
		return -1;
	/* rows apply changed get their pre-image back; rows it deleted
	 * come back; the count of both is the statement's result */
	if (asprintf(
	            &s->text[STEPSQL_APPLY],
	            "WITH r AS (SELECT (x::%s).* FROM migrated.backups b,"
	            "  unnest(b.rows) x"
	            "  WHERE b.job_id = $1::bigint AND b.step = $2"
	            "  AND b.id > $3::bigint AND b.id <= $4::bigint),"
	            " u AS (UPDATE %s t SET (%s) = ROW(%s) FROM r"
	            "  WHERE t.%s = r.%s RETURNING 1),"
	            " i AS (INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE"
	            "  SELECT %s FROM r WHERE NOT EXISTS"
	            "  (SELECT 1 FROM %s t WHERE t.%s = r.%s) RETURNING 1)"
	            "SELECT (SELECT count(*) FROM u) + (SELECT count(*) FROM i)",
	            s->table, s->table, c->update, c->rupdate, key, key,
	            s->table, c->insert, c->insert, s->table, key, key) < 0)
		return -1;
	return 0;
}

int
stepsql_build(struct stepsql *s, struct pg_conn *conn,
              const struct plan_step *step, enum stepsql_kind kind,
              const struct stepsql_cols *cols)
{
	char *key;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->step = step;
	s->table = stepsql_table(conn, step);
	key = quote(conn, step->key);
	if (s->table != NULL && key != NULL)
		rc = kind == STEPSQL_MIGRATE ? build_migrate(s, key)
		                             : build_restore(s, key, cols);
	free(key);
	if (rc < 0)
		stepsql_clear(s);
	return rc;
}

void
stepsql_clear(struct stepsql *s)
{
	free(s->table);
	for (int i = 0; i < 4; i++)
		free(s->text[i]);
	memset(s, 0, sizeof(*s));
}

/* where's own parameters first, then extra. */
static int
bind_where(const struct stepsql *s, const struct stepsql_env *env,
           const char **values, const char *const *extra, int nextra)
{
	const struct sql_stmt *where = &s->step->where.stmt;

	if (catalog_bind(where, env->tenant, NULL, NULL, env->params, values) <
	    0)
		return -1;
	for (int i = 0; i < nextra; i++)
		values[where->nparams + (size_t)i] = extra[i];
	return (int)where->nparams + nextra;
}

int
stepsql_bind(const struct stepsql *s, enum stepsql_query q,
             const struct stepsql_env *env, const char **values)
{
	const char *const est[] = {env->lo};
	const char *const range[] = {env->lo, env->batch};
	const char *const backup[] = {env->job, s->step->name, env->lo,
	                              env->hi};
	const struct sql_stmt *apply = &s->step->apply.stmt;

	if (s->kind == STEPSQL_RESTORE) {
		values[0] = env->source;
		values[1] = s->step->name;
		if (q == STEPSQL_ESTIMATE)
			return 2;
		values[2] = env->lo;
		if (q == STEPSQL_RANGE)
			return 3;
		values[3] = env->hi;
		return q == STEPSQL_BACKUP ? -1 : 4;
	}
	switch (q) {
	case STEPSQL_ESTIMATE:
		return bind_where(s, env, values, est, 1);
	case STEPSQL_RANGE:
		return bind_where(s, env, values, range, 2);
	case STEPSQL_BACKUP:
		return bind_where(s, env, values, backup, 4);
	case STEPSQL_APPLY:
		if (catalog_bind(apply, env->tenant, env->lo, env->hi,
		                 env->params, values) < 0)
			return -1;
		return (int)apply->nparams;
	}
	return -1;
}
