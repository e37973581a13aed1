/*
 * The pure half of the source-vs-target compare (compare.h runs it on the
 * databases): which columns of a copy step are compared, the SQL that reads
 * the target's rows for a chunk of natural keys, each side's rows reduced
 * to (natural key, 64-bit hash of the compared columns' text forms), the
 * order-independent checksum of a side, and the first keys that differ.
 *
 * A natural key is kept encoded: per upsert column "\1" TEXT "\0", or "\0"
 * for NULL (text values never hold a NUL byte), so that memcmp orders keys
 * column by column, each in byte order of its text, NULL first.
 */
#ifndef COMPARE_ROWS_H
#define COMPARE_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "plan.h"

/* Most differing keys a step's report lists. */
#define COMPARE_MAX_DIFFERING 10
/* Most natural keys one target query looks up. */
#define COMPARE_CHUNK 5000

/*
 * Why step is not compared, or NULL when it is: in-place steps, copy steps
 * with a free apply (no upsert: the daemon cannot know what they wrote) and
 * copy steps whose natural key is one of defaults (the source has no value
 * for it).
 */
const char *compare_step_skip(const struct plan_step *step);

/* The columns of one step's compare, as indexes into step->columns. */
struct compare_cols {
	size_t *key;      /* each upsert column, in upsert order */
	char **key_types; /* its type in the target table (format_type) */
	size_t nkey;
	/* the select columns the target table also has, in select order,
	 * without the walk key unless it is an upsert column; for an upsert
	 * "... nothing" only the upsert columns (existing rows keep their
	 * values, so only presence is compared) */
	size_t *cmp;
	size_t ncmp;
};

/*
 * Picks the compared columns of step (compare_step_skip() NULL) given the
 * target table's n columns names[i] of type types[i]. -1 with err set when
 * the target lacks an upsert column.
 */
int compare_cols_make(const struct plan_step *step, const char *const *names,
                      const char *const *types, size_t n,
                      struct compare_cols *out, char *err, size_t errlen)
        __attribute__((warn_unused_result));
void compare_cols_free(struct compare_cols *cols);

/* Quotes an SQL identifier (malloc'd), or NULL: pg_escape_ident(). */
typedef char *(*compare_quote_fn)(void *arg, const char *ident);

/*
 * The target table as SQL text ("schema"."table" or "table"), malloc'd, or
 * NULL when out of memory or quote failed.
 */
char *compare_relation_sql(const struct plan_step *step, compare_quote_fn quote,
                           void *arg);

/*
 * Session settings both sides run first so that text forms agree: UTF-8,
 * ISO dates, UTC, shortest exact floats, hex bytea; read-only.
 */
extern const char compare_session_sql[];

/* The columns of relation $1 (text, as compare_relation_sql()): name, type.
 * No row: no such table. */
extern const char compare_columns_sql[];

/*
 * The target query of a step: $1 is a JSON array of {"n": I, "k1": TEXT,
 * ...} (compare_keys_json()); it returns, for each target row with one of
 * these natural keys, I and the compared columns (cols->cmp order).
 * Malloc'd, or NULL.
 */
char *compare_target_sql(const struct plan_step *step,
                         const struct compare_cols *cols,
                         compare_quote_fn quote, void *arg);

/* One row of one side. */
struct compare_row {
	char *key; /* encoded natural key */
	size_t keylen;
	uint64_t hash; /* compare_hash() of the compared columns */
};

/* The rows of one side, and the sum of their hashes. */
struct compare_side {
	struct compare_row *rows;
	size_t n, cap;
	uint64_t sum;
};

/* Encodes n key values (NULL for SQL NULL); malloc'd, length in *len. */
char *compare_key_encode(const char *const *values, size_t n, size_t *len);

/* The key as a person reads it: "v", or "(v1, v2)"; NULL shows as NULL. */
char *compare_key_text(const char *key, size_t keylen);

/*
 * The 64-bit hash of a row's n compared values (NULL for SQL NULL). Each
 * value is hashed with its length, so ("ab", "c") and ("a", "bc") differ,
 * as do NULL and "".
 */
uint64_t compare_hash(const char *const *values, size_t n);

/* Adds a row (key copied) and its hash to the sum. -1 when out of memory. */
int compare_side_add(struct compare_side *side, const char *key, size_t keylen,
                     uint64_t hash) __attribute__((warn_unused_result));

/* Sorts the rows by key (then hash). */
void compare_side_sort(struct compare_side *side);

/* The sum as 16 hex digits and a NUL. */
void compare_checksum_hex(uint64_t sum, char out[17]);

void compare_side_free(struct compare_side *side);

/*
 * The indexes of the first row of each distinct key of a sorted side
 * (malloc'd, *n of them; NULL and *n = 0 for no rows or no memory: check
 * side->n).
 */
size_t *compare_side_distinct(const struct compare_side *side, size_t *n);

/*
 * $1 of the target query for distinct[from..to) of a sorted side whose keys
 * have nkey columns: [{"n": distinct[i], "k1": ..., "k<nkey>": ...}, ...].
 * NULL when out of memory or a value is not UTF-8.
 */
json_t *compare_keys_json(const struct compare_side *side,
                          const size_t *distinct, size_t from, size_t to,
                          size_t nkey);

/*
 * The first max keys (compare_key_text(), in key order) on one side only
 * or whose hashes differ, of two sorted sides: a JSON array of strings. A
 * key repeated on one side (the source has duplicates) counts as differing.
 */
json_t *compare_differing(const struct compare_side *src,
                          const struct compare_side *tgt, size_t max);

#endif
