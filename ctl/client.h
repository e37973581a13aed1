/* A blocking Varlink client over a Unix stream socket. */
#ifndef CLIENT_H
#define CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "vl_message.h"

struct client;

/*
 * Called once per reply, error replies included (reply->error set). The
 * callback may take the reply over by copying *reply and zeroing it. Return
 * 0 to go on reading, or a positive value to stop the call early; client_call
 * then returns that value and the connection should be closed.
 */
typedef int client_reply_fn(struct vl_reply *reply, void *arg);

/*
 * Connects to the socket at path. On failure returns NULL and writes
 * "cannot connect to PATH: REASON" (with a hint when there is one) to err.
 */
struct client *client_connect(const char *path, char *err, size_t errlen)
        __attribute__((warn_unused_result));

void client_free(struct client *client);

/*
 * Calls method with parameters (stolen; NULL means none). With more, replies
 * are read while they say "continues"; without it exactly one is read. Each
 * reply goes to fn. Returns 0 after the last reply, fn's value if fn stopped
 * the call, or -1 when the connection failed or a reply is malformed (the
 * reason is in err).
 */
int client_call(struct client *client, const char *method, json_t *parameters,
                bool more, client_reply_fn *fn, void *arg, char *err,
                size_t errlen) __attribute__((warn_unused_result));

/*
 * Calls method and stores its one reply, maybe an error, in *reply (the
 * caller clears it). Returns 0, or -1 as client_call does.
 */
int client_call_once(struct client *client, const char *method,
                     json_t *parameters, struct vl_reply *reply, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

#endif
