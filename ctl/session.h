/*
 * A command's session with the daemon: the connection, opened at the
 * first call, the calls made on it, and how their replies are shown or
 * their failures reported. Functions return an exit status of
 * migratectl (enum cmd_exit) and have printed the problem when it is
 * not CMD_EXIT_OK.
 */
#ifndef SESSION_H
#define SESSION_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "client.h"
#include "commands.h"
#include "vl_message.h"

struct session {
	struct cmd_global *global;
	struct client *client; /* NULL until the first call */
};

/* Prints what a reply to show as people read it. Returns 0, or -1. */
typedef int session_human_fn(FILE *f, const json_t *value);

int session_connect(struct session *s);
void session_close(struct session *s);

/*
 * Calls method (parameters stolen) and stores its reply, maybe an error
 * reply, in *reply (the caller clears it on success).
 */
int session_call_raw(struct session *s, const char *method, json_t *parameters,
                     struct vl_reply *reply);
/*
 * Checks that reply is no error and carries key of type; *value points
 * into it. Otherwise reports the problem and clears reply.
 */
int session_check(const char *method, struct vl_reply *reply, const char *key,
                  json_type type, const json_t **value);
/* session_call_raw, then session_check. */
int session_call(struct session *s, const char *method, json_t *parameters,
                 const char *key, json_type type, struct vl_reply *reply,
                 const json_t **value);

/* Shows the reply's parameters as JSON, or value through human. */
int session_show(struct session *s, const struct vl_reply *reply,
                 const json_t *value, session_human_fn *human);
/* Shows job ids from a reply: "Paused 2 jobs: 4, 5." */
int session_show_ids(struct session *s, const struct vl_reply *reply,
                     const json_t *ids, const char *verb);
/* A call whose one reply is shown as it is. */
int session_call_and_show(struct session *s, const char *method,
                          json_t *parameters, const char *key, json_type type,
                          session_human_fn *human);

/* "migratectl: ERROR: explanation" for an error reply. */
int session_daemon_error(const struct vl_reply *reply);
/* "migratectl: malformed reply from migrated: METHOD WHAT" */
int session_malformed(const char *method, const char *what);
/* Every element of ids is a positive integer. */
bool session_valid_ids(const json_t *ids);

/* Flushes standard output; reports a failed write. */
int session_written(void);
/* After an output function failed: says why. */
int session_output_failed(void);

#endif
