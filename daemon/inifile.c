#include "inifile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

struct inifile_state {
	FILE *fp;
	struct inifile_pos pos;
	inifile_handler handler;
	void *user;
	char *err;
	size_t errlen;
	int fail_line;       /* line of the first handler error, or 0 */
	const char *stopped; /* why reading stopped early, or NULL */
	char *buf;           /* getline's buffer */
	size_t bufsize;
};

static int
handle(struct inifile_state *st, const char *section, const char *name,
       const char *value)
{
	char msg[512];

	if (st->fail_line > 0)
		return 0;
	st->pos.error_line = 0;
	if (st->handler(st->user, &st->pos, section, name, value, msg,
	                sizeof(msg)) < 0) {
		st->fail_line = st->pos.error_line > 0 ? st->pos.error_line
		                                       : st->pos.line;
		snprintf(st->err, st->errlen, "%s:%d: %s", st->pos.file,
		         st->fail_line, msg);
		return 0;
	}
	return 1;
}

/* A [section] header: the handler sees it with name NULL, so an unknown
 * section without keys is still caught. */
static void
header(struct inifile_state *st, const char *line)
{
	const char *open = line + strspn(line, " \t");
	const char *close = strchr(open, ']');
	char name[256];

	if (*open != '[' || close == NULL ||
	    (size_t)(close - open - 1) >= sizeof(name))
		return;
	memcpy(name, open + 1, (size_t)(close - open - 1));
	name[close - open - 1] = '\0';
	st->pos.section_line = st->pos.line;
	handle(st, name, NULL, NULL);
}

/*
 * inih's reader: counts lines and refuses what inih would mangle (lines it
 * would split, NUL bytes it would cut at).
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct inifile_state *st = stream;
	ssize_t n;

	if (st->stopped != NULL)
		return NULL;
	n = getline(&st->buf, &st->bufsize, st->fp);
	if (n < 0)
		return NULL;
	st->pos.line++;
	if (strlen(st->buf) != (size_t)n) {
		st->stopped =
		        "the line holds a NUL byte; this is not a text file";
		return NULL;
	}
	if (n >= num - 1 && !(n == num - 1 && st->buf[n - 1] == '\n')) {
		st->stopped = "line too long";
		return NULL;
	}
	memcpy(str, st->buf, (size_t)n + 1);
	st->pos.continuation = (str[0] == ' ' || str[0] == '\t');
	if (str[strspn(str, " \t")] == '[')
		header(st, str);
	return str;
}

static int
on_value(void *user, const char *section, const char *name, const char *value)
{
	return handle(user, section, name, value);
}

int
inifile_parse(const char *path, inifile_handler handler, void *user, char *err,
              size_t errlen)
{
	struct inifile_state st = {
	        .pos = {.file = path},
	        .handler = handler,
	        .user = user,
	        .err = err,
	        .errlen = errlen,
	};
	int rc;

	st.fp = fopen(path, "r");
	if (st.fp == NULL) {
		snprintf(err, errlen, "%s:0: cannot open: %s", path,
		         strerror(errno));
		return -1;
	}
	rc = ini_parse_stream(read_line, &st, on_value, &st);
	if (st.stopped == NULL && ferror(st.fp)) {
		snprintf(err, errlen, "%s:%d: cannot read: %s", path,
		         st.pos.line, strerror(errno));
		st.fail_line = st.pos.line > 0 ? st.pos.line : 1;
	}
	fclose(st.fp);
	free(st.buf);
	/* the first problem in the file wins */
	if (rc > 0 && (st.fail_line == 0 || rc < st.fail_line)) {
		snprintf(
		        err, errlen,
		        "%s:%d: syntax error (expected [section], key = value, "
		        "or a comment)",
		        path, rc);
		return -1;
	}
	if (st.fail_line > 0)
		return -1;
	if (st.stopped != NULL) {
		if (strcmp(st.stopped, "line too long") == 0)
			snprintf(err, errlen,
			         "%s:%d: line too long (at most %d characters)",
			         path, st.pos.line, INI_MAX_LINE - 2);
		else
			snprintf(err, errlen, "%s:%d: %s", path, st.pos.line,
			         st.stopped);
		return -1;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s:%d: cannot parse", path, st.pos.line);
		return -1;
	}
	return 0;
}
