#include "copy_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "name" for SQLite SQL text (names only; values are always bound). */
static char *
quote(const char *name)
{
	size_t n = strlen(name);
	char *q = malloc(2 * n + 3), *p = q;

	if (q == NULL)
		return NULL;
	*p++ = '"';
	for (const char *s = name; *s; s++) {
		if (*s == '"')
			*p++ = '"';
		*p++ = *s;
	}
	*p++ = '"';
	*p = '\0';
	return q;
}

/* Binds $N to values[N-1], $lo and $batch; every parameter by name. */
static int
bind_all(sqlite3_stmt *st, const struct copy_sqlite_req *r)
{
	for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);
		int rc = SQLITE_OK;
		long n;

		if (name == NULL)
			return SQLITE_RANGE;
		if (strcmp(name, "$lo") == 0) {
			if (r->key_int)
				rc = sqlite3_bind_int64(
				        st, i, strtoll(r->lo, NULL, 10));
			else
				rc = sqlite3_bind_text(st, i, r->lo, -1,
				                       SQLITE_STATIC);
		} else if (strcmp(name, "$batch") == 0) {
			rc = sqlite3_bind_int64(st, i, r->batch);
		} else if (name[0] == '$' &&
		           (n = strtol(name + 1, NULL, 10)) > 0 &&
		           n <= r->nvalues) {
			const char *v = r->values[n - 1];
			rc = v != NULL ? sqlite3_bind_text(st, i, v, -1,
			                                   SQLITE_STATIC)
			               : sqlite3_bind_null(st, i);
		} else {
			return SQLITE_RANGE;
		}
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

static int
prepare(sqlite3 *db, const struct copy_sqlite_req *r, const char *sql,
        sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = bind_all(*st, r);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
	}
	return rc;
}

const enum sqlite_conv_class *
copy_sqlite_types(json_t *cols, json_t *target,
                  enum sqlite_conv_class **classes)
{
	size_t i, j, n = json_array_size(cols);
	json_t *c, *t;

	free(*classes);
	*classes = calloc(n > 0 ? n : 1, sizeof(**classes));
	if (*classes == NULL)
		return NULL;
	json_array_foreach(cols, i, c)
	{
		const char *name = json_string_value(json_array_get(c, 0));
		const char *type = "text";

		json_array_foreach(target, j, t)
		{
			if (strcmp(json_string_value(json_array_get(t, 0)),
			           name) == 0)
				type = json_string_value(json_array_get(t, 2));
		}
		if (json_array_set_new(c, 1, json_string(type)) < 0)
			return NULL;
		(*classes)[i] = sqlite_conv_class_of(type);
	}
	return *classes;
}

const char *
copy_sqlite_lowest(bool key_int)
{
	return key_int ? "-9223372036854775808" : "";
}

int
copy_sqlite_probe(sqlite3 *db, void *arg, char *err, size_t errlen)
{
	struct copy_sqlite_req *r = arg;
	sqlite3_stmt *st = NULL;
	char *key = quote(r->key), *sql = NULL;
	bool found = false, ints = false, texts = false;
	int rc;

	if (key == NULL)
		return SQLITE_NOMEM;
	rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto out;
	rc = prepare(db, r, r->select, &st);
	if (rc != SQLITE_OK)
		goto out;
	json_decref(r->cols);
	r->cols = json_array();
	for (int i = 0; i < sqlite3_column_count(st); i++) {
		const char *name = sqlite3_column_name(st, i);
		json_array_append_new(r->cols, json_string(name));
		if (strcasecmp(name, r->key) == 0)
			found = true;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!found) {
		snprintf(err, errlen, "key %s is not a column of select",
		         r->key);
		rc = SQLITE_ERROR;
		goto out;
	}
	/* the key's storage classes, and rows batches would not reach */
	if (asprintf(&sql,
	             "SELECT typeof(s.%s), count(*) FROM (%s) s GROUP BY 1",
	             key, r->select) < 0) {
		sql = NULL;
		rc = SQLITE_NOMEM;
		goto out;
	}
	rc = prepare(db, r, sql, &st);
	r->estimate = 0;
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		long long n = sqlite3_column_int64(st, 1);
		r->estimate += n;
		if (strcmp(t, "integer") == 0) {
			ints = true;
		} else if (strcmp(t, "text") == 0) {
			texts = true;
		} else {
			snprintf(err, errlen,
			         "%lld rows have a key %s that is %s; batches "
			         "walk integer or text keys",
			         n, r->key, t);
			rc = SQLITE_MISMATCH;
		}
		rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc == SQLITE_OK && ints && texts) {
		snprintf(err, errlen,
		         "key %s holds both integers and text; batches walk "
		         "keys of one kind",
		         r->key);
		rc = SQLITE_MISMATCH;
	}
	r->key_int = !texts;
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
out:
	sqlite3_finalize(st);
	free(sql);
	free(key);
	return rc;
}

/* Appends one row, converted; -1 (why, column) when a value does not. */
static int
convert_row(sqlite3_stmt *st, const struct copy_sqlite_req *r,
            struct evbuffer *row, int *bad, char *why, size_t whylen)
{
	int n = sqlite3_column_count(st);

	for (int i = 0; i < n; i++) {
		struct sqlite_cell c = {.type = sqlite3_column_type(st, i)};

		if (c.type == SQLITE_INTEGER) {
			c.i = sqlite3_column_int64(st, i);
		} else if (c.type == SQLITE_FLOAT) {
			c.r = sqlite3_column_double(st, i);
		} else if (c.type == SQLITE_TEXT) {
			c.p = sqlite3_column_text(st, i);
			c.n = (size_t)sqlite3_column_bytes(st, i);
		} else if (c.type == SQLITE_BLOB) {
			c.p = sqlite3_column_blob(st, i);
			c.n = (size_t)sqlite3_column_bytes(st, i);
		}
		if (i > 0)
			evbuffer_add(row, "\t", 1);
		if (sqlite_convert(&c, r->classes[i], row, why, whylen) < 0) {
			*bad = i;
			return -1;
		}
	}
	evbuffer_add(row, "\n", 1);
	return 0;
}

/* The offending value of column i, as a person reads it. */
static void
show_value(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	struct sqlite_cell c = {.type = sqlite3_column_type(st, i)};

	c.i = sqlite3_column_int64(st, i);
	c.r = sqlite3_column_double(st, i);
	if (c.type == SQLITE_BLOB) {
		c.p = sqlite3_column_blob(st, i);
	} else {
		c.p = sqlite3_column_text(st, i);
	}
	c.n = (size_t)sqlite3_column_bytes(st, i);
	sqlite_cell_show(&c, buf, len);
}

int
copy_sqlite_batch(sqlite3 *db, void *arg, char *err, size_t errlen)
{
	struct copy_sqlite_req *r = arg;
	sqlite3_stmt *st = NULL;
	struct evbuffer *row = evbuffer_new();
	char *key = quote(r->key), *sql = NULL;
	int rc, keycol = -1;

	free(r->hi);
	r->hi = NULL;
	r->rows = 0;
	json_decref(r->rejects);
	r->rejects = json_array();
	if (key == NULL || row == NULL ||
	    asprintf(&sql,
	             "SELECT * FROM (%s) s WHERE s.%s > $lo ORDER BY s.%s"
	             " LIMIT $batch",
	             r->select, key, key) < 0) {
		sql = NULL;
		rc = SQLITE_NOMEM;
		goto out;
	}
	/* one snapshot for the batch: the shared lock lasts until COMMIT */
	rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = prepare(db, r, sql, &st);
	for (int i = 0; rc == SQLITE_OK && i < sqlite3_column_count(st); i++)
		if (strcasecmp(sqlite3_column_name(st, i), r->key) == 0)
			keycol = i;
	if (rc == SQLITE_OK && keycol < 0) {
		snprintf(err, errlen, "key %s is not a column of select",
		         r->key);
		rc = SQLITE_ERROR;
	}
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char why[160], value[300];
		int bad = 0;
		const char *k = (const char *)sqlite3_column_text(st, keycol);

		rc = SQLITE_OK;
		r->rows++;
		free(r->hi);
		r->hi = strdup(k != NULL ? k : "");
		evbuffer_drain(row, evbuffer_get_length(row));
		if (convert_row(st, r, row, &bad, why, sizeof(why)) == 0) {
			/* copied, not moved: data stays in large chunks, which
			 * the loop sends with few PQputCopyData calls */
			size_t len = evbuffer_get_length(row);
			evbuffer_add(r->data, evbuffer_pullup(row, -1), len);
			continue;
		}
		show_value(st, bad, value, sizeof(value));
		if (r->keep_rejects) {
			json_array_append_new(
			        r->rejects,
			        json_pack("{s:s, s:s, s:s, s:s}", "key", r->hi,
			                  "column",
			                  sqlite3_column_name(st, bad), "value",
			                  value, "error", why));
			continue;
		}
		snprintf(err, errlen,
		         "table %s, key %s = %s, column %s: value %s is %s "
		         "(rejects = keep keeps such rows in migrated.rejects)",
		         r->table, r->key, r->hi, sqlite3_column_name(st, bad),
		         value, why);
		rc = SQLITE_MISMATCH;
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
out:
	sqlite3_finalize(st);
	if (row != NULL)
		evbuffer_free(row);
	free(sql);
	free(key);
	return rc;
}
