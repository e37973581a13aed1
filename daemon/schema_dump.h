/*
 * A baseline SQL file of a live database: pg_dump --schema-only
 * --no-owner --no-privileges --exclude-schema=migrated, run as a child
 * process whose stdout and stderr are read on the loop (never waited
 * for), reaped with waitpid(WNOHANG) once both pipes have closed. The
 * password, if the conninfo has one, goes to pg_dump in PGPASSWORD, not
 * on its command line.
 *
 * The output is made a file the daemon can apply as plain SQL: pg_dump's
 * psql-only \restrict and \unrestrict lines are dropped, and its leading
 * session settings become SET LOCAL / set_config(..., true), so that
 * applying the baseline in a transaction leaves the connection as it was.
 */
#ifndef SCHEMA_DUMP_H
#define SCHEMA_DUMP_H

#include <stddef.h>

#include <event2/event.h>

/* Refused above this size (a Varlink reply carries it). */
#define SCHEMA_DUMP_MAX ((size_t)8 * 1024 * 1024)

struct schema_dump;

/* sql (len bytes, NUL-terminated, borrowed) or error. */
typedef void (*schema_dump_cb)(void *arg, const char *sql, size_t len,
                               const char *error);

/*
 * Starts pg_dump (found in PATH) for conninfo; label names the database
 * in errors. cb runs exactly once, later; the dump is freed after it
 * returns. NULL with err filled when pg_dump cannot be started.
 */
struct schema_dump *schema_dump_start(struct event_base *base,
                                      const char *conninfo, const char *label,
                                      schema_dump_cb cb, void *arg, char *err,
                                      size_t errlen)
        __attribute__((warn_unused_result));

/* Kills pg_dump, reaps it and frees d (cb never runs). */
void schema_dump_cancel(struct schema_dump *d);

/*
 * pg_dump's output made plain SQL, as above (malloc'd, *outlen bytes), or
 * NULL when out of memory.
 */
char *schema_dump_clean(const char *text, size_t len, size_t *outlen)
        __attribute__((warn_unused_result));

#endif
