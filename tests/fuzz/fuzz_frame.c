/*
 * libFuzzer target: bytes as they could arrive on the control socket, in
 * chunks, through the framing and the call decoder and the parameter
 * dispatcher every method uses, with a table of every field type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "vl_dispatch.h"
#include "vl_frame.h"
#include "vl_message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct pair {
	const char *old_tenant, *new_tenant;
};

static const struct vl_field pair_fields[] = {
        VL_FIELD_STRING("old", VL_REQUIRED, struct pair, old_tenant, 1, 1024),
        VL_FIELD_STRING("new", 0, struct pair, new_tenant, 0, 0),
        VL_FIELDS_END,
};

struct args {
	const char *plan;
	long long id;
	bool all;
	json_t *tenants, *ids, *params, *pairs;
};

static const struct vl_field fields[] = {
        VL_FIELD_STRING("plan", VL_REQUIRED, struct args, plan, 0, 0),
        VL_FIELD_INT("id", 0, struct args, id, 1, INT64_MAX, 0),
        VL_FIELD_BOOL("all", 0, struct args, all),
        VL_FIELD_STRINGS("tenants", 0, struct args, tenants, 1, 1024),
        VL_FIELD_INTS("ids", 0, struct args, ids, 1, INT64_MAX),
        VL_FIELD_STRING_MAP("params", 0, struct args, params, 0, 0),
        VL_FIELD_OBJECTS("pairs", 0, struct args, pairs, pair_fields),
        VL_FIELDS_END,
};

static void
exercise_params(json_t *params)
{
	struct args a;
	const char *bad = NULL;

	(void)vl_dispatch(params, fields, &a, &bad);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer *in = evbuffer_new();
	size_t scanned = 0, off = 0;
	char err[256];

	if (in == NULL)
		return 0;
	/* the first byte picks the chunk size, as reads split messages */
	size_t chunk = size > 0 ? (size_t)data[0] % 64 + 1 : 1;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		char *msg;
		size_t len;
		evbuffer_add(in, data + off, n);
		off += n;
		while (vl_frame_pop(in, &scanned, &msg, &len) == VL_FRAME_OK) {
			struct vl_call call;
			struct vl_reply reply;
			if (vl_call_decode(msg, len, &call, err, sizeof(err)) ==
			    0) {
				exercise_params(call.parameters);
				char *text = vl_error_encode(call.method, NULL);
				free(text);
				vl_call_clear(&call);
			}
			if (vl_reply_decode(msg, len, &reply, err,
			                    sizeof(err)) == 0)
				vl_reply_clear(&reply);
			free(msg);
		}
	}
	evbuffer_free(in);
	return 0;
}
