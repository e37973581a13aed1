/*
 * INI files (migrated.conf, plans) read with inih, with the same rules for
 * every file of the project: lines are counted; a UTF-8 byte order mark and
 * CRLF line ends are fine; NUL bytes, lines inih would split and oversized
 * files are refused; section names are read whole (inih cuts them at 49
 * characters); " ;" starts a comment on every line, continuation lines
 * included; the first problem of the file is the one reported.
 */
#ifndef INIFILE_H
#define INIFILE_H

#include <stdbool.h>
#include <stddef.h>

/* What sets one kind of file apart from another. */
struct inifile_options {
	/*
	 * Values may go on over the indented lines after their key, and an
	 * indented line that continues no value is refused. Otherwise a
	 * continuation line is refused, and indentation before the first key
	 * of a section means nothing (as in inih).
	 */
	bool multiline;
	size_t max_bytes; /* larger files are refused; 0: no limit */
	/* The file's headers ("[a] or [b NAME]"), named when one lacks ']'. */
	const char *sections;
	const char *long_line_hint; /* advice after "line too long", or NULL */
};

struct inifile_pos {
	const char *file;
	int line;          /* line of the key (or of its continuation) */
	bool continuation; /* the line is an indented continuation */
	int section_line;  /* line of the current [section] header */
	int error_line;    /* a handler may set it to blame another line */
};

/*
 * Called per key = value, per continuation line (pos->continuation, with
 * the key's name; only when options->multiline), and once per [section]
 * header with name and value NULL. section is the text between the
 * brackets, as written ("" before the first header). Returns 0, or -1
 * after writing a message (without the file:line prefix) to err.
 */
typedef int (*inifile_handler)(void *user, struct inifile_pos *pos,
                               const char *section, const char *name,
                               const char *value, char *err, size_t errlen);

/* The first problem of a file. */
struct inifile_error {
	int line; /* 0: about the whole file (it cannot be opened or read) */
	char msg[1024];
};

/*
 * Parses path, calling handler for each header and value. Returns 0, or
 * -1 with the first problem found in err.
 */
int inifile_parse(const char *path, const struct inifile_options *options,
                  inifile_handler handler, void *user,
                  struct inifile_error *err)
        __attribute__((warn_unused_result));

#endif
