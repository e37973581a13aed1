/*
 * Unit tests for daemon/submit.c (what Submit asks of a plan) and
 * daemon/params.c (the rules that tie parameters together).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "params.h"
#include "submit.h"

static json_t *
json(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (v == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return v;
}

/*
 * Plan p: steps a, b (after a, has clear SQL) and c (after a and b), in
 * dependency order; parameters region and year; pair new_name.
 */
static char name_p[] = "p", name_a[] = "a", name_b[] = "b", name_c[] = "c";
static char region[] = "region", year[] = "year", new_name[] = "new_name";
static char *b_after[] = {name_a};
static char *c_after[] = {name_a, name_b};
static char *two_args[] = {region, year};

static struct plan_step steps[] = {
        {.name = name_a},
        {.name = name_b, .after = b_after, .nafter = 1, .has_clear = true},
        {.name = name_c, .after = c_after, .nafter = 2},
};

static struct plan
plan_with(char **args, size_t nargs, char *pair)
{
	struct plan p = {.name = name_p,
	                 .steps = steps,
	                 .nsteps = 3,
	                 .args = args,
	                 .nargs = nargs,
	                 .pair = pair};
	return p;
}

/* submit_check with args and order as JSON text (args may be NULL). */
static int
check(const struct plan *plan, const char *order, const char *args, bool pairs,
      bool fresh, const char **param, char *msg, size_t len)
{
	json_t *o = json(order);
	json_t *a = args != NULL ? json(args) : NULL;
	int rc;

	*param = NULL;
	msg[0] = '\0';
	rc = submit_check(plan, o, a, pairs, fresh, param, msg, len);
	json_decref(o);
	json_decref(a);
	return rc;
}

static void
expect_refused(const struct plan *plan, const char *order, const char *args,
               bool pairs, bool fresh, const char *param, const char *msg)
{
	const char *got = NULL;
	char buf[1024];

	assert_int_equal(
	        check(plan, order, args, pairs, fresh, &got, buf, sizeof(buf)),
	        -1);
	assert_string_equal(got, param);
	assert_string_equal(buf, msg);
}

static void
expect_ok(const struct plan *plan, const char *order, const char *args,
          bool pairs, bool fresh)
{
	const char *got = NULL;
	char buf[1024];

	if (check(plan, order, args, pairs, fresh, &got, buf, sizeof(buf)) != 0)
		fail_msg("refused for %s: %s", got, buf);
}

static void
test_args_given_and_known(void **state)
{
	struct plan p = plan_with(two_args, 2, NULL);
	struct plan none = plan_with(NULL, 0, NULL);

	(void)state;
	expect_ok(&p, "[\"a\"]", "{\"region\":\"eu\",\"year\":\"\"}", false,
	          false);
	expect_ok(&none, "[\"a\"]", NULL, false, false);
	expect_ok(&none, "[\"a\"]", "{}", false, false);
	expect_refused(&p, "[\"a\"]", "{\"region\":\"eu\",\"colour\":\"red\"}",
	               false, false, "params",
	               "plan p has no parameter colour; its parameters are: "
	               "region, year");
	expect_refused(&none, "[\"a\"]", "{\"colour\":\"red\"}", false, false,
	               "params",
	               "plan p has no parameter colour: it takes no "
	               "parameters");
	expect_refused(&p, "[\"a\"]", "{\"region\":\"eu\"}", false, false,
	               "params", "plan p needs --param year=VALUE");
	expect_refused(&p, "[\"a\"]", NULL, false, false, "params",
	               "plan p needs --param region=VALUE");
	/* an unknown name is reported before a missing one */
	expect_refused(&p, "[\"a\"]", "{\"Region\":\"eu\"}", false, false,
	               "params",
	               "plan p has no parameter Region; its parameters are: "
	               "region, year");
}

static void
test_long_unknown_name_is_cut(void **state)
{
	struct plan none = plan_with(NULL, 0, NULL);
	char name[200], args[256], expected[256];
	const char *got;
	char msg[1024];

	(void)state;
	/* 63 ASCII bytes then 2-byte characters: the cut falls inside one */
	memset(name, 'x', 63);
	name[63] = '\0';
	for (int i = 0; i < 20; i++)
		strcat(name, "\xc3\xa9");
	snprintf(args, sizeof(args), "{\"%s\":\"v\"}", name);
	assert_int_equal(
	        check(&none, "[]", args, false, false, &got, msg, sizeof(msg)),
	        -1);
	snprintf(expected, sizeof(expected),
	         "plan p has no parameter %.63s...: it takes no parameters",
	         name);
	assert_string_equal(msg, expected);
}

static void
test_pairs_need_a_pair_key(void **state)
{
	struct plan p = plan_with(NULL, 0, NULL);
	struct plan paired = plan_with(NULL, 0, new_name);

	(void)state;
	expect_ok(&paired, "[\"a\"]", NULL, true, false);
	expect_ok(&p, "[\"a\"]", NULL, false, false);
	expect_refused(&p, "[\"a\"]", NULL, true, false, "pairs",
	               "plan p has no pair key, so it takes tenants, not "
	               "pairs");
	/* pairs are checked before params */
	expect_refused(&p, "[\"a\"]", "{\"x\":\"y\"}", true, false, "pairs",
	               "plan p has no pair key, so it takes tenants, not "
	               "pairs");
}

static void
test_fresh_needs_clear_sql(void **state)
{
	struct plan p = plan_with(NULL, 0, NULL);

	(void)state;
	expect_ok(&p, "[\"a\",\"b\",\"c\"]", NULL, false, true);
	expect_ok(&p, "[\"b\"]", NULL, false, true);
	expect_ok(&p, "[\"a\",\"c\"]", NULL, false, false);
	expect_refused(&p, "[\"a\",\"c\"]", NULL, false, true, "fresh",
	               "no selected step of plan p has clear SQL, so fresh "
	               "has nothing to clear");
}

/* submit_step_deps(plan, order) as compact JSON text. */
static void
expect_deps(const struct plan *plan, const char *order, const char *deps)
{
	json_t *o = json(order);
	json_t *d = submit_step_deps(plan, o);
	char *text = json_dumps(d, JSON_COMPACT);

	assert_non_null(text);
	assert_string_equal(text, deps);
	free(text);
	json_decref(d);
	json_decref(o);
}

static void
test_step_deps(void **state)
{
	struct plan p = plan_with(NULL, 0, NULL);

	(void)state;
	expect_deps(&p, "[\"a\",\"b\",\"c\"]", "[]");
	expect_deps(&p, "[\"a\"]", "[]");
	expect_deps(&p, "[\"b\"]", "[[\"b\",\"a\"]]");
	expect_deps(&p, "[\"c\"]", "[[\"c\",\"a\"],[\"c\",\"b\"]]");
	expect_deps(&p, "[\"b\",\"c\"]", "[[\"b\",\"a\"],[\"c\",\"a\"]]");
	expect_deps(&p, "[\"a\",\"c\"]", "[[\"c\",\"b\"]]");
}

static void
test_params_tenants(void **state)
{
	json_t *one = json("[\"t\"]"), *empty = json("[]");
	json_t *pair = json("[{\"old\":\"a\",\"new\":\"b\"}]");
	const char *bad;

	(void)state;
	assert_int_equal(params_tenants(one, NULL, false, &bad), 0);
	assert_int_equal(params_tenants(NULL, NULL, true, &bad), 0);
	assert_int_equal(params_tenants(NULL, pair, false, &bad), 0);

	static const struct {
		bool tenants, empty, pairs, pairs_empty, all;
		const char *bad;
	} refused[] = {
	        {false, false, false, false, false, "tenants"},
	        {true, false, false, false, true, "tenants"},
	        {false, true, false, false, false, "tenants"},
	        {false, false, true, true, false, "pairs"},
	        {true, false, true, false, false, "pairs"},
	        {false, false, true, false, true, "pairs"},
	        {false, true, true, false, false, "pairs"},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		json_t *t = refused[i].tenants ? one
		            : refused[i].empty ? empty
		                               : NULL;
		json_t *pr = refused[i].pairs_empty ? empty
		             : refused[i].pairs     ? pair
		                                    : NULL;
		bad = NULL;
		assert_int_equal(params_tenants(t, pr, refused[i].all, &bad),
		                 -1);
		assert_string_equal(bad, refused[i].bad);
	}
	json_decref(one);
	json_decref(empty);
	json_decref(pair);
}

static void
test_params_job_ref(void **state)
{
	const char *bad = NULL;

	(void)state;
	assert_int_equal(params_job_ref(7, NULL, NULL, &bad), 0);
	assert_int_equal(params_job_ref(0, "p", "t", &bad), 0);
	assert_null(bad);
	assert_int_equal(params_job_ref(7, "p", NULL, &bad), -1);
	assert_string_equal(bad, "plan");
	assert_int_equal(params_job_ref(7, NULL, "t", &bad), -1);
	assert_string_equal(bad, "plan");
	assert_int_equal(params_job_ref(0, NULL, NULL, &bad), -1);
	assert_string_equal(bad, "id");
	assert_int_equal(params_job_ref(0, NULL, "t", &bad), -1);
	assert_string_equal(bad, "id");
	assert_int_equal(params_job_ref(0, "p", NULL, &bad), -1);
	assert_string_equal(bad, "tenant");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_args_given_and_known),
	        cmocka_unit_test(test_long_unknown_name_is_cut),
	        cmocka_unit_test(test_pairs_need_a_pair_key),
	        cmocka_unit_test(test_fresh_needs_clear_sql),
	        cmocka_unit_test(test_step_deps),
	        cmocka_unit_test(test_params_tenants),
	        cmocka_unit_test(test_params_job_ref),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
