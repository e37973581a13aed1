#include "session.h"

#include <errno.h>
#include <string.h>

#include "errors.h"
#include "output.h"

int
session_connect(struct session *s)
{
	char err[512];

	if (s->client != NULL)
		return CTL_EXIT_OK;
	s->client = client_connect(s->global->socket, err, sizeof(err));
	if (s->client == NULL) {
		fprintf(stderr, "migratectl: %s\n", err);
		return CTL_EXIT_CONNECT;
	}
	return CTL_EXIT_OK;
}

void
session_close(struct session *s)
{
	client_free(s->client);
	s->client = NULL;
}

int
session_daemon_error(const struct vl_reply *reply, const json_t *call)
{
	return errors_report(reply->error, reply->parameters, call);
}

int
session_malformed(const char *method, const char *what)
{
	fprintf(stderr, "migratectl: malformed reply from migrated: %s %s\n",
	        method, what);
	return CTL_EXIT_CONNECT;
}

/* Calls method and stores its reply, maybe an error reply, in *reply. */
static int
call_raw(struct session *s, const char *method, json_t *parameters,
         struct vl_reply *reply)
{
	char err[512];
	int rc = session_connect(s);

	memset(reply, 0, sizeof(*reply));
	if (rc != CTL_EXIT_OK) {
		json_decref(parameters);
		return rc;
	}
	if (client_call_once(s->client, method, parameters, reply, err,
	                     sizeof(err)) < 0) {
		fprintf(stderr, "migratectl: %s\n", err);
		return CTL_EXIT_CONNECT;
	}
	return CTL_EXIT_OK;
}

static const char *
type_name(json_type type)
{
	switch (type) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_INTEGER:
		return "integer";
	default:
		return "value";
	}
}

/*
 * Checks that reply is no error and carries key of type; *value points
 * into it. Otherwise reports the problem and clears reply.
 */
static int
check_reply(const char *method, const json_t *call, struct vl_reply *reply,
            const char *key, json_type type, const json_t **value)
{
	char what[128];
	int rc = CTL_EXIT_OK;

	if (reply->error != NULL) {
		rc = session_daemon_error(reply, call);
	} else if (key != NULL && ((*value = json_object_get(reply->parameters,
	                                                     key)) == NULL ||
	                           json_typeof(*value) != type)) {
		snprintf(what, sizeof(what), "has no \"%s\" %s", key,
		         type_name(type));
		rc = session_malformed(method, what);
	}
	if (rc != CTL_EXIT_OK)
		vl_reply_clear(reply);
	return rc;
}

int
session_call(struct session *s, const char *method, json_t *parameters,
             const char *key, json_type type, struct vl_reply *reply,
             const json_t **value)
{
	json_t *call = json_incref(parameters);
	int rc = call_raw(s, method, parameters, reply);

	if (rc == CTL_EXIT_OK)
		rc = check_reply(method, call, reply, key, type, value);
	json_decref(call);
	return rc;
}

int
session_written(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "migratectl: cannot write output: %s\n",
		        strerror(errno));
		return CTL_EXIT_DAEMON;
	}
	return CTL_EXIT_OK;
}

int
session_output_failed(void)
{
	if (session_written() == CTL_EXIT_OK)
		fputs("migratectl: out of memory\n", stderr);
	return CTL_EXIT_DAEMON;
}

int
session_show(struct session *s, const struct vl_reply *reply,
             const json_t *value, session_human_fn *human)
{
	int rc;

	if (s->global->json)
		rc = out_json(stdout, reply->parameters);
	else
		rc = human(stdout, value);
	return rc < 0 ? session_output_failed() : session_written();
}

int
session_show_ids(struct session *s, const struct vl_reply *reply,
                 const json_t *ids, const char *verb)
{
	if (s->global->json)
		return out_json(stdout, reply->parameters) < 0
		               ? session_output_failed()
		               : session_written();
	out_job_ids(stdout, verb, ids);
	return session_written();
}

int
session_ask(struct session *s, const struct session_ask *ask,
            json_t *parameters)
{
	struct vl_reply reply;
	const json_t *value = NULL;
	int rc = session_call(s, ask->method, parameters, ask->key, ask->type,
	                      &reply, &value);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (ask->whole)
		value = reply.parameters;
	rc = session_show(s, &reply, value, ask->human);
	if (rc == CTL_EXIT_OK && ask->passed != NULL && !ask->passed(value))
		rc = CTL_EXIT_FAILED;
	vl_reply_clear(&reply);
	return rc;
}

bool
session_valid_ids(const json_t *ids)
{
	size_t i;
	const json_t *id;

	json_array_foreach(ids, i, id)
	{
		if (!json_is_integer(id) || json_integer_value(id) <= 0)
			return false;
	}
	return true;
}
