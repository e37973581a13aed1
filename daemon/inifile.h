/* INI files read with inih, with the line number of every key. */
#ifndef INIFILE_H
#define INIFILE_H

#include <stdbool.h>
#include <stddef.h>

struct inifile_pos {
	const char *file;
	int line;          /* line of the key (or of its continuation) */
	bool continuation; /* the line is an indented continuation */
	int section_line;  /* line of the current [section] header */
	int error_line;    /* a handler may set it to blame another line */
};

/*
 * Called per key = value, and once per [section] header with name and
 * value NULL; returns 0, or -1 after writing a message (without the
 * file:line prefix) to err.
 */
typedef int (*inifile_handler)(void *user, struct inifile_pos *pos,
                               const char *section, const char *name,
                               const char *value, char *err, size_t errlen);

/*
 * Parses path, calling handler for each value. Returns 0, or -1 with
 * "file:line: message" in err (the first problem found).
 */
int inifile_parse(const char *path, inifile_handler handler, void *user,
                  char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
