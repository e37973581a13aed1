/*
 * The reader under inih: it counts lines, refuses what inih would mangle,
 * reads section headers itself and marks continuation lines. inih splits
 * the key = value lines, cuts their comments, and finds the lines that are
 * nothing it knows.
 */
#include "inifile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

struct inifile_state {
	const struct inifile_options *opts;
	FILE *fp;
	struct inifile_pos pos;
	inifile_handler handler;
	void *user;
	struct inifile_error *err;
	bool failed;
	size_t bytes; /* read so far */
	char *buf;    /* getline's */
	size_t bufsize;
	char *section; /* the current section's name; NULL before the first */
	char *key; /* the value indented lines continue (inih's rule), or NULL */
};

/* What inih's isspace() skips in the C locale. */
static const char blanks[] = " \t\n\r\f\v";

static bool
is_blank(char c)
{
	return c != '\0' && strchr(blanks, c) != NULL;
}

static int __attribute__((format(printf, 3, 4)))
fail(struct inifile_state *st, int line, const char *fmt, ...)
{
	va_list ap;

	if (st->failed)
		return -1;
	st->failed = true;
	st->err->line = line;
	va_start(ap, fmt);
	vsnprintf(st->err->msg, sizeof st->err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

static int
call(struct inifile_state *st, const char *name, const char *value)
{
	st->pos.error_line = 0;
	if (st->handler(st->user, &st->pos,
	                st->section != NULL ? st->section : "", name, value,
	                st->err->msg, sizeof st->err->msg) == 0)
		return 0;
	st->failed = true;
	st->err->line =
	        st->pos.error_line > 0 ? st->pos.error_line : st->pos.line;
	return -1;
}

/*
 * The key that indented lines continue, as inih sees it: none after a
 * header (name NULL) or after "= value".
 */
static int
set_key(struct inifile_state *st, const char *name)
{
	free(st->key);
	st->key = NULL;
	if (name != NULL && name[0] != '\0' && (st->key = strdup(name)) == NULL)
		return fail(st, st->pos.line, "out of memory");
	return 0;
}

/*
 * "[name]", with an optional comment after the ']'. The name is taken as
 * written, whatever its length (inih cuts it at 49 characters).
 */
static int
header(struct inifile_state *st, const char *open)
{
	const char *close = strchr(open, ']'), *after;
	char *name;

	if (close == NULL)
		return fail(st, st->pos.line, "section header without ']'%s%s",
		            st->opts->sections != NULL ? "; expected " : "",
		            st->opts->sections != NULL ? st->opts->sections
		                                       : "");
	after = close + 1 + strspn(close + 1, blanks);
	if (*after != '\0' && *after != ';' && *after != '#')
		return fail(st, st->pos.line, "unexpected text after ']'");
	if ((name = strndup(open + 1, (size_t)(close - open - 1))) == NULL)
		return fail(st, st->pos.line, "out of memory");
	free(st->section);
	st->section = name;
	set_key(st, NULL);
	st->pos.section_line = st->pos.line;
	return call(st, NULL, NULL);
}

/* " ;" starts a comment on a continuation line as on a key's line. */
static void
cut_comment(char *line)
{
	for (char *p = line; (p = strchr(p, ';')) != NULL; p++) {
		if (p > line && is_blank(p[-1])) {
			*p = '\0';
			return;
		}
	}
}

static int
continuation(struct inifile_state *st, char *line)
{
	if (!st->opts->multiline)
		return fail(st, st->pos.line,
		            "'%s' does not take a value over several lines",
		            st->key);
	st->pos.continuation = true;
	cut_comment(line);
	return 0;
}

/*
 * Sorts a line the way inih will (comment, continuation, header, or
 * key = value) and returns what inih should read: a header becomes "[]",
 * so inih knows a section started but keeps no name of its own. NULL after
 * a problem.
 */
static const char *
classify(struct inifile_state *st, char *line)
{
	const char *s = line + strspn(line, blanks);

	st->pos.continuation = false;
	if (*s == '\0' || *s == ';' || *s == '#')
		return line;
	if (s > line && st->key != NULL)
		return continuation(st, line) == 0 ? line : NULL;
	if (s > line && st->opts->multiline) {
		fail(st, st->pos.line,
		     "indented line outside a value; only the continuation "
		     "lines of a value are indented");
		return NULL;
	}
	if (*s == '[')
		return header(st, s) == 0 ? "[]" : NULL;
	return line;
}

/*
 * The next line without its line end (nor, on line 1, a UTF-8 byte order
 * mark); NULL at the end of the file or after a problem. It must fit
 * inih's buffer of size bytes, which would split it silently.
 */
static char *
next_line(struct inifile_state *st, int size)
{
	const char *hint = st->opts->long_line_hint;
	char *line;
	ssize_t n;
	size_t len;

	errno = 0;
	n = getline(&st->buf, &st->bufsize, st->fp);
	if (n < 0) {
		/* Not the end of the file: never take a part for the whole. */
		if (errno != 0 || ferror(st->fp))
			fail(st, st->pos.line > 0 ? st->pos.line + 1 : 0,
			     "cannot read: %s", strerror(errno));
		return NULL;
	}
	len = (size_t)n;
	st->pos.line++;
	st->bytes += len;
	if (st->opts->max_bytes > 0 && st->bytes > st->opts->max_bytes) {
		fail(st, st->pos.line, "file too large (at most %zu bytes)",
		     st->opts->max_bytes);
		return NULL;
	}
	if (memchr(st->buf, '\0', len) != NULL) {
		fail(st, st->pos.line, "NUL byte in line");
		return NULL;
	}
	if (len > 0 && st->buf[len - 1] == '\n')
		st->buf[--len] = '\0';
	if (len > 0 && st->buf[len - 1] == '\r')
		st->buf[--len] = '\0';
	line = st->buf;
	if (st->pos.line == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		len -= 3;
	}
	if (size < 2 || len > (size_t)size - 1) {
		fail(st, st->pos.line,
		     "line too long (at most %d characters)%s%s", size - 1,
		     hint != NULL ? "; " : "", hint != NULL ? hint : "");
		return NULL;
	}
	return line;
}

/* inih's fgets-like reader. */
static char *
read_line(char *str, int size, void *stream)
{
	struct inifile_state *st = stream;
	char *line;
	const char *text;

	if (st->failed)
		return NULL;
	line = next_line(st, size);
	if (line == NULL || (text = classify(st, line)) == NULL)
		return NULL;
	memcpy(str, text, strlen(text) + 1);
	return str;
}

static int
on_value(void *user, const char *section, const char *name, const char *value)
{
	struct inifile_state *st = user;

	(void)section; /* ours, see header() */
	if (st->failed)
		return 0;
	if (st->pos.continuation) /* name is cut at 49 characters */
		return call(st, st->key, value) == 0;
	return set_key(st, name) == 0 && call(st, name, value) == 0;
}

/* A line inih found none of the things it knows. */
static const char *
syntax_error(const struct inifile_options *opts)
{
	return opts->multiline
	               ? "syntax error; expected [section], key = value, an "
	                 "indented continuation line, or a comment"
	               : "syntax error (expected [section], key = value, or "
	                 "a comment)";
}

int
inifile_parse(const char *path, const struct inifile_options *options,
              inifile_handler handler, void *user, struct inifile_error *err)
{
	struct inifile_state st = {
	        .opts = options,
	        .pos = {.file = path},
	        .handler = handler,
	        .user = user,
	        .err = err,
	};
	int rc;

	err->line = 0;
	err->msg[0] = '\0';
	st.fp = fopen(path, "re");
	if (st.fp == NULL)
		return fail(&st, 0, "cannot open: %s", strerror(errno));
	rc = ini_parse_stream(read_line, &st, on_value, &st);
	fclose(st.fp);
	free(st.buf);
	free(st.section);
	free(st.key);
	/* The first problem in the file wins. */
	if (rc > 0 && (!st.failed || rc < err->line)) {
		st.failed = false;
		fail(&st, rc, "%s", syntax_error(options));
	} else if (rc < 0) {
		fail(&st, st.pos.line, "out of memory");
	}
	return st.failed ? -1 : 0;
}
