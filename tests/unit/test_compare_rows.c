/* Unit tests for daemon/compare_rows.c: the pure half of the compare. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compare_rows.h"

/* A writable string, as plan.h's char * fields want. */
#define W(text) ((char[]){text})

/* users: SELECT id, auth0_id, email, display_name AS name, legacy FROM ...
 * key id, into users, upsert auth0_id */
static char *user_cols[] = {W("id"), W("auth0_id"), W("email"), W("name"),
                            W("legacy")};
static char *user_upsert[] = {W("auth0_id")};

static char users[] = "users", id[] = "id", legacy[] = "legacy";

static struct plan_step
user_step(void)
{
	struct plan_step s = {
	        .name = users,
	        .kind = PLAN_STEP_COPY,
	        .table = users,
	        .key = id,
	        .source = legacy,
	        .columns = user_cols,
	        .ncolumns = 5,
	        .upsert = user_upsert,
	        .nupsert = 1,
	};
	return s;
}

/* The target's users: no legacy column, a column of its own. */
static const char *const target_names[] = {"id", "auth0_id", "email", "name",
                                           "communication_email"};
static const char *const target_types[] = {
        "bigint", "text", "character varying(200)", "text", "text"};

/* Quotes every identifier, as PQescapeIdentifier would the odd ones. */
static char *
quote(void *arg, const char *name)
{
	char *q = malloc(strlen(name) * 2 + 3), *p = q;

	(void)arg;
	*p++ = '"';
	for (; *name != '\0'; name++) {
		if (*name == '"')
			*p++ = '"';
		*p++ = *name;
	}
	*p++ = '"';
	*p = '\0';
	return q;
}

static char *
fail_quote(void *arg, const char *name)
{
	(void)arg;
	(void)name;
	return NULL;
}

static void
expect_cols(const struct compare_cols *c, const char *want_key,
            const char *want_cmp)
{
	char got[256] = "";

	for (size_t i = 0; i < c->nkey; i++)
		snprintf(got + strlen(got), sizeof got - strlen(got),
		         "%s%zu:%s", i ? "," : "", c->key[i], c->key_types[i]);
	assert_string_equal(got, want_key);
	got[0] = '\0';
	for (size_t i = 0; i < c->ncmp; i++)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%zu",
		         i ? "," : "", c->cmp[i]);
	assert_string_equal(got, want_cmp);
}

static void
test_which_steps_are_compared(void **state)
{
	struct plan_step s = user_step();
	char *with_default[] = {W("domain")};

	(void)state;
	assert_null(compare_step_skip(&s));
	s.kind = PLAN_STEP_INPLACE;
	assert_string_equal(compare_step_skip(&s), "not a copy step");
	s = user_step();
	s.nupsert = 0;
	assert_non_null(strstr(compare_step_skip(&s), "no upsert"));
	s = user_step();
	s.upsert = with_default;
	assert_non_null(strstr(compare_step_skip(&s), "defaults"));
}

static void
test_compared_columns(void **state)
{
	struct plan_step s = user_step();
	struct compare_cols c;
	char *by_id[] = {W("id")};
	char *two[] = {W("email"), W("id")};
	char err[256] = "";

	(void)state;
	/* the walk key id and legacy (not in the target) are left out */
	assert_int_equal(compare_cols_make(&s, target_names, target_types, 5,
	                                   &c, err, sizeof err),
	                 0);
	expect_cols(&c, "1:text", "1,2,3");
	compare_cols_free(&c);

	/* a walk key that is the natural key is compared */
	s.upsert = by_id;
	assert_int_equal(compare_cols_make(&s, target_names, target_types, 5,
	                                   &c, err, sizeof err),
	                 0);
	expect_cols(&c, "0:bigint", "0,1,2,3");
	compare_cols_free(&c);

	/* upsert ... nothing: only presence, by the natural key */
	s.upsert = two;
	s.nupsert = 2;
	s.upsert_nothing = true;
	assert_int_equal(compare_cols_make(&s, target_names, target_types, 5,
	                                   &c, err, sizeof err),
	                 0);
	expect_cols(&c, "2:character varying(200),0:bigint", "2,0");
	compare_cols_free(&c);

	/* the target lacks the natural key */
	s = user_step();
	assert_int_equal(compare_cols_make(&s, target_names, target_types, 1,
	                                   &c, err, sizeof err),
	                 -1);
	assert_string_equal(err, "the target table users has no column "
	                         "auth0_id (of upsert)");
	assert_null(c.key);
	assert_null(c.cmp);
}

static void
test_target_sql(void **state)
{
	struct plan_step s = user_step();
	struct compare_cols c;
	char *two[] = {W("auth0_id"), W("na\"me")};
	char *cols[] = {W("id"), W("auth0_id"), W("email"), W("na\"me")};
	const char *const names[] = {"id", "auth0_id", "email", "na\"me"};
	const char *const types[] = {"bigint", "text", "text", "integer"};
	char err[256], *sql;

	(void)state;
	assert_int_equal(compare_cols_make(&s, target_names, target_types, 5,
	                                   &c, err, sizeof err),
	                 0);
	sql = compare_target_sql(&s, &c, quote, NULL);
	assert_string_equal(
	        sql, "SELECT k.n, t.\"auth0_id\", t.\"email\", t.\"name\""
	             " FROM jsonb_to_recordset($1::jsonb) AS k(n bigint, k1 "
	             "text) JOIN \"users\" AS t ON t.\"auth0_id\" = k.k1");
	free(sql);
	assert_null(compare_target_sql(&s, &c, fail_quote, NULL));
	compare_cols_free(&c);

	s.schema = W("app");
	s.columns = cols;
	s.ncolumns = 4;
	s.upsert = two;
	s.nupsert = 2;
	assert_int_equal(
	        compare_cols_make(&s, names, types, 4, &c, err, sizeof err), 0);
	sql = compare_target_sql(&s, &c, quote, NULL);
	assert_string_equal(
	        sql, "SELECT k.n, t.\"auth0_id\", t.\"email\", t.\"na\"\"me\""
	             " FROM jsonb_to_recordset($1::jsonb) AS k(n bigint, k1 "
	             "text, k2 integer) JOIN \"app\".\"users\" AS t ON "
	             "t.\"auth0_id\" = k.k1 AND t.\"na\"\"me\" = k.k2");
	free(sql);
	compare_cols_free(&c);
	sql = compare_relation_sql(&s, quote, NULL);
	assert_string_equal(sql, "\"app\".\"users\"");
	free(sql);
}

static void
test_hash_sees_boundaries_and_nulls(void **state)
{
	const char *a[] = {"ab", "c"}, *b[] = {"a", "bc"};
	const char *n1[] = {NULL}, *e1[] = {""}, *s1[] = {"NULL"};
	const char *one[] = {"x"};

	(void)state;
	assert_int_not_equal(compare_hash(a, 2), compare_hash(b, 2));
	assert_int_not_equal(compare_hash(n1, 1), compare_hash(e1, 1));
	assert_int_not_equal(compare_hash(n1, 1), compare_hash(s1, 1));
	assert_int_not_equal(compare_hash(one, 1), compare_hash(a, 0));
	/* checksums are shown to people and compared across versions: the
	 * hash of a row never changes */
	assert_true(compare_hash(one, 1) == 0xd8aabd94c869d78dULL);
}

static void
test_keys_encode_and_show(void **state)
{
	const char *one[] = {"auth0|7"}, *two[] = {"1", NULL};
	const char *none[] = {NULL};
	size_t len;
	char *k, *t;

	(void)state;
	k = compare_key_encode(one, 1, &len);
	assert_int_equal(len, 9);
	assert_memory_equal(k, "\1auth0|7", 9);
	t = compare_key_text(k, len);
	assert_string_equal(t, "auth0|7");
	free(k);
	free(t);
	k = compare_key_encode(two, 2, &len);
	assert_int_equal(len, 4);
	t = compare_key_text(k, len);
	assert_string_equal(t, "(1, NULL)");
	free(k);
	free(t);
	k = compare_key_encode(none, 1, &len);
	t = compare_key_text(k, len);
	assert_string_equal(t, "NULL");
	free(k);
	free(t);
}

/* A side from "key:hash" words (key "-" is NULL). */
static struct compare_side
side_of(const char *spec)
{
	struct compare_side side = {0};
	char *copy = strdup(spec), *save = NULL;

	for (char *w = strtok_r(copy, " ", &save); w != NULL;
	     w = strtok_r(NULL, " ", &save)) {
		char *colon = strchr(w, ':');
		const char *v[1];
		size_t len;
		char *key;
		*colon = '\0';
		v[0] = strcmp(w, "-") == 0 ? NULL : w;
		key = compare_key_encode(v, 1, &len);
		assert_int_equal(
		        compare_side_add(&side, key, len,
		                         strtoull(colon + 1, NULL, 10)),
		        0);
		free(key);
	}
	free(copy);
	compare_side_sort(&side);
	return side;
}

static void
expect_differing(const char *src_spec, const char *tgt_spec, size_t max,
                 const char *want)
{
	struct compare_side src = side_of(src_spec), tgt = side_of(tgt_spec);
	json_t *list = compare_differing(&src, &tgt, max);
	char *text = json_dumps(list, JSON_COMPACT);

	assert_string_equal(text, want);
	free(text);
	json_decref(list);
	compare_side_free(&src);
	compare_side_free(&tgt);
}

static void
test_differing_keys(void **state)
{
	(void)state;
	expect_differing("a:1 b:2 c:3", "c:3 a:1 b:2", 10, "[]");
	/* changed on one side, missing on the target, only on the target */
	expect_differing("d:4 b:2 a:1 c:3", "a:1 b:9 d:4 e:5", 10,
	                 "[\"b\",\"c\",\"e\"]");
	expect_differing("d:4 b:2 a:1 c:3", "a:1 b:9 d:4 e:5", 2,
	                 "[\"b\",\"c\"]");
	/* a key the source has twice is listed once */
	expect_differing("a:1 a:1 a:1 b:2", "a:1 b:2", 10, "[\"a\"]");
	expect_differing("-:1 a:1", "a:1", 10, "[\"NULL\"]");
	expect_differing("", "", 10, "[]");
}

static void
test_checksum_ignores_order(void **state)
{
	struct compare_side a = side_of("a:1 b:2 c:18446744073709551615");
	struct compare_side b = side_of("c:18446744073709551615 a:1 b:2");
	char hex[17];

	(void)state;
	assert_true(a.sum == b.sum);
	compare_checksum_hex(a.sum, hex);
	assert_string_equal(hex, "0000000000000002");
	compare_checksum_hex(0, hex);
	assert_string_equal(hex, "0000000000000000");
	compare_side_free(&a);
	compare_side_free(&b);
	assert_null(a.rows);
	assert_int_equal(a.n, 0);
}

static void
test_distinct_keys_as_json(void **state)
{
	struct compare_side s = side_of("b:1 a:1 a:2 c:3 -:4");
	size_t n, *idx = compare_side_distinct(&s, &n);
	json_t *keys;
	char *text;

	(void)state;
	assert_int_equal(n, 4);
	keys = compare_keys_json(&s, idx, 1, n, 1);
	text = json_dumps(keys, JSON_COMPACT);
	assert_string_equal(text, "[{\"n\":1,\"k1\":\"a\"},{\"n\":3,\"k1\":"
	                          "\"b\"},{\"n\":4,\"k1\":\"c\"}]");
	free(text);
	json_decref(keys);
	keys = compare_keys_json(&s, idx, 0, 1, 1);
	text = json_dumps(keys, JSON_COMPACT);
	assert_string_equal(text, "[{\"n\":0,\"k1\":null}]");
	free(text);
	json_decref(keys);
	free(idx);
	compare_side_free(&s);

	s = side_of("");
	assert_null(compare_side_distinct(&s, &n));
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_which_steps_are_compared),
	        cmocka_unit_test(test_compared_columns),
	        cmocka_unit_test(test_target_sql),
	        cmocka_unit_test(test_hash_sees_boundaries_and_nulls),
	        cmocka_unit_test(test_keys_encode_and_show),
	        cmocka_unit_test(test_differing_keys),
	        cmocka_unit_test(test_checksum_ignores_order),
	        cmocka_unit_test(test_distinct_keys_as_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
