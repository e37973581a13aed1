/*
 * The control socket: accepts Varlink clients, frames and decodes their
 * calls, hands each call to the dispatcher one at a time per connection,
 * and writes replies in call order.
 */
#ifndef CONTROL_H
#define CONTROL_H

#include <stdbool.h>
#include <sys/types.h>

#include <event2/event.h>
#include <jansson.h>

#include "vl_message.h"

struct control_req;

/* Runs a decoded call; must end it with control_reply or control_error. */
typedef void (*control_dispatch_fn)(struct control_req *req, void *arg);

/* Called when the client of a pending request goes away. */
typedef void (*control_cancel_fn)(struct control_req *req, void *arg);

/* Called as a request ends; error is NULL after a good reply. */
typedef void (*control_end_fn)(struct control_req *req, const char *error,
                               void *arg);

/*
 * Listens on the socket systemd passed (socket activation), or binds path
 * with mode (and group gid, unless (gid_t)-1). Returns -1 with err filled.
 */
int control_open(struct event_base *base, const char *path, unsigned mode,
                 gid_t gid, control_dispatch_fn dispatch, void *arg, char *err,
                 size_t errlen) __attribute__((warn_unused_result));
/* Closes the listener and every connection, unlinks the socket we bound. */
void control_close(void);
/* Number of clients connected now. */
int control_clients(void);

/*
 * Clients past clients (in all) or clients_per_uid (of one user) get
 * io.migrated.TooManyClients and are closed; one whose unread replies pass
 * output_max bytes is dropped. Applies to new clients and new replies.
 */
struct control_limits {
	long long clients, clients_per_uid, output_max;
};
#define CONTROL_DEFAULT_CLIENTS 4096
#define CONTROL_DEFAULT_CLIENTS_PER_UID 1024
#define CONTROL_DEFAULT_OUTPUT_MAX (64LL * 1024 * 1024)
void control_set_limits(const struct control_limits *limits);

const struct vl_call *control_call(const struct control_req *req);
uid_t control_peer_uid(const struct control_req *req);
gid_t control_peer_gid(const struct control_req *req);
pid_t control_peer_pid(const struct control_req *req);
/* True when the client hung up; replies are dropped. */
bool control_gone(const struct control_req *req);
void control_on_cancel(struct control_req *req, control_cancel_fn fn,
                       void *arg);
void control_on_end(struct control_req *req, control_end_fn fn, void *arg);

/* The final reply; steals params (may be NULL). req is gone afterwards. */
void control_reply(struct control_req *req, json_t *params);
/*
 * The final reply {name: json}, json being trusted JSON text (from
 * PostgreSQL's json functions) passed through without parsing it.
 */
void control_reply_member(struct control_req *req, const char *name,
                          const char *json);
/* A streamed reply with "continues": true (only when the call said more). */
void control_stream(struct control_req *req, json_t *params);
/* The final error reply; steals params. req is gone afterwards. */
void control_error(struct control_req *req, const char *error, json_t *params);
/* org.varlink.service.InvalidParameter naming parameter. */
void control_invalid_param(struct control_req *req, const char *parameter);

#endif
