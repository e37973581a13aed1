/* Varlink framing: each message is one JSON text followed by a NUL byte. */
#ifndef VL_FRAME_H
#define VL_FRAME_H

#include <stddef.h>

#include <event2/buffer.h>

/* Largest message either side accepts, NUL excluded. */
#define VL_MAX_MESSAGE (16u * 1024u * 1024u)

enum vl_frame_result {
	VL_FRAME_OK = 1,       /* *msg holds one message */
	VL_FRAME_PARTIAL = 0,  /* no complete message buffered yet */
	VL_FRAME_TOO_BIG = -1, /* message over VL_MAX_MESSAGE: close */
};

/*
 * Takes the next complete message out of in. On VL_FRAME_OK, *msg is a
 * malloc'd NUL-terminated copy (the caller frees it) of *len bytes.
 * *scanned remembers how many buffered bytes are known to hold no NUL, so a
 * message arriving in many small reads is searched once; start it at 0 and
 * keep it with the buffer.
 */
enum vl_frame_result vl_frame_pop(struct evbuffer *in, size_t *scanned,
                                  char **msg, size_t *len)
        __attribute__((warn_unused_result));

/* Appends text and its terminating NUL to out. Returns 0, or -1 on ENOMEM. */
int vl_frame_push(struct evbuffer *out, const char *text, size_t len)
        __attribute__((warn_unused_result));

#endif
