#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "vl_frame.h"

#define CLIENT_READ_SIZE 65536

struct client {
	int fd;
	char *path;
	struct evbuffer *in;
	struct evbuffer *out;
	size_t scanned; /* for vl_frame_pop */
};

static const char *
connect_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		return " (is migrated running?)";
	case EACCES:
		return " (are you in the socket's group?)";
	default:
		return "";
	}
}

static int
open_socket(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

struct client *
client_connect(const char *path, char *err, size_t errlen)
{
	struct client *client = calloc(1, sizeof(*client));
	int fd;

	if (client == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	client->fd = -1;
	client->path = strdup(path);
	client->in = evbuffer_new();
	client->out = evbuffer_new();
	if (client->path == NULL || client->in == NULL || client->out == NULL) {
		snprintf(err, errlen, "out of memory");
		client_free(client);
		return NULL;
	}
	fd = open_socket(path);
	if (fd < 0) {
		int saved = errno;
		snprintf(err, errlen, "cannot connect to %s: %s%s", path,
		         strerror(saved), connect_hint(saved));
		client_free(client);
		return NULL;
	}
	client->fd = fd;
	return client;
}

void
client_free(struct client *client)
{
	if (client == NULL)
		return;
	if (client->fd >= 0)
		close(client->fd);
	if (client->in != NULL)
		evbuffer_free(client->in);
	if (client->out != NULL)
		evbuffer_free(client->out);
	free(client->path);
	free(client);
}

static int
write_all(struct client *client, char *err, size_t errlen)
{
	while (evbuffer_get_length(client->out) > 0) {
		size_t len = evbuffer_get_length(client->out);
		const unsigned char *data = evbuffer_pullup(client->out, -1);
		ssize_t n;

		if (data == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		n = send(client->fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot send to %s: %s",
			         client->path, strerror(errno));
			return -1;
		}
		evbuffer_drain(client->out, (size_t)n);
	}
	return 0;
}

static int
send_call(struct client *client, const char *method, json_t *parameters,
          bool more, char *err, size_t errlen)
{
	char *text = vl_call_encode(method, parameters, more, false);
	int rc;

	if (text == NULL) {
		snprintf(err, errlen, "cannot encode the call to %s", method);
		return -1;
	}
	rc = vl_frame_push(client->out, text, strlen(text));
	free(text);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return write_all(client, err, errlen);
}

/* Reads more bytes into the input buffer; -1 with err at EOF or failure. */
static int
fill(struct client *client, char *err, size_t errlen)
{
	for (;;) {
		int n = evbuffer_read(client->in, client->fd, CLIENT_READ_SIZE);

		if (n > 0)
			return 0;
		if (n == 0) {
			snprintf(
			        err, errlen,
			        "connection to %s closed by migrated before its reply "
			        "was complete",
			        client->path);
			return -1;
		}
		if (errno != EINTR) {
			snprintf(err, errlen, "cannot read from %s: %s",
			         client->path, strerror(errno));
			return -1;
		}
	}
}

/* Reads the next reply into *reply; -1 with err on failure. */
static int
read_reply(struct client *client, struct vl_reply *reply, char *err,
           size_t errlen)
{
	for (;;) {
		char *msg;
		size_t len;
		char why[256];
		int rc;

		switch (vl_frame_pop(client->in, &client->scanned, &msg,
		                     &len)) {
		case VL_FRAME_OK:
			rc = vl_reply_decode(msg, len, reply, why, sizeof(why));
			free(msg);
			if (rc < 0) {
				snprintf(err, errlen,
				         "malformed reply from migrated: %s",
				         why);
				return -1;
			}
			return 0;
		case VL_FRAME_TOO_BIG:
			snprintf(
			        err, errlen,
			        "malformed reply from migrated: longer than %u bytes",
			        VL_MAX_MESSAGE);
			return -1;
		case VL_FRAME_PARTIAL:
			break;
		}
		if (fill(client, err, errlen) < 0)
			return -1;
	}
}

int
client_call(struct client *client, const char *method, json_t *parameters,
            bool more, client_reply_fn *fn, void *arg, char *err, size_t errlen)
{
	if (send_call(client, method, parameters, more, err, errlen) < 0)
		return -1;
	for (;;) {
		struct vl_reply reply;
		bool last;
		int rc;

		if (read_reply(client, &reply, err, errlen) < 0)
			return -1;
		if (reply.continues && !more) {
			vl_reply_clear(&reply);
			snprintf(
			        err, errlen,
			        "malformed reply from migrated: \"continues\" in the "
			        "reply to a call without \"more\"");
			return -1;
		}
		last = !reply.continues || reply.error != NULL;
		rc = fn(&reply, arg);
		vl_reply_clear(&reply);
		if (rc != 0)
			return rc;
		if (last)
			return 0;
	}
}

static int
keep_reply(struct vl_reply *reply, void *arg)
{
	struct vl_reply *dest = arg;

	*dest = *reply;
	memset(reply, 0, sizeof(*reply));
	return 0;
}

int
client_call_once(struct client *client, const char *method, json_t *parameters,
                 struct vl_reply *reply, char *err, size_t errlen)
{
	memset(reply, 0, sizeof(*reply));
	return client_call(client, method, parameters, false, keep_reply, reply,
	                   err, errlen);
}
