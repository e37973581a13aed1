#include "compare_rows.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define KEY_NULL '\0'
#define KEY_VALUE '\1'

const char compare_session_sql[] =
        "SET client_encoding = 'UTF8'; SET DateStyle = 'ISO, MDY';"
        " SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC';"
        " SET extra_float_digits = 1; SET bytea_output = 'hex';"
        " SET default_transaction_read_only = on";

const char compare_columns_sql[] =
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod)"
        " FROM pg_attribute a WHERE a.attrelid = to_regclass($1)"
        " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

static ssize_t
find_name(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (ssize_t)i;
	return -1;
}

static ssize_t
find_cname(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (ssize_t)i;
	return -1;
}

const char *
compare_step_skip(const struct plan_step *step)
{
	if (step->kind != PLAN_STEP_COPY)
		return "not a copy step";
	if (step->nupsert == 0)
		return "its apply is free SQL (no upsert), so what it wrote "
		       "is not known";
	for (size_t i = 0; i < step->nupsert; i++)
		if (find_name(step->columns, step->ncolumns, step->upsert[i]) <
		    0)
			return "its natural key comes from defaults, which the "
			       "source has no value for";
	return NULL;
}

void
compare_cols_free(struct compare_cols *cols)
{
	for (size_t i = 0; cols->key_types != NULL && i < cols->nkey; i++)
		free(cols->key_types[i]);
	free(cols->key_types);
	free(cols->key);
	free(cols->cmp);
	memset(cols, 0, sizeof(*cols));
}

int
compare_cols_make(const struct plan_step *step, const char *const *names,
                  const char *const *types, size_t n, struct compare_cols *out,
                  char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->key = calloc(step->nupsert + 1, sizeof(*out->key));
	out->key_types = calloc(step->nupsert + 1, sizeof(*out->key_types));
	out->cmp =
	        calloc(step->ncolumns + step->nupsert + 1, sizeof(*out->cmp));
	if (out->key == NULL || out->key_types == NULL || out->cmp == NULL)
		goto oom;
	for (size_t i = 0; i < step->nupsert; i++) {
		ssize_t col = find_name(step->columns, step->ncolumns,
		                        step->upsert[i]);
		ssize_t t = find_cname(names, n, step->upsert[i]);
		if (col < 0 || t < 0) {
			snprintf(err, errlen,
			         "the target table %s has no column %s (of "
			         "upsert)",
			         step->table, step->upsert[i]);
			compare_cols_free(out);
			return -1;
		}
		out->key[i] = (size_t)col;
		if ((out->key_types[i] = strdup(types[t])) == NULL)
			goto oom;
		out->nkey++;
	}
	if (step->upsert_nothing) {
		memcpy(out->cmp, out->key, out->nkey * sizeof(*out->key));
		out->ncmp = out->nkey;
		return 0;
	}
	for (size_t j = 0; j < step->ncolumns; j++) {
		const char *name = step->columns[j];
		if (strcmp(name, step->key) == 0 &&
		    find_name(step->upsert, step->nupsert, name) < 0)
			continue;
		if (find_cname(names, n, name) >= 0)
			out->cmp[out->ncmp++] = j;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	compare_cols_free(out);
	return -1;
}

/* Writes quote(name) to f; false when quoting failed. */
static bool
put_ident(FILE *f, const char *name, compare_quote_fn quote, void *arg)
{
	char *q = quote(arg, name);

	if (q == NULL)
		return false;
	fputs(q, f);
	free(q);
	return true;
}

/*
 * Closes f, an open_memstream() of *text (set only now); returns the text,
 * or NULL (freed) when something failed.
 */
static char *
close_text(FILE *f, char **text, bool ok)
{
	if (ferror(f))
		ok = false;
	if (fclose(f) != 0)
		ok = false;
	if (!ok) {
		free(*text);
		return NULL;
	}
	return *text;
}

char *
compare_relation_sql(const struct plan_step *step, compare_quote_fn quote,
                     void *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	bool ok = true;

	if (f == NULL)
		return NULL;
	if (step->schema != NULL) {
		ok = put_ident(f, step->schema, quote, arg);
		fputc('.', f);
	}
	ok = ok && put_ident(f, step->table, quote, arg);
	return close_text(f, &text, ok);
}

char *
compare_target_sql(const struct plan_step *step,
                   const struct compare_cols *cols, compare_quote_fn quote,
                   void *arg)
{
	char *text = NULL, *rel;
	size_t len = 0;
	FILE *f;
	bool ok = true;

	rel = compare_relation_sql(step, quote, arg);
	if (rel == NULL || (f = open_memstream(&text, &len)) == NULL) {
		free(rel);
		return NULL;
	}
	fputs("SELECT k.n", f);
	for (size_t i = 0; ok && i < cols->ncmp; i++) {
		fputs(", t.", f);
		ok = put_ident(f, step->columns[cols->cmp[i]], quote, arg);
	}
	fputs(" FROM jsonb_to_recordset($1::jsonb) AS k(n bigint", f);
	for (size_t i = 0; i < cols->nkey; i++)
		fprintf(f, ", k%zu %s", i + 1, cols->key_types[i]);
	fprintf(f, ") JOIN %s AS t ON ", rel);
	for (size_t i = 0; ok && i < cols->nkey; i++) {
		fputs(i > 0 ? " AND t." : "t.", f);
		ok = put_ident(f, step->columns[cols->key[i]], quote, arg);
		fprintf(f, " = k.k%zu", i + 1);
	}
	free(rel);
	return close_text(f, &text, ok);
}

/* ---- rows ---- */

char *
compare_key_encode(const char *const *values, size_t n, size_t *len)
{
	size_t total = 0, at = 0;
	char *key;

	for (size_t i = 0; i < n; i++)
		total += values[i] == NULL ? 1 : strlen(values[i]) + 2;
	key = malloc(total + 1);
	if (key == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t vlen;
		if (values[i] == NULL) {
			key[at++] = KEY_NULL;
			continue;
		}
		vlen = strlen(values[i]);
		key[at++] = KEY_VALUE;
		memcpy(key + at, values[i], vlen);
		at += vlen;
		key[at++] = '\0';
	}
	key[at] = '\0';
	*len = total;
	return key;
}

/*
 * The next column of an encoded key at *at: its text, or NULL for SQL
 * NULL; *done when there is none.
 */
static const char *
key_next(const char *key, size_t keylen, size_t *at, bool *done)
{
	const char *text;

	*done = *at >= keylen;
	if (*done)
		return NULL;
	if (key[(*at)++] == KEY_NULL)
		return NULL;
	text = key + *at;
	*at += strlen(text) + 1;
	return text;
}

char *
compare_key_text(const char *key, size_t keylen)
{
	char *text = NULL;
	size_t len = 0, at = 0, ncols = 0;
	FILE *f = open_memstream(&text, &len);
	bool done;

	if (f == NULL)
		return NULL;
	for (;;) {
		(void)key_next(key, keylen, &at, &done);
		if (done)
			break;
		ncols++;
	}
	at = 0;
	if (ncols > 1)
		fputc('(', f);
	for (size_t i = 0;; i++) {
		const char *v = key_next(key, keylen, &at, &done);
		if (done)
			break;
		fprintf(f, "%s%s", i > 0 ? ", " : "", v != NULL ? v : "NULL");
	}
	if (ncols > 1)
		fputc(')', f);
	return close_text(f, &text, true);
}

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t
fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

uint64_t
compare_hash(const char *const *values, size_t n)
{
	uint64_t h = FNV_OFFSET;

	for (size_t i = 0; i < n; i++) {
		unsigned char tag = values[i] == NULL ? 0 : 1;
		unsigned char lenb[8];
		uint64_t len = values[i] == NULL ? 0 : strlen(values[i]);

		h = fnv1a(h, &tag, 1);
		if (values[i] == NULL)
			continue;
		for (int b = 0; b < 8; b++)
			lenb[b] = (unsigned char)(len >> (8 * b));
		h = fnv1a(h, lenb, sizeof(lenb));
		h = fnv1a(h, (const unsigned char *)values[i], (size_t)len);
	}
	/* FNV's low bits mix poorly; a final avalanche spreads them, so that
	 * the sum of many rows' hashes stays a good checksum */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

int
compare_side_add(struct compare_side *side, const char *key, size_t keylen,
                 uint64_t hash)
{
	struct compare_row *row;

	if (side->n == side->cap) {
		size_t cap = side->cap > 0 ? side->cap * 2 : 64;
		struct compare_row *rows =
		        realloc(side->rows, cap * sizeof(*rows));
		if (rows == NULL)
			return -1;
		side->rows = rows;
		side->cap = cap;
	}
	row = &side->rows[side->n];
	row->key = malloc(keylen + 1);
	if (row->key == NULL)
		return -1;
	memcpy(row->key, key, keylen);
	row->key[keylen] = '\0';
	row->keylen = keylen;
	row->hash = hash;
	side->n++;
	side->sum += hash;
	return 0;
}

static int
key_cmp(const struct compare_row *a, const struct compare_row *b)
{
	size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
	int c = memcmp(a->key, b->key, n);

	if (c != 0)
		return c;
	return a->keylen < b->keylen ? -1 : a->keylen > b->keylen;
}

static int
row_cmp(const void *pa, const void *pb)
{
	const struct compare_row *a = pa, *b = pb;
	int c = key_cmp(a, b);

	if (c != 0)
		return c;
	return a->hash < b->hash ? -1 : a->hash > b->hash;
}

void
compare_side_sort(struct compare_side *side)
{
	if (side->n > 1)
		qsort(side->rows, side->n, sizeof(*side->rows), row_cmp);
}

void
compare_checksum_hex(uint64_t sum, char out[17])
{
	snprintf(out, 17, "%016" PRIx64, sum);
}

void
compare_side_free(struct compare_side *side)
{
	for (size_t i = 0; i < side->n; i++)
		free(side->rows[i].key);
	free(side->rows);
	memset(side, 0, sizeof(*side));
}

size_t *
compare_side_distinct(const struct compare_side *side, size_t *n)
{
	size_t *idx;

	*n = 0;
	if (side->n == 0 || (idx = malloc(side->n * sizeof(*idx))) == NULL)
		return NULL;
	for (size_t i = 0; i < side->n; i++)
		if (i == 0 || key_cmp(&side->rows[i - 1], &side->rows[i]) != 0)
			idx[(*n)++] = i;
	return idx;
}

json_t *
compare_keys_json(const struct compare_side *side, const size_t *distinct,
                  size_t from, size_t to, size_t nkey)
{
	json_t *list = json_array();

	if (list == NULL)
		return NULL;
	for (size_t i = from; i < to; i++) {
		const struct compare_row *row = &side->rows[distinct[i]];
		json_t *obj = json_pack("{s:I}", "n", (json_int_t)distinct[i]);
		size_t at = 0;
		bool done;

		if (obj == NULL || json_array_append_new(list, obj) < 0)
			goto fail;
		for (size_t k = 0; k < nkey; k++) {
			const char *v =
			        key_next(row->key, row->keylen, &at, &done);
			char name[32];
			json_t *jv = v != NULL ? json_string(v) : json_null();
			snprintf(name, sizeof(name), "k%zu", k + 1);
			if (done || jv == NULL ||
			    json_object_set_new(obj, name, jv) < 0)
				goto fail;
		}
	}
	return list;
fail:
	json_decref(list);
	return NULL;
}

/* Appends row's key to list unless it is the last one there. */
static int
add_differing(json_t *list, const struct compare_row **last,
              const struct compare_row *row)
{
	char *text;
	int rc;

	if (*last != NULL && key_cmp(*last, row) == 0)
		return 0;
	*last = row;
	text = compare_key_text(row->key, row->keylen);
	if (text == NULL)
		return -1;
	rc = json_array_append_new(list, json_string(text));
	free(text);
	return rc;
}

json_t *
compare_differing(const struct compare_side *src,
                  const struct compare_side *tgt, size_t max)
{
	json_t *list = json_array();
	const struct compare_row *last = NULL;
	size_t i = 0, j = 0;

	while (list != NULL && json_array_size(list) < max &&
	       (i < src->n || j < tgt->n)) {
		const struct compare_row *diff = NULL;
		int c = i == src->n   ? 1
		        : j == tgt->n ? -1
		                      : key_cmp(&src->rows[i], &tgt->rows[j]);
		if (c == 0) {
			if (src->rows[i].hash != tgt->rows[j].hash)
				diff = &src->rows[i];
			i++;
			j++;
		} else if (c < 0) {
			diff = &src->rows[i++];
		} else {
			diff = &tgt->rows[j++];
		}
		if (diff != NULL && add_differing(list, &last, diff) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}
