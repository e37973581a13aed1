#include "vl_message.h"

#include <stdio.h>
#include <string.h>

static int
fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -1;
}

static bool
is_name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '_' || c == '-');
}

size_t
vl_method_interface_len(const char *method)
{
	const char *dot = strrchr(method, '.');

	if (dot == NULL || dot == method || dot[1] == '\0')
		return 0;
	if (!(dot[1] >= 'A' && dot[1] <= 'Z'))
		return 0;
	for (const char *p = dot + 1; *p != '\0'; p++)
		if (!is_name_char(*p, false) || *p == '-')
			return 0;
	bool first = true;
	for (const char *p = method; p < dot; p++) {
		if (*p == '.') {
			if (first)
				return 0;
			first = true;
			continue;
		}
		if (!is_name_char(*p, first))
			return 0;
		first = false;
	}
	return first ? 0 : (size_t)(dot - method);
}

int
vl_call_decode(const char *text, size_t len, struct vl_call *call, char *err,
               size_t errlen)
{
	json_error_t jerr;
	json_t *v;

	memset(call, 0, sizeof(*call));
	call->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (call->root == NULL) {
		snprintf(err, errlen, "invalid JSON at byte %d: %s",
		         jerr.position, jerr.text);
		return -1;
	}
	if (!json_is_object(call->root))
		goto bad_msg;

	v = json_object_get(call->root, "method");
	if (!json_is_string(v)) {
		vl_call_clear(call);
		return fail(err, errlen, "call has no \"method\" string");
	}
	call->method = json_string_value(v);
	if (vl_method_interface_len(call->method) == 0) {
		vl_call_clear(call);
		return fail(err, errlen, "\"method\" is not interface.Method");
	}

	v = json_object_get(call->root, "parameters");
	if (v == NULL || json_is_null(v)) {
		v = json_object();
		if (v == NULL ||
		    json_object_set_new(call->root, "parameters", v) < 0)
			goto bad_msg;
	} else if (!json_is_object(v)) {
		vl_call_clear(call);
		return fail(err, errlen, "\"parameters\" is not an object");
	}
	call->parameters = v;

	const char *flags[] = {"oneway", "more"};
	bool *dest[] = {&call->oneway, &call->more};
	for (size_t i = 0; i < 2; i++) {
		v = json_object_get(call->root, flags[i]);
		if (v == NULL || json_is_null(v))
			continue;
		if (!json_is_boolean(v)) {
			snprintf(err, errlen, "\"%s\" is not a boolean",
			         flags[i]);
			vl_call_clear(call);
			return -1;
		}
		*dest[i] = json_is_true(v);
	}
	if (call->oneway && call->more) {
		vl_call_clear(call);
		return fail(err, errlen,
		            "\"oneway\" and \"more\" exclude each other");
	}
	return 0;

bad_msg:
	vl_call_clear(call);
	return fail(err, errlen, "message is not a JSON object");
}

void
vl_call_clear(struct vl_call *call)
{
	json_decref(call->root);
	memset(call, 0, sizeof(*call));
}

static char *
encode(json_t *msg)
{
	char *text;

	if (msg == NULL)
		return NULL;
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	return text;
}

static json_t *
params_or_empty(json_t *parameters)
{
	return parameters != NULL ? parameters : json_object();
}

char *
vl_reply_encode(json_t *parameters, bool continues)
{
	json_t *msg =
	        json_pack("{s:o}", "parameters", params_or_empty(parameters));

	if (msg != NULL && continues)
		json_object_set_new(msg, "continues", json_true());
	return encode(msg);
}

char *
vl_error_encode(const char *error, json_t *parameters)
{
	return encode(json_pack("{s:s, s:o}", "error", error, "parameters",
	                        params_or_empty(parameters)));
}

char *
vl_call_encode(const char *method, json_t *parameters, bool more, bool oneway)
{
	json_t *msg = json_pack("{s:s, s:o}", "method", method, "parameters",
	                        params_or_empty(parameters));

	if (msg != NULL && more)
		json_object_set_new(msg, "more", json_true());
	if (msg != NULL && oneway)
		json_object_set_new(msg, "oneway", json_true());
	return encode(msg);
}

int
vl_reply_decode(const char *text, size_t len, struct vl_reply *reply, char *err,
                size_t errlen)
{
	json_error_t jerr;
	json_t *v;

	memset(reply, 0, sizeof(*reply));
	reply->root = json_loadb(text, len, 0, &jerr);
	if (reply->root == NULL) {
		snprintf(err, errlen, "invalid JSON in reply: %s", jerr.text);
		return -1;
	}
	if (!json_is_object(reply->root)) {
		vl_reply_clear(reply);
		return fail(err, errlen, "reply is not a JSON object");
	}
	v = json_object_get(reply->root, "parameters");
	if (v == NULL || json_is_null(v)) {
		v = json_object();
		json_object_set_new(reply->root, "parameters", v);
	}
	if (!json_is_object(v)) {
		vl_reply_clear(reply);
		return fail(err, errlen,
		            "reply \"parameters\" is not an object");
	}
	reply->parameters = v;
	v = json_object_get(reply->root, "error");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v)) {
			vl_reply_clear(reply);
			return fail(err, errlen,
			            "reply \"error\" is not a string");
		}
		reply->error = json_string_value(v);
	}
	reply->continues =
	        json_is_true(json_object_get(reply->root, "continues"));
	return 0;
}

void
vl_reply_clear(struct vl_reply *reply)
{
	json_decref(reply->root);
	memset(reply, 0, sizeof(*reply));
}
