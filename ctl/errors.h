/*
 * The errors the daemon answers with, in one table: each Varlink error
 * name, the exit status migratectl gives for it, and the sentence it
 * prints: io.migrated.NoSuchJob {id: 42} becomes "no job 42".
 */
#ifndef ERRORS_H
#define ERRORS_H

#include <stddef.h>

#include <jansson.h>

/*
 * Writes the sentence for error, with the error's parameters and those of
 * the call it answers (call; NULL when there are none to use), to buf.
 * Returns the exit status for the error.
 */
int errors_text(const char *error, const json_t *parameters, const json_t *call,
                char *buf, size_t len);

/*
 * Prints "migratectl: ERROR: sentence" to stderr; returns the exit status
 * for the error.
 */
int errors_report(const char *error, const json_t *parameters,
                  const json_t *call);

#endif
