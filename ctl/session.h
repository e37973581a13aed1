/*
 * A command's session with the daemon: the connection, opened at the
 * first call, the calls made on it, and how their replies are shown or
 * their failures reported. Functions return an exit status of
 * migratectl (enum ctl_exit) and have printed the problem when it is
 * not CTL_EXIT_OK.
 */
#ifndef SESSION_H
#define SESSION_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "client.h"
#include "ctl.h"
#include "vl_message.h"

struct session {
	struct ctl_global *global;
	struct client *client; /* NULL until the first call */
};

/* Prints what a reply to show as people read it. Returns 0, or -1. */
typedef int session_human_fn(FILE *f, const json_t *value);
/* Whether what a reply shows passed (its checks held). */
typedef bool session_judge_fn(const json_t *value);

/* A call whose one reply is shown as it is. */
struct session_ask {
	const char *method;
	const char *key; /* the reply must carry key ... */
	json_type type;  /* ... of this type */
	/* Shows key's value for people, or with whole the reply's parameters. */
	session_human_fn *human;
	bool whole;
	/* NULL, or judges what human shows: false exits CTL_EXIT_FAILED. */
	session_judge_fn *passed;
};

int session_connect(struct session *s);
void session_close(struct session *s);

/*
 * Calls method (parameters stolen) and checks that the reply is no error
 * and carries key of type (key NULL: any parameters); *value points into
 * the reply, which the caller clears. Otherwise reports the problem and clears reply.
 */
int session_call(struct session *s, const char *method, json_t *parameters,
                 const char *key, json_type type, struct vl_reply *reply,
                 const json_t **value);

/* Shows the reply's parameters as JSON, or value through human. */
int session_show(struct session *s, const struct vl_reply *reply,
                 const json_t *value, session_human_fn *human);
/* Shows job ids from a reply: "Paused 2 jobs: 4, 5." */
int session_show_ids(struct session *s, const struct vl_reply *reply,
                     const json_t *ids, const char *verb);
/*
 * Calls ask->method (parameters stolen) and shows its reply: as JSON with
 * --json, else through ask->human. The output is complete before a failed
 * judgement is returned.
 */
int session_ask(struct session *s, const struct session_ask *ask,
                json_t *parameters);

/*
 * "migratectl: ERROR: explanation" for an error reply to a call with the
 * parameters call (NULL if none matter); returns the error's exit status.
 */
int session_daemon_error(const struct vl_reply *reply, const json_t *call);
/* "migratectl: malformed reply from migrated: METHOD WHAT" */
int session_malformed(const char *method, const char *what);
/* Every element of ids is a positive integer. */
bool session_valid_ids(const json_t *ids);

/* Flushes standard output; reports a failed write. */
int session_written(void);
/* After an output function failed: says why. */
int session_output_failed(void);

#endif
