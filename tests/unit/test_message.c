/* Unit tests for proto/vl_message.c: Varlink calls and replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "vl_message.h"

/* Decodes text (a C string) as a call and expects success. */
static void
decode_ok(const char *text, struct vl_call *call)
{
	char err[256] = "";

	if (vl_call_decode(text, strlen(text), call, err, sizeof(err)) != 0)
		fail_msg("vl_call_decode(%s) failed: %s", text, err);
	assert_non_null(call->root);
	assert_true(json_is_object(call->parameters));
}

/* Decodes len bytes of text as a call and expects exactly message msg. */
static void
expect_refused_len(const char *text, size_t len, const char *msg)
{
	struct vl_call call;
	char err[256] = "";

	assert_int_equal(vl_call_decode(text, len, &call, err, sizeof(err)),
	                 -1);
	assert_string_equal(err, msg);
	assert_null(call.root);
	assert_null(call.method);
	assert_null(call.parameters);
	assert_false(call.oneway);
	assert_false(call.more);
}

static void
expect_refused(const char *text, const char *msg)
{
	expect_refused_len(text, strlen(text), msg);
}

static const char not_method[] = "\"method\" is not interface.Method";

static void
test_call_without_parameters(void **state)
{
	struct vl_call call;

	(void)state;
	decode_ok("{\"method\":\"io.migrated.GetStatus\"}", &call);
	assert_string_equal(call.method, "io.migrated.GetStatus");
	assert_int_equal(json_object_size(call.parameters), 0);
	assert_false(call.oneway);
	assert_false(call.more);
	vl_call_clear(&call);
	assert_null(call.root);
	assert_null(call.method);
}

static void
test_call_with_parameters(void **state)
{
	struct vl_call call;

	(void)state;
	decode_ok("{\"method\":\"io.migrated.Submit\",\"parameters\":"
	          "{\"plan\":\"p\",\"tenants\":[\"a\",\"b\"]},\"more\":false}",
	          &call);
	assert_string_equal(call.method, "io.migrated.Submit");
	assert_int_equal(json_object_size(call.parameters), 2);
	assert_string_equal(
	        json_string_value(json_object_get(call.parameters, "plan")),
	        "p");
	assert_int_equal(
	        json_array_size(json_object_get(call.parameters, "tenants")),
	        2);
	assert_false(call.more);
	vl_call_clear(&call);
}

static void
test_call_null_members(void **state)
{
	struct vl_call call;

	(void)state;
	decode_ok("{\"method\":\"a.b.C\",\"parameters\":null,\"oneway\":null,"
	          "\"more\":null}",
	          &call);
	assert_int_equal(json_object_size(call.parameters), 0);
	assert_false(call.oneway);
	assert_false(call.more);
	vl_call_clear(&call);
}

static void
test_call_flags(void **state)
{
	struct vl_call call;

	(void)state;
	decode_ok("{\"method\":\"a.b.C\",\"oneway\":true}", &call);
	assert_true(call.oneway);
	assert_false(call.more);
	vl_call_clear(&call);

	decode_ok("{\"more\":true,\"parameters\":{},\"method\":\"a.b.C\"}",
	          &call);
	assert_false(call.oneway);
	assert_true(call.more);
	vl_call_clear(&call);

	decode_ok("{\"method\":\"a.b.C\",\"oneway\":false,\"more\":true}",
	          &call);
	assert_true(call.more);
	vl_call_clear(&call);
}

/* Only len bytes are read: the frame layer hands over a length. */
static void
test_call_reads_only_len(void **state)
{
	static const char text[] = "{\"method\":\"a.b.C\"}trailing junk";
	struct vl_call call;
	char err[256] = "";

	(void)state;
	assert_int_equal(vl_call_decode(text, 18, &call, err, sizeof(err)), 0);
	assert_string_equal(call.method, "a.b.C");
	vl_call_clear(&call);
}

static void
test_call_invalid_json(void **state)
{
	(void)state;
	expect_refused("{", "invalid JSON at byte 1: string or '}' expected "
	                    "near end of file");
	expect_refused("", "invalid JSON at byte 0: '[' or '{' expected near "
	                   "end of file");
	expect_refused(
	        "{\"method\":\"a.b.C\"} x",
	        "invalid JSON at byte 20: end of file expected near 'x'");
	expect_refused("{method:\"a.b.C\"}",
	               "invalid JSON at byte 7: string or '}' expected near "
	               "'method'");
}

static void
test_call_not_object(void **state)
{
	(void)state;
	expect_refused("[]", "message is not a JSON object");
	expect_refused("[{\"method\":\"a.b.C\"}]",
	               "message is not a JSON object");
	expect_refused("42",
	               "invalid JSON at byte 2: '[' or '{' expected near '42'");
	expect_refused("\"a.b.C\"",
	               "invalid JSON at byte 7: '[' or '{' expected near "
	               "'\"a.b.C\"'");
}

static void
test_call_method_missing_or_not_string(void **state)
{
	static const char msg[] = "call has no \"method\" string";

	(void)state;
	expect_refused("{}", msg);
	expect_refused("{\"parameters\":{}}", msg);
	expect_refused("{\"method\":null}", msg);
	expect_refused("{\"method\":42}", msg);
	expect_refused("{\"method\":[\"a.b.C\"]}", msg);
	expect_refused("{\"Method\":\"a.b.C\"}", msg);
}

static void
test_call_method_malformed(void **state)
{
	static const char *const bad[] = {
	        "GetStatus", ".x.Y",   "a..b.C", "a.b.c",  "a.b.C-d", "",
	        "a.b.",      ".Y",     "a.b.C.", "1a.b.C", "a.b.1C",  "a b.C",
	        "a.b.C d",   "a.b._C", "a.b.Ç",  "a.-b.C", "a.b.C/d",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), "{\"method\":\"%s\"}", bad[i]);
		expect_refused(text, not_method);
	}
}

static void
test_call_parameters_not_object(void **state)
{
	static const char msg[] = "\"parameters\" is not an object";

	(void)state;
	expect_refused("{\"method\":\"a.b.C\",\"parameters\":[]}", msg);
	expect_refused("{\"method\":\"a.b.C\",\"parameters\":\"x\"}", msg);
	expect_refused("{\"method\":\"a.b.C\",\"parameters\":0}", msg);
	expect_refused("{\"method\":\"a.b.C\",\"parameters\":false}", msg);
}

static void
test_call_flags_not_boolean(void **state)
{
	(void)state;
	expect_refused("{\"method\":\"a.b.C\",\"oneway\":1}",
	               "\"oneway\" is not a boolean");
	expect_refused("{\"method\":\"a.b.C\",\"oneway\":\"true\"}",
	               "\"oneway\" is not a boolean");
	expect_refused("{\"method\":\"a.b.C\",\"more\":0}",
	               "\"more\" is not a boolean");
	expect_refused("{\"method\":\"a.b.C\",\"more\":{}}",
	               "\"more\" is not a boolean");
}

static void
test_call_oneway_and_more(void **state)
{
	(void)state;
	expect_refused("{\"method\":\"a.b.C\",\"oneway\":true,\"more\":true}",
	               "\"oneway\" and \"more\" exclude each other");
}

static void
test_call_duplicate_keys(void **state)
{
	(void)state;
	expect_refused("{\"method\":\"a.b.C\",\"method\":\"a.b.D\"}",
	               "invalid JSON at byte 26: duplicate object key near "
	               "'\"method\"'");
	expect_refused(
	        "{\"method\":\"a.b.C\",\"parameters\":{\"a\":1,\"a\":2}}",
	        "invalid JSON at byte 41: duplicate object key near "
	        "'\"a\"'");
}

static void
test_call_deep_nesting(void **state)
{
	static const char head[] =
	        "{\"method\":\"a.b.C\",\"parameters\":{\"x\":";
	size_t depth = 100000;
	char *text = malloc(sizeof(head) + depth);

	(void)state;
	assert_non_null(text);
	memset(text, '[', depth);
	expect_refused_len(text, depth,
	                   "invalid JSON at byte 2049: maximum parsing depth "
	                   "reached near '['");

	memcpy(text, head, sizeof(head) - 1);
	memset(text + sizeof(head) - 1, '[', depth);
	expect_refused_len(text, sizeof(head) - 1 + depth,
	                   "invalid JSON at byte 2083: maximum parsing depth "
	                   "reached near '['");
	free(text);
}

static void
test_call_nul_in_string(void **state)
{
	(void)state;
	expect_refused(
	        "{\"method\":\"a.b.C\",\"parameters\":{\"s\":\"a\\u0000b\"}}",
	        "invalid JSON at byte 46: \\u0000 is not allowed without "
	        "JSON_ALLOW_NUL near '\"a\\u0000b\"'");
	expect_refused(
	        "{\"method\":\"a.b.C\\u0000\"}",
	        "invalid JSON at byte 23: \\u0000 is not allowed without "
	        "JSON_ALLOW_NUL near '\"a.b.C\\u0000\"'");
}

static void
test_call_invalid_utf8(void **state)
{
	(void)state;
	expect_refused("{\"method\":\"a.b.\xff\"}",
	               "invalid JSON at byte 15: unable to decode byte 0xff "
	               "near '\"a.b.'");
	expect_refused(
	        "{\"method\":\"a.b.C\",\"parameters\":{\"s\":\"\xc3\x28\"}}",
	        "invalid JSON at byte 37: unable to decode byte 0xc3 "
	        "near '\"'");
	/* An overlong encoding of '/'. */
	expect_refused(
	        "{\"method\":\"a.b.C\",\"parameters\":{\"s\":\"\xc0\xaf\"}}",
	        "invalid JSON at byte 37: unable to decode byte 0xc0 "
	        "near '\"'");
}

static void
test_method_interface_len(void **state)
{
	(void)state;
	assert_int_equal(vl_method_interface_len("io.migrated.GetStatus"), 11);
	assert_int_equal(vl_method_interface_len("org.varlink.service.GetInfo"),
	                 19);
	assert_int_equal(vl_method_interface_len("a.b.C"), 3);
	assert_int_equal(vl_method_interface_len("a-1.b2.C3"), 6);
	assert_int_equal(vl_method_interface_len("GetStatus"), 0);
	assert_int_equal(vl_method_interface_len(""), 0);
	assert_int_equal(vl_method_interface_len("."), 0);
	assert_int_equal(vl_method_interface_len(".x.Y"), 0);
	assert_int_equal(vl_method_interface_len("a..b.C"), 0);
	assert_int_equal(vl_method_interface_len("a.b.c"), 0);
	assert_int_equal(vl_method_interface_len("a.b.C-d"), 0);
	assert_int_equal(vl_method_interface_len("a.b."), 0);
	assert_int_equal(vl_method_interface_len("a.b.C."), 0);
	assert_int_equal(vl_method_interface_len("1a.b.C"), 0);
}

/* Parses text and checks it is an object whose keys are exactly keys. */
static json_t *
expect_keys(const char *text, const char *const *keys)
{
	json_error_t jerr;
	json_t *msg;
	size_t n = 0;

	assert_non_null(text);
	msg = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (msg == NULL)
		fail_msg("not JSON: %s: %s", text, jerr.text);
	assert_true(json_is_object(msg));
	for (; keys[n] != NULL; n++)
		if (json_object_get(msg, keys[n]) == NULL)
			fail_msg("%s lacks \"%s\"", text, keys[n]);
	assert_int_equal(json_object_size(msg), n);
	return msg;
}

static void
test_reply_encode(void **state)
{
	static const char *const plain[] = {"parameters", NULL};
	static const char *const more[] = {"parameters", "continues", NULL};
	char *text;
	json_t *msg;

	(void)state;
	text = vl_reply_encode(NULL, false);
	msg = expect_keys(text, plain);
	assert_int_equal(json_object_size(json_object_get(msg, "parameters")),
	                 0);
	json_decref(msg);
	free(text);

	text = vl_reply_encode(json_pack("{s:i}", "id", 7), true);
	msg = expect_keys(text, more);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(msg, "parameters"), "id")),
	                 7);
	assert_true(json_is_true(json_object_get(msg, "continues")));
	json_decref(msg);
	free(text);

	/* Compact, and no NUL inside: ready for vl_frame_push. */
	text = vl_reply_encode(json_pack("{s:s}", "s", "x y"), false);
	assert_string_equal(text, "{\"parameters\":{\"s\":\"x y\"}}");
	free(text);
}

static void
test_error_encode(void **state)
{
	static const char *const keys[] = {"error", "parameters", NULL};
	char *text;
	json_t *msg;

	(void)state;
	text = vl_error_encode(VL_ERR_INVALID_PARAMETER,
	                       json_pack("{s:s}", "parameter", "limit"));
	msg = expect_keys(text, keys);
	assert_string_equal(json_string_value(json_object_get(msg, "error")),
	                    "org.varlink.service.InvalidParameter");
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_object_get(msg, "parameters"), "parameter")),
	        "limit");
	json_decref(msg);
	free(text);

	text = vl_error_encode(VL_ERR_PERMISSION_DENIED, NULL);
	msg = expect_keys(text, keys);
	assert_int_equal(json_object_size(json_object_get(msg, "parameters")),
	                 0);
	json_decref(msg);
	free(text);
}

static void
decode_reply_ok(char *text, struct vl_reply *reply)
{
	char err[256] = "";

	assert_non_null(text);
	if (vl_reply_decode(text, strlen(text), reply, err, sizeof(err)) != 0)
		fail_msg("vl_reply_decode(%s) failed: %s", text, err);
	free(text);
	assert_true(json_is_object(reply->parameters));
}

static void
test_reply_round_trip(void **state)
{
	struct vl_reply reply;

	(void)state;
	decode_reply_ok(vl_reply_encode(json_pack("{s:s, s:[i,i]}", "state",
	                                          "running", "ids", 1, 2),
	                                true),
	                &reply);
	assert_null(reply.error);
	assert_true(reply.continues);
	assert_string_equal(
	        json_string_value(json_object_get(reply.parameters, "state")),
	        "running");
	assert_int_equal(
	        json_array_size(json_object_get(reply.parameters, "ids")), 2);
	vl_reply_clear(&reply);
	assert_null(reply.root);
	assert_null(reply.parameters);

	decode_reply_ok(vl_reply_encode(NULL, false), &reply);
	assert_null(reply.error);
	assert_false(reply.continues);
	assert_int_equal(json_object_size(reply.parameters), 0);
	vl_reply_clear(&reply);

	decode_reply_ok(vl_error_encode(VL_ERR_METHOD_NOT_FOUND,
	                                json_pack("{s:s}", "method", "a.b.C")),
	                &reply);
	assert_string_equal(reply.error, "org.varlink.service.MethodNotFound");
	assert_false(reply.continues);
	assert_string_equal(
	        json_string_value(json_object_get(reply.parameters, "method")),
	        "a.b.C");
	vl_reply_clear(&reply);
}

static void
expect_reply_refused(const char *text, const char *msg)
{
	struct vl_reply reply;
	char err[256] = "";

	assert_int_equal(
	        vl_reply_decode(text, strlen(text), &reply, err, sizeof(err)),
	        -1);
	assert_string_equal(err, msg);
	assert_null(reply.root);
	assert_null(reply.parameters);
	assert_null(reply.error);
}

static void
test_reply_decode_refused(void **state)
{
	(void)state;
	expect_reply_refused("{\"parameters\":", "invalid JSON in reply: "
	                                         "unexpected token near end of "
	                                         "file");
	expect_reply_refused("[1]", "reply is not a JSON object");
	expect_reply_refused("{\"parameters\":[]}",
	                     "reply \"parameters\" is not an object");
	expect_reply_refused("{\"error\":7}",
	                     "reply \"error\" is not a string");
}

static void
test_call_encode_round_trip(void **state)
{
	struct vl_call call;
	char *text;

	(void)state;
	text = vl_call_encode("io.migrated.Watch",
	                      json_pack("{s:[i]}", "ids", 3), true, false);
	assert_non_null(text);
	decode_ok(text, &call);
	free(text);
	assert_string_equal(call.method, "io.migrated.Watch");
	assert_true(call.more);
	assert_false(call.oneway);
	assert_int_equal(json_integer_value(json_array_get(
	                         json_object_get(call.parameters, "ids"), 0)),
	                 3);
	vl_call_clear(&call);

	text = vl_call_encode("io.migrated.Pause", NULL, false, true);
	assert_non_null(text);
	decode_ok(text, &call);
	free(text);
	assert_true(call.oneway);
	assert_false(call.more);
	assert_int_equal(json_object_size(call.parameters), 0);
	vl_call_clear(&call);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_call_without_parameters),
	        cmocka_unit_test(test_call_with_parameters),
	        cmocka_unit_test(test_call_null_members),
	        cmocka_unit_test(test_call_flags),
	        cmocka_unit_test(test_call_reads_only_len),
	        cmocka_unit_test(test_call_invalid_json),
	        cmocka_unit_test(test_call_not_object),
	        cmocka_unit_test(test_call_method_missing_or_not_string),
	        cmocka_unit_test(test_call_method_malformed),
	        cmocka_unit_test(test_call_parameters_not_object),
	        cmocka_unit_test(test_call_flags_not_boolean),
	        cmocka_unit_test(test_call_oneway_and_more),
	        cmocka_unit_test(test_call_duplicate_keys),
	        cmocka_unit_test(test_call_deep_nesting),
	        cmocka_unit_test(test_call_nul_in_string),
	        cmocka_unit_test(test_call_invalid_utf8),
	        cmocka_unit_test(test_method_interface_len),
	        cmocka_unit_test(test_reply_encode),
	        cmocka_unit_test(test_error_encode),
	        cmocka_unit_test(test_reply_round_trip),
	        cmocka_unit_test(test_reply_decode_refused),
	        cmocka_unit_test(test_call_encode_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
