#include "schema_dump.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "log.h"
#include "schema_scratch.h"

extern char **environ;

#define REAP_MS 20

struct schema_dump {
	char *label;
	pid_t pid;
	int out_fd, err_fd;
	struct event *out_ev, *err_ev, *reap_ev;
	struct evbuffer *out, *err;
	bool too_big;
	schema_dump_cb cb;
	void *arg;
};

static void
dump_free(struct schema_dump *d)
{
	if (d->out_ev != NULL)
		event_free(d->out_ev);
	if (d->err_ev != NULL)
		event_free(d->err_ev);
	if (d->reap_ev != NULL)
		event_free(d->reap_ev);
	if (d->out_fd >= 0)
		close(d->out_fd);
	if (d->err_fd >= 0)
		close(d->err_fd);
	if (d->out != NULL)
		evbuffer_free(d->out);
	if (d->err != NULL)
		evbuffer_free(d->err);
	free(d->label);
	free(d);
}

void
schema_dump_cancel(struct schema_dump *d)
{
	if (d == NULL)
		return;
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		/* killed: it is gone at once, so this wait is short */
		while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	dump_free(d);
}

static bool
starts(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(line, prefix, n) == 0;
}

char *
schema_dump_clean(const char *text, size_t len, size_t *outlen)
{
	/* "SET " becomes "SET LOCAL ": at most 6 more bytes a line */
	size_t room = len + 1, lines = 0;
	char *out;
	size_t n = 0;
	bool header = true;
	char key[128] = "";

	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	room += 6 * (lines + 1) + 128;
	out = malloc(room);
	if (out == NULL)
		return NULL;
	n = (size_t)snprintf(out, room,
	                     "-- Baseline written by migrated (pg_dump "
	                     "--schema-only)\n");
	for (size_t i = 0; i < len;) {
		const char *line = text + i;
		const char *nl = memchr(line, '\n', len - i);
		size_t ll = nl != NULL ? (size_t)(nl - line) : len - i;
		size_t next = i + ll + (nl != NULL ? 1 : 0);

		if (key[0] == '\0' && starts(line, ll, "\\restrict ") &&
		    ll - 10 < sizeof(key)) {
			memcpy(key, line + 10, ll - 10);
			key[ll - 10] = '\0';
			i = next;
			continue;
		}
		if (key[0] != '\0' && starts(line, ll, "\\unrestrict ") &&
		    ll - 12 == strlen(key) &&
		    memcmp(line + 12, key, ll - 12) == 0) {
			i = next;
			continue;
		}
		if (header &&
		    !(ll == 0 || starts(line, ll, "--") ||
		      starts(line, ll, "SET ") ||
		      starts(line, ll, "SELECT pg_catalog.set_config(")))
			header = false;
		if ((header && starts(line, ll, "SET ")) ||
		    starts(line, ll, "SET default_table")) {
			memcpy(out + n, "SET LOCAL ", 10);
			n += 10;
			memcpy(out + n, line + 4, ll - 4);
			n += ll - 4;
		} else if (header &&
		           starts(line, ll, "SELECT pg_catalog.set_config(") &&
		           ll > 9 &&
		           memcmp(line + ll - 9, ", false);", 9) == 0) {
			memcpy(out + n, line, ll - 9);
			n += ll - 9;
			memcpy(out + n, ", true);", 8);
			n += 8;
		} else {
			memcpy(out + n, line, ll);
			n += ll;
		}
		if (nl != NULL)
			out[n++] = '\n';
		i = next;
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

static void
deliver(struct schema_dump *d, int status)
{
	char msg[2048];
	size_t elen = evbuffer_get_length(d->err);
	const char *etext;

	evbuffer_add(d->err, "", 1);
	etext = (const char *)evbuffer_pullup(d->err, -1);
	/* pg_dump's messages end with a newline; keep the first lines */
	snprintf(msg, sizeof(msg), "%.*s", (int)(elen > 1500 ? 1500 : elen),
	         etext);
	for (size_t n = strlen(msg); n > 0 && msg[n - 1] == '\n'; n--)
		msg[n - 1] = '\0';
	for (char *p = msg; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	if (d->too_big) {
		char e[256];
		snprintf(e, sizeof(e),
		         "%s: the dump is larger than %zu MiB; run pg_dump "
		         "--schema-only yourself",
		         d->label, SCHEMA_DUMP_MAX >> 20);
		d->cb(d->arg, NULL, 0, e);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char e[2304];
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			snprintf(e, sizeof(e),
			         "%s: pg_dump could not be run (is it "
			         "installed and in PATH?)%s%s",
			         d->label, msg[0] != '\0' ? ": " : "", msg);
		else
			snprintf(e, sizeof(e), "%s: pg_dump failed: %s",
			         d->label, msg[0] != '\0' ? msg : "no message");
		d->cb(d->arg, NULL, 0, e);
	} else {
		size_t len = evbuffer_get_length(d->out), clen = 0;
		char *clean = schema_dump_clean(
		        (const char *)evbuffer_pullup(d->out, -1), len, &clen);
		if (clean == NULL)
			d->cb(d->arg, NULL, 0, "out of memory");
		else
			d->cb(d->arg, clean, clen, NULL);
		free(clean);
	}
	dump_free(d);
}

static void
on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct schema_dump *d = arg;
	int status = 0;
	pid_t got;
	struct timeval tv = {0, (suseconds_t)REAP_MS * 1000};

	(void)fd;
	(void)what;
	got = waitpid(d->pid, &status, WNOHANG);
	if (got == 0) {
		/* the pipes closed just before it exited */
		evtimer_add(d->reap_ev, &tv);
		return;
	}
	d->pid = -1;
	if (got < 0)
		status = 255 << 8;
	deliver(d, status);
}

static void
maybe_reap(struct schema_dump *d)
{
	if (d->out_fd < 0 && d->err_fd < 0)
		event_active(d->reap_ev, 0, 0);
}

/* Reads what fd has into buf; closes it at EOF. */
static void
drain(struct schema_dump *d, int *fdp, struct event **evp, struct evbuffer *buf,
      bool limited)
{
	for (;;) {
		int n = evbuffer_read(buf, *fdp, 65536);
		if (n > 0) {
			if (limited &&
			    evbuffer_get_length(buf) > SCHEMA_DUMP_MAX &&
			    !d->too_big) {
				d->too_big = true;
				kill(d->pid, SIGTERM);
			}
			if (d->too_big && limited)
				evbuffer_drain(buf, evbuffer_get_length(buf));
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		break; /* EOF or an error: done with this pipe */
	}
	event_free(*evp);
	*evp = NULL;
	close(*fdp);
	*fdp = -1;
	maybe_reap(d);
}

static void
on_out(evutil_socket_t fd, short what, void *arg)
{
	struct schema_dump *d = arg;

	(void)fd;
	(void)what;
	drain(d, &d->out_fd, &d->out_ev, d->out, true);
}

static void
on_err(evutil_socket_t fd, short what, void *arg)
{
	struct schema_dump *d = arg;

	(void)fd;
	(void)what;
	/* stderr is kept short: a message, not a flood */
	drain(d, &d->err_fd, &d->err_ev, d->err, false);
	if (d->err != NULL && evbuffer_get_length(d->err) > 65536)
		evbuffer_drain(d->err, evbuffer_get_length(d->err) - 65536);
}

/* environ plus PGPASSWORD=password (when given); NULL when out of memory */
static char **
child_env(const char *password, char **pwvar)
{
	size_t n = 0;
	char **env;

	*pwvar = NULL;
	while (environ[n] != NULL)
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (env == NULL)
		return NULL;
	n = 0;
	for (size_t i = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], "PGPASSWORD=", 11) != 0)
			env[n++] = environ[i];
	if (password != NULL) {
		if (asprintf(pwvar, "PGPASSWORD=%s", password) < 0) {
			free(env);
			*pwvar = NULL;
			return NULL;
		}
		env[n++] = *pwvar;
	}
	env[n] = NULL;
	return env;
}

struct schema_dump *
schema_dump_start(struct event_base *base, const char *conninfo,
                  const char *label, schema_dump_cb cb, void *arg, char *err,
                  size_t errlen)
{
	struct schema_dump *d = calloc(1, sizeof(*d));
	int outp[2] = {-1, -1}, errp[2] = {-1, -1};
	char *password = NULL, *pwvar = NULL, *cinfo = NULL, *dbarg = NULL;
	char **env = NULL;
	posix_spawn_file_actions_t fa;
	bool fa_ok = false;
	int rc;

	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->pid = -1;
	d->out_fd = d->err_fd = -1;
	d->cb = cb;
	d->arg = arg;
	d->label = strdup(label);
	d->out = evbuffer_new();
	d->err = evbuffer_new();
	d->reap_ev = evtimer_new(base, on_reap, d);
	if (d->label == NULL || d->out == NULL || d->err == NULL ||
	    d->reap_ev == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	cinfo = schema_scratch_conninfo(conninfo, NULL, &password, err, errlen);
	if (cinfo == NULL)
		goto fail;
	if (asprintf(&dbarg, "--dbname=%s", cinfo) < 0) {
		dbarg = NULL;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	env = child_env(password, &pwvar);
	if (env == NULL || pipe2(outp, O_CLOEXEC) < 0 ||
	    pipe2(errp, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot start pg_dump: %s",
		         env == NULL ? "out of memory" : strerror(errno));
		goto fail;
	}
	if (posix_spawn_file_actions_init(&fa) != 0) {
		snprintf(err, errlen, "cannot start pg_dump: out of memory");
		goto fail;
	}
	fa_ok = true;
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY,
	                                     0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, outp[1], 1) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, errp[1], 2) != 0) {
		snprintf(err, errlen, "cannot start pg_dump: out of memory");
		goto fail;
	}
	{
		char *argv[] = {(char *)"pg_dump",
		                (char *)"--schema-only",
		                (char *)"--no-owner",
		                (char *)"--no-privileges",
		                (char *)"--exclude-schema=migrated",
		                dbarg,
		                NULL};
		rc = posix_spawnp(&d->pid, "pg_dump", &fa, NULL, argv, env);
	}
	if (rc != 0) {
		d->pid = -1;
		snprintf(err, errlen,
		         "cannot start pg_dump: %s (is it installed and in "
		         "PATH?)",
		         strerror(rc));
		goto fail;
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	d->out_fd = outp[0];
	d->err_fd = errp[0];
	outp[0] = errp[0] = -1;
	evutil_make_socket_nonblocking(d->out_fd);
	evutil_make_socket_nonblocking(d->err_fd);
	d->out_ev = event_new(base, d->out_fd, EV_READ | EV_PERSIST, on_out, d);
	d->err_ev = event_new(base, d->err_fd, EV_READ | EV_PERSIST, on_err, d);
	if (d->out_ev == NULL || d->err_ev == NULL ||
	    event_add(d->out_ev, NULL) < 0 || event_add(d->err_ev, NULL) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	log_debug("schema: pg_dump of %s started (pid %ld)", label,
	          (long)d->pid);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	free(pwvar);
	free(password);
	free(cinfo);
	free(dbarg);
	return d;
fail:
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	free(env);
	free(pwvar);
	free(password);
	free(cinfo);
	free(dbarg);
	schema_dump_cancel(d);
	return NULL;
}
