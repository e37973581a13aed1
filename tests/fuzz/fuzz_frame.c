/*
 * libFuzzer target: bytes as they could arrive on the control socket, in
 * chunks, through the framing and the call decoder and the parameter
 * accessors every method uses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "vl_frame.h"
#include "vl_message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
exercise_params(json_t *params)
{
	static const char *const known[] = {"plan", "tenants", "all", "ids",
	                                    NULL};
	const char *s = NULL, *bad = NULL;
	long long n = 0;
	bool b = false;
	json_t *arr = NULL;

	(void)vl_param_string(params, "plan", true, &s, &bad);
	(void)vl_param_int(params, "id", false, 1, INT64_MAX, &n, &bad);
	(void)vl_param_bool(params, "all", &b, &bad);
	(void)vl_param_strings(params, "tenants", 1024, &arr, &bad);
	(void)vl_param_ints(params, "ids", &arr, &bad);
	(void)vl_params_only(params, known, &bad);
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
