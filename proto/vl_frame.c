#include "vl_frame.h"

#include <stdlib.h>
#include <string.h>

enum vl_frame_result
vl_frame_pop(struct evbuffer *in, size_t *scanned, char **msg, size_t *len)
{
	struct evbuffer_ptr start;
	struct evbuffer_ptr nul;
	size_t buffered = evbuffer_get_length(in);

	*msg = NULL;
	*len = 0;
	if (*scanned > buffered)
		*scanned = 0;
	if (evbuffer_ptr_set(in, &start, *scanned, EVBUFFER_PTR_SET) < 0)
		return VL_FRAME_TOO_BIG;
	nul = evbuffer_search(in, "", 1, &start);
	if (nul.pos < 0) {
		*scanned = buffered;
		if (buffered > (size_t)VL_MAX_MESSAGE)
			return VL_FRAME_TOO_BIG;
		return VL_FRAME_PARTIAL;
	}
	*scanned = 0;
	if ((size_t)nul.pos > (size_t)VL_MAX_MESSAGE)
		return VL_FRAME_TOO_BIG;

	char *copy = malloc((size_t)nul.pos + 1);
	if (copy == NULL)
		return VL_FRAME_TOO_BIG;
	if (evbuffer_remove(in, copy, (size_t)nul.pos + 1) != nul.pos + 1) {
		free(copy);
		return VL_FRAME_TOO_BIG;
	}
	*msg = copy;
	*len = (size_t)nul.pos;
	return VL_FRAME_OK;
}

int
vl_frame_push(struct evbuffer *out, const char *text, size_t len)
{
	if (evbuffer_add(out, text, len) < 0 || evbuffer_add(out, "", 1) < 0)
		return -1;
	return 0;
}
