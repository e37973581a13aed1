/*
 * Unit tests for proto/vl_dispatch.c: call parameters checked against a
 * method's table and landed in its struct.
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

#include "vl_dispatch.h"

/* A call's "parameters" from JSON text. */
static json_t *
params(const char *text)
{
	json_error_t jerr;
	json_t *p = json_loads(text, 0, &jerr);

	if (p == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return p;
}

/* A table with one field of each type, like a method's. */
struct pair {
	const char *old_tenant, *new_tenant;
};

static const struct vl_field pair_fields[] = {
        VL_FIELD_STRING("old", VL_REQUIRED, struct pair, old_tenant, 1, 8),
        VL_FIELD_STRING("new", VL_REQUIRED, struct pair, new_tenant, 1, 8),
        VL_FIELDS_END,
};

struct args {
	const char *plan;
	const char *filter;
	long long limit;
	long long priority;
	bool all;
	json_t *tenants;
	json_t *ids;
	json_t *params;
	json_t *pairs;
};

static const struct vl_field fields[] = {
        VL_FIELD_STRING("plan", VL_REQUIRED, struct args, plan, 0, 0),
        VL_FIELD_STRING("filter", 0, struct args, filter, 0, 0),
        VL_FIELD_INT("limit", 0, struct args, limit, 1, 100, 10),
        VL_FIELD_INT("priority", 0, struct args, priority, -5, 5, 0),
        VL_FIELD_BOOL("all", 0, struct args, all),
        VL_FIELD_STRINGS("tenants", 0, struct args, tenants, 1, 4),
        VL_FIELD_INTS("ids", 0, struct args, ids, 1, INT64_MAX),
        VL_FIELD_STRING_MAP("params", 0, struct args, params, 0, 4),
        VL_FIELD_OBJECTS("pairs", 0, struct args, pairs, pair_fields),
        VL_FIELDS_END,
};

/* Dispatches text, expecting success; the caller decrefs *p. */
static void
dispatch_ok(const char *text, json_t **p, struct args *a)
{
	const char *bad = NULL;

	*p = params(text);
	memset(a, 0xa5, sizeof(*a)); /* every field must be written */
	if (vl_dispatch(*p, fields, a, &bad) != 0)
		fail_msg("%s refused for %s", text, bad != NULL ? bad : "?");
	assert_null(bad);
}

/* Dispatches text and expects it refused for the field called bad. */
static void
refused(const char *text, const char *expected)
{
	json_t *p = params(text);
	const char *bad = NULL;
	struct args a;

	if (vl_dispatch(p, fields, &a, &bad) != -1)
		fail_msg("%s was accepted", text);
	if (bad == NULL || strcmp(bad, expected) != 0)
		fail_msg("%s: refused for %s, expected %s", text,
		         bad != NULL ? bad : "(null)", expected);
	json_decref(p);
}

static void
test_defaults_when_absent(void **state)
{
	struct args a;
	json_t *p;

	(void)state;
	dispatch_ok("{\"plan\":\"x\"}", &p, &a);
	assert_string_equal(a.plan, "x");
	assert_null(a.filter);
	assert_int_equal(a.limit, 10);
	assert_int_equal(a.priority, 0);
	assert_false(a.all);
	assert_null(a.tenants);
	assert_null(a.ids);
	assert_null(a.params);
	assert_null(a.pairs);
	json_decref(p);
}

static void
test_null_is_absent(void **state)
{
	struct args a;
	json_t *p;

	(void)state;
	dispatch_ok("{\"plan\":\"x\",\"filter\":null,\"limit\":null,"
	            "\"all\":null,\"tenants\":null,\"ids\":null,"
	            "\"params\":null,\"pairs\":null}",
	            &p, &a);
	assert_null(a.filter);
	assert_int_equal(a.limit, 10);
	assert_false(a.all);
	assert_null(a.tenants);
	assert_null(a.ids);
	assert_null(a.params);
	assert_null(a.pairs);
	json_decref(p);
	/* but not for a required field */
	refused("{\"plan\":null}", "plan");
}

static void
test_values_land_in_the_struct(void **state)
{
	struct args a;
	json_t *p;

	(void)state;
	dispatch_ok(
	        "{\"plan\":\"\",\"filter\":\"f\",\"limit\":100,"
	        "\"priority\":-5,\"all\":true,\"tenants\":[\"a\",\"abcd\"],"
	        "\"ids\":[1,9223372036854775807],\"params\":{\"k\":\"\","
	        "\"l\":\"abcd\"},\"pairs\":[{\"old\":\"a\",\"new\":\"b\"}]}",
	        &p, &a);
	assert_string_equal(a.plan, "");
	assert_string_equal(a.filter, "f");
	assert_int_equal(a.limit, 100);
	assert_int_equal(a.priority, -5);
	assert_true(a.all);
	/* JSON values are borrowed from the parameters */
	assert_ptr_equal(a.tenants, json_object_get(p, "tenants"));
	assert_ptr_equal(a.ids, json_object_get(p, "ids"));
	assert_ptr_equal(a.params, json_object_get(p, "params"));
	assert_ptr_equal(a.pairs, json_object_get(p, "pairs"));
	assert_ptr_equal(a.plan, json_string_value(json_object_get(p, "plan")));
	json_decref(p);

	/* empty arrays and objects are values too */
	dispatch_ok("{\"plan\":\"x\",\"all\":false,\"tenants\":[],\"ids\":[],"
	            "\"params\":{},\"pairs\":[]}",
	            &p, &a);
	assert_false(a.all);
	assert_int_equal(json_array_size(a.tenants), 0);
	assert_int_equal(json_array_size(a.ids), 0);
	assert_int_equal(json_object_size(a.params), 0);
	assert_int_equal(json_array_size(a.pairs), 0);
	json_decref(p);
}

static void
test_unknown_fields(void **state)
{
	(void)state;
	refused("{\"plan\":\"x\",\"tenant\":\"t\"}", "tenant");
	refused("{\"Plan\":\"x\"}", "Plan");
	/* even when null, and before any other problem */
	refused("{\"plan\":1,\"x\":null}", "x");
	refused("{\"x\":1}", "x");

	/* a method without parameters takes none */
	static const struct vl_field none[] = {VL_FIELDS_END};
	const char *bad = NULL;
	json_t *p = params("{}");
	assert_int_equal(vl_dispatch(p, none, NULL, &bad), 0);
	json_decref(p);
	p = params("{\"bogus\":1}");
	assert_int_equal(vl_dispatch(p, none, NULL, &bad), -1);
	assert_string_equal(bad, "bogus");
	json_decref(p);
}

static void
test_required_missing(void **state)
{
	(void)state;
	refused("{}", "plan");
	refused("{\"limit\":5}", "plan");
}

static void
test_wrong_types(void **state)
{
	static const char *const cases[][2] = {
	        {"{\"plan\":1}", "plan"},
	        {"{\"plan\":true}", "plan"},
	        {"{\"plan\":[\"x\"]}", "plan"},
	        {"{\"plan\":{}}", "plan"},
	        {"{\"plan\":\"x\",\"limit\":\"5\"}", "limit"},
	        {"{\"plan\":\"x\",\"limit\":5.0}", "limit"},
	        {"{\"plan\":\"x\",\"limit\":true}", "limit"},
	        {"{\"plan\":\"x\",\"limit\":[5]}", "limit"},
	        {"{\"plan\":\"x\",\"all\":1}", "all"},
	        {"{\"plan\":\"x\",\"all\":\"true\"}", "all"},
	        {"{\"plan\":\"x\",\"all\":[]}", "all"},
	        {"{\"plan\":\"x\",\"tenants\":\"a\"}", "tenants"},
	        {"{\"plan\":\"x\",\"tenants\":[1]}", "tenants"},
	        {"{\"plan\":\"x\",\"tenants\":[null]}", "tenants"},
	        {"{\"plan\":\"x\",\"tenants\":[[\"a\"]]}", "tenants"},
	        {"{\"plan\":\"x\",\"tenants\":{\"a\":1}}", "tenants"},
	        {"{\"plan\":\"x\",\"ids\":1}", "ids"},
	        {"{\"plan\":\"x\",\"ids\":[\"1\"]}", "ids"},
	        {"{\"plan\":\"x\",\"ids\":[1.5]}", "ids"},
	        {"{\"plan\":\"x\",\"ids\":[true]}", "ids"},
	        {"{\"plan\":\"x\",\"ids\":[null]}", "ids"},
	        {"{\"plan\":\"x\",\"params\":[]}", "params"},
	        {"{\"plan\":\"x\",\"params\":\"k=v\"}", "params"},
	        {"{\"plan\":\"x\",\"params\":{\"k\":1}}", "params"},
	        {"{\"plan\":\"x\",\"params\":{\"k\":null}}", "params"},
	        {"{\"plan\":\"x\",\"params\":{\"k\":[\"v\"]}}", "params"},
	        {"{\"plan\":\"x\",\"pairs\":{}}", "pairs"},
	        {"{\"plan\":\"x\",\"pairs\":[\"a:b\"]}", "pairs"},
	        {"{\"plan\":\"x\",\"pairs\":[[\"a\",\"b\"]]}", "pairs"},
	        {"{\"plan\":\"x\",\"pairs\":[null]}", "pairs"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		refused(cases[i][0], cases[i][1]);
}

static void
test_integer_bounds(void **state)
{
	struct args a;
	json_t *p;

	(void)state;
	dispatch_ok("{\"plan\":\"x\",\"limit\":1,\"priority\":5}", &p, &a);
	assert_int_equal(a.limit, 1);
	assert_int_equal(a.priority, 5);
	json_decref(p);
	refused("{\"plan\":\"x\",\"limit\":0}", "limit");
	refused("{\"plan\":\"x\",\"limit\":101}", "limit");
	refused("{\"plan\":\"x\",\"limit\":-9223372036854775807}", "limit");
	refused("{\"plan\":\"x\",\"priority\":-6}", "priority");
	refused("{\"plan\":\"x\",\"priority\":6}", "priority");
	refused("{\"plan\":\"x\",\"ids\":[1,0]}", "ids");
	refused("{\"plan\":\"x\",\"ids\":[-1]}", "ids");
}

static void
test_string_lengths(void **state)
{
	(void)state;
	/* tenants: 1 to 4 bytes each, inclusive */
	refused("{\"plan\":\"x\",\"tenants\":[\"a\",\"\"]}", "tenants");
	refused("{\"plan\":\"x\",\"tenants\":[\"abcde\"]}", "tenants");
	/* bytes, not characters: two 3-byte characters are 6 */
	refused("{\"plan\":\"x\",\"tenants\":[\"\u20ac\u20ac\"]}", "tenants");
	/* params: values of at most 4 bytes, empty allowed */
	refused("{\"plan\":\"x\",\"params\":{\"k\":\"abcde\"}}", "params");
}

static void
test_nul_inside_strings(void **state)
{
	json_t *p = params("{\"plan\":\"x\"}");
	const char *bad = NULL;
	struct args a;
	json_t *arr = json_array();
	json_t *map = json_object();

	(void)state;
	/* possible when built in C, not from the wire */
	json_object_set_new(p, "filter", json_stringn("a\0b", 3));
	assert_int_equal(vl_dispatch(p, fields, &a, &bad), -1);
	assert_string_equal(bad, "filter");
	json_object_del(p, "filter");
	json_array_append_new(arr, json_stringn("a\0b", 3));
	json_object_set_new(p, "tenants", arr);
	assert_int_equal(vl_dispatch(p, fields, &a, &bad), -1);
	assert_string_equal(bad, "tenants");
	json_object_del(p, "tenants");
	json_object_set_new(map, "k", json_stringn("a\0b", 3));
	json_object_set_new(p, "params", map);
	assert_int_equal(vl_dispatch(p, fields, &a, &bad), -1);
	assert_string_equal(bad, "params");
	json_decref(p);
}

static void
test_objects_checked_by_their_table(void **state)
{
	struct args a;
	json_t *p;

	(void)state;
	dispatch_ok("{\"plan\":\"x\",\"pairs\":[{\"old\":\"a\",\"new\":\"b\"},"
	            "{\"new\":\"c\",\"old\":\"a\"}]}",
	            &p, &a);
	assert_int_equal(json_array_size(a.pairs), 2);
	json_decref(p);
	/* any problem inside is the outer field's */
	refused("{\"plan\":\"x\",\"pairs\":[{\"old\":\"a\"}]}", "pairs");
	refused("{\"plan\":\"x\",\"pairs\":[{\"old\":\"a\",\"new\":null}]}",
	        "pairs");
	refused("{\"plan\":\"x\",\"pairs\":[{\"old\":\"\",\"new\":\"b\"}]}",
	        "pairs");
	refused("{\"plan\":\"x\",\"pairs\":[{\"old\":\"a\",\"new\":\"b\","
	        "\"x\":null}]}",
	        "pairs");
	refused("{\"plan\":\"x\",\"pairs\":[{\"old\":1,\"new\":\"b\"}]}",
	        "pairs");
	refused("{\"plan\":\"x\",\"pairs\":[{\"old\":\"a\",\"new\":\"b\"},"
	        "{\"old\":\"a\",\"new\":\"123456789\"}]}",
	        "pairs");
}

static void
test_order_of_problems(void **state)
{
	(void)state;
	/* unknown keys first, then the fields in table order */
	refused("{\"limit\":0,\"bogus\":1}", "bogus");
	refused("{\"limit\":0}", "plan");
	refused("{\"plan\":\"x\",\"tenants\":1,\"limit\":0}", "limit");
	refused("{\"plan\":\"x\",\"pairs\":1,\"tenants\":1}", "tenants");
}

static void
test_check_only(void **state)
{
	json_t *p = params("{\"plan\":\"x\",\"limit\":3}");
	const char *bad = NULL;

	(void)state;
	assert_int_equal(vl_dispatch(p, fields, NULL, &bad), 0);
	json_object_set_new(p, "limit", json_integer(0));
	assert_int_equal(vl_dispatch(p, fields, NULL, &bad), -1);
	assert_string_equal(bad, "limit");
	json_decref(p);
}

static void
test_params_size(void **state)
{
	static const struct vl_params p = VL_PARAMS(struct args, fields);

	(void)state;
	assert_ptr_equal(p.fields, fields);
	assert_int_equal(p.size, sizeof(struct args));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_defaults_when_absent),
	        cmocka_unit_test(test_null_is_absent),
	        cmocka_unit_test(test_values_land_in_the_struct),
	        cmocka_unit_test(test_unknown_fields),
	        cmocka_unit_test(test_required_missing),
	        cmocka_unit_test(test_wrong_types),
	        cmocka_unit_test(test_integer_bounds),
	        cmocka_unit_test(test_string_lengths),
	        cmocka_unit_test(test_nul_inside_strings),
	        cmocka_unit_test(test_objects_checked_by_their_table),
	        cmocka_unit_test(test_order_of_problems),
	        cmocka_unit_test(test_check_only),
	        cmocka_unit_test(test_params_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
