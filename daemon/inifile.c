#include "inifile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ini.h>

struct inifile_state {
	FILE *fp;
	struct inifile_pos pos;
	inifile_handler handler;
	void *user;
	char *err;
	size_t errlen;
	bool failed;
	bool too_long;
};

/* inih's reader: fgets that counts lines and spots lines inih would split. */
static char *
read_line(char *str, int num, void *stream)
{
	struct inifile_state *st = stream;
	char *line = fgets(str, num, st->fp);
	size_t len;

	if (line == NULL)
		return NULL;
	st->pos.line++;
	len = strlen(line);
	if (len == (size_t)num - 1 && line[len - 1] != '\n' && !feof(st->fp)) {
		st->too_long = true;
		return NULL;
	}
	st->pos.continuation = (line[0] == ' ' || line[0] == '\t');
	if (line[strspn(line, " \t")] == '[')
		st->pos.section_line = st->pos.line;
	return line;
}

static int
on_value(void *user, const char *section, const char *name, const char *value)
{
	struct inifile_state *st = user;
	char msg[512];

	if (st->failed)
		return 0;
	if (st->handler(st->user, &st->pos, section, name, value, msg,
	                sizeof(msg)) < 0) {
		snprintf(st->err, st->errlen, "%s:%d: %s", st->pos.file,
		         st->pos.error_line > 0 ? st->pos.error_line
		                                : st->pos.line,
		         msg);
		st->failed = true;
		return 0;
	}
	return 1;
}

int
inifile_parse(const char *path, inifile_handler handler, void *user,
              char *err, size_t errlen)
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
	if (!st.failed && !st.too_long && ferror(st.fp)) {
		snprintf(err, errlen, "%s:%d: read error", path, st.pos.line);
		st.failed = true;
	}
	fclose(st.fp);
	if (st.failed)
		return -1;
	if (st.too_long) {
		snprintf(err, errlen,
		         "%s:%d: line too long (at most %d characters)",
		         path, st.pos.line, INI_MAX_LINE - 2);
		return -1;
	}
	if (rc != 0) {
		snprintf(err, errlen,
		         "%s:%d: syntax error (expected [section], key = value, "
		         "or a comment)",
		         path, rc > 0 ? rc : st.pos.line);
		return -1;
	}
	return 0;
}
