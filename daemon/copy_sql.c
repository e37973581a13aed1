#include "copy_sql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_params.h"

static char *
quoted(const struct copy_shape *in, const char *name)
{
	return pg_escape_ident(in->conn, name);
}

/* True when the target table has column name (not generated). */
static bool
target_has(json_t *target, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(target, i, c)
	{
		if (strcmp(json_string_value(json_array_get(c, 0)), name) == 0)
			return !json_is_true(json_array_get(c, 1));
	}
	return false;
}

static bool
in_list(char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/* Appends fmt to *out (a growing string); -1 on out of memory. */
static int __attribute__((format(printf, 2, 3)))
add(char **out, const char *fmt, ...)
{
	va_list ap;
	char *more, *joined;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&more, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	rc = asprintf(&joined, "%s%s", *out != NULL ? *out : "", more);
	free(more);
	if (rc < 0)
		return -1;
	free(*out);
	*out = joined;
	return 0;
}

/*
 * The upsert merge: the columns select and the target share (the walk key
 * only when it is part of the natural key), plus the defaults.
 */
static int
build_merge(const struct copy_shape *in, json_t *target, struct copy_sql *out)
{
	const struct plan_step *st = in->step;
	char *ins = NULL, *sel = NULL, *set = NULL, *cmp_t = NULL,
	     *cmp_x = NULL, *conflict = NULL;
	size_t i, nset = 0;
	json_t *c;
	int rc = -1;

	json_array_foreach(in->cols, i, c)
	{
		const char *name = json_string_value(json_array_get(c, 0));
		char *q;

		if (!target_has(target, name) ||
		    (strcmp(name, st->key) == 0 &&
		     !in_list(st->upsert, st->nupsert, name)))
			continue;
		if ((q = quoted(in, name)) == NULL)
			goto out;
		rc = add(&ins, "%s%s", ins ? ", " : "", q) |
		     add(&sel, "%ss.%s", sel ? ", " : "", q);
		if (rc == 0 && !in_list(st->upsert, st->nupsert, name)) {
			rc = add(&set, "%s%s = excluded.%s", nset ? ", " : "",
			         q, q) |
			     add(&cmp_t, "%st.%s", nset ? ", " : "", q) |
			     add(&cmp_x, "%sexcluded.%s", nset ? ", " : "", q);
			nset++;
		}
		free(q);
		if (rc != 0)
			goto out;
		rc = -1;
	}
	for (i = 0; i < st->ndefaults; i++) {
		char *q = quoted(in, st->default_cols[i]);

		if (q == NULL || add(&ins, "%s%s", ins ? ", " : "", q) < 0 ||
		    add(&sel, "%s(%s)", sel ? ", " : "", st->default_exprs[i]) <
		            0) {
			free(q);
			goto out;
		}
		free(q);
	}
	for (i = 0; i < st->nupsert; i++) {
		char *q = quoted(in, st->upsert[i]);

		if (q == NULL || add(&conflict, "%s%s", i ? ", " : "", q) < 0) {
			free(q);
			goto out;
		}
		free(q);
	}
	if (ins == NULL)
		goto out;
	if (st->upsert_nothing || nset == 0)
		rc = asprintf(&out->merge,
		              "INSERT INTO %s AS t (%s) SELECT %s FROM staged s"
		              " ON CONFLICT (%s) DO NOTHING",
		              in->table, ins, sel, conflict);
	else
		rc = asprintf(&out->merge,
		              "INSERT INTO %s AS t (%s) SELECT %s FROM staged s"
		              " ON CONFLICT (%s) DO UPDATE SET %s"
		              " WHERE (%s%s) IS DISTINCT FROM (%s%s)",
		              in->table, ins, sel, conflict, set, cmp_t,
		              nset == 1 ? ", NULL" : "", cmp_x,
		              nset == 1 ? ", NULL" : "");
	rc = rc < 0 ? -1 : 0;
out:
	free(ins);
	free(sel);
	free(set);
	free(cmp_t);
	free(cmp_x);
	free(conflict);
	return rc;
}

/* With backup: the matched rows first, then the merge keeps its inserts. */
static int
build_backup(const struct copy_shape *in, struct copy_sql *out)
{
	const struct plan_step *st = in->step;
	char *on = NULL, *merge, *extra = NULL, *rows;
	int rc = 0;

	/* natural-key columns that defaults compute are computed here too,
	 * from staged alone (the expressions name staged's columns) */
	for (size_t i = 0; rc == 0 && i < st->ndefaults; i++) {
		char *q;

		if (!in_list(st->upsert, st->nupsert, st->default_cols[i]))
			continue;
		q = quoted(in, st->default_cols[i]);
		rc = q == NULL ? -1
		               : add(&extra, ", (%s) AS %s",
		                     st->default_exprs[i], q);
		free(q);
	}
	if (rc < 0 ||
	    (extra != NULL
	             ? asprintf(&rows, "(SELECT s.*%s FROM staged s) s", extra)
	             : asprintf(&rows, "staged s")) < 0) {
		free(extra);
		return -1;
	}
	free(extra);
	for (size_t i = 0; i < st->nupsert; i++) {
		char *q = quoted(in, st->upsert[i]);

		if (q == NULL ||
		    add(&on, "%st.%s = s.%s", i ? " AND " : "", q, q) < 0) {
			free(q);
			free(on);
			free(rows);
			return -1;
		}
		free(q);
	}
	if (asprintf(&out->backup,
	             "INSERT INTO migrated.backups (job_id, step, rows)"
	             " SELECT $1::bigint, $2, array_agg(t::text) FROM %s t"
	             " JOIN %s ON %s HAVING count(*) > 0",
	             in->table, rows, on) < 0) {
		free(on);
		free(rows);
		return -1;
	}
	free(on);
	free(rows);
	if (asprintf(&merge,
	             "WITH m AS (%s RETURNING t.xmax = 0 AS ins, t::text AS r),"
	             " b AS (INSERT INTO migrated.backups"
	             "  (job_id, step, rows, inserted)"
	             "  SELECT $1::bigint, $2, '{}', array_agg(r) FROM m"
	             "  WHERE ins HAVING count(*) > 0)"
	             " SELECT count(*) FROM m",
	             out->merge) < 0)
		return -1;
	free(out->merge);
	out->merge = merge;
	return 0;
}

/* The COPY of a range: select with its $n read back from settings. */
static int
build_copy(const struct copy_shape *in, struct copy_sql *out)
{
	size_t n = in->step->select.stmt.nparams;
	char **repl = calloc(n + 1, sizeof(*repl));
	char *select = NULL, *set = NULL;
	int rc = -1;

	if (repl == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *type =
		        json_string_value(json_array_get(in->ptypes, i));

		if (asprintf(
		            &repl[i],
		            "(CASE WHEN current_setting('migrated.n%zu')::boolean"
		            " THEN NULL ELSE current_setting('migrated.p%zu')"
		            " END)::%s",
		            i + 1, i + 1, type != NULL ? type : "text") < 0)
			goto out;
		if (add(&set,
		        "%sset_config('migrated.p%zu', coalesce($%zu::text, ''),"
		        " true), set_config('migrated.n%zu', ($%zu::text IS NULL)"
		        "::text, true)",
		        i ? ", " : "", i + 1, i + 1, i + 1, i + 1) < 0)
			goto out;
	}
	if (sql_replace_params(in->step->select.stmt.text,
	                       (const char *const *)repl, n, &select) < 0 ||
	    add(&set,
	        "%sset_config('migrated.lo', $%zu, true),"
	        " set_config('migrated.hi', $%zu, true)",
	        n ? ", " : "", n + 1, n + 2) < 0 ||
	    asprintf(&out->copy,
	             "COPY (SELECT * FROM (%s) s"
	             " WHERE s.%s > current_setting('migrated.lo')::%s"
	             " AND s.%s <= current_setting('migrated.hi')::%s"
	             " ORDER BY s.%s) TO STDOUT",
	             select, in->key, in->key_type, in->key, in->key_type,
	             in->key) < 0 ||
	    asprintf(&out->set, "SELECT %s", set) < 0)
		goto out;
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(repl[i]);
	free(repl);
	free(select);
	free(set);
	return rc;
}

int
copy_sql_read(const struct copy_shape *in, struct copy_sql *out)
{
	const char *sel = in->step->select.stmt.text;
	size_t n = in->step->select.stmt.nparams;

	if (build_copy(in, out) < 0 ||
	    asprintf(&out->range,
	             "SELECT max(k)::text, count(*) FROM (SELECT s.%s AS k"
	             " FROM (%s) s WHERE s.%s > $%zu ORDER BY 1"
	             " LIMIT $%zu::bigint) x",
	             in->key, sel, in->key, n + 1, n + 2) < 0 ||
	    asprintf(&out->estimate,
	             "SELECT count(*), count(*) FILTER (WHERE s.%s IS NULL OR"
	             " NOT s.%s > $%zu) FROM (%s) s",
	             in->key, in->key, n + 1, sel) < 0)
		return -1;
	return 0;
}

int
copy_sql_write(const struct copy_shape *in, json_t *target,
               struct copy_sql *out, char *err, size_t errlen)
{
	const struct plan_step *st = in->step;
	char *create = NULL;
	size_t i;
	json_t *c;
	int rc;

	for (i = 0; i < st->nupsert; i++)
		if (!target_has(target, st->upsert[i])) {
			snprintf(err, errlen,
			         "table %s has no column %s (upsert)",
			         in->table, st->upsert[i]);
			return -1;
		}
	if (st->nupsert > 0 && (build_merge(in, target, out) < 0 ||
	                        (st->backup && build_backup(in, out) < 0))) {
		snprintf(err, errlen,
		         "select and table %s share no column to merge",
		         in->table);
		return -1;
	}
	json_array_foreach(in->cols, i, c)
	{
		char *q = quoted(in, json_string_value(json_array_get(c, 0)));

		rc = q == NULL ? -1
		               : add(&create, "%s%s %s", i ? ", " : "", q,
		                     json_string_value(json_array_get(c, 1)));
		free(q);
		if (rc < 0) {
			free(create);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	rc = asprintf(&out->staged,
	              "DROP TABLE IF EXISTS pg_temp.staged;"
	              " CREATE TEMP TABLE staged (%s)",
	              create);
	free(create);
	if (rc < 0) {
		out->staged = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void
copy_sql_clear(struct copy_sql *sql)
{
	free(sql->estimate);
	free(sql->range);
	free(sql->set);
	free(sql->copy);
	free(sql->staged);
	free(sql->merge);
	free(sql->backup);
	memset(sql, 0, sizeof(*sql));
}
