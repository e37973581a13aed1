/*
 * A scratch database for a schema set's files: created on the server of
 * the set's database (CREATE DATABASE migrated_scratch_<host>_<pid>_<n>
 * TEMPLATE template0, host a hash of the host name), the files applied
 * there in order (each as one script, as pg_script runs it), then handed
 * to the caller, who reads it (a snapshot, a pg_dump) and drops it with
 * schema_scratch_drop(), also after a failure. The role of the set's
 * database needs CREATEDB. A daemon killed meanwhile leaves it behind:
 * the sweep at the next start drops it.
 */
#ifndef SCHEMA_SCRATCH_H
#define SCHEMA_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

struct schema_scratch;
struct schema_scratch_sweep;

/* Every scratch database's name starts so. */
#define SCHEMA_SCRATCH_PREFIX "migrated_scratch_"

/* One file to apply: its path (for errors) and text. */
struct schema_scratch_file {
	const char *path;
	const char *sql;
};

/*
 * The scratch database is ready (conninfo reaches it) or could not be
 * built (error: "path:line:column: message (SQLSTATE x)" for a failing
 * file; unavailable when the server could not be reached). Either way the
 * caller calls schema_scratch_drop() exactly once afterwards.
 */
typedef void (*schema_scratch_cb)(void *arg, const char *conninfo,
                                  const char *error, bool unavailable);

/* The scratch database is gone; error says why it may not be. */
typedef void (*schema_scratch_dropped_cb)(void *arg, const char *error);

/*
 * Starts building (files and their texts are copied). cb runs exactly
 * once, later, never from inside this call. NULL when out of memory.
 */
struct schema_scratch *
schema_scratch_new(struct event_base *base, const char *server_conninfo,
                   const struct schema_scratch_file *files, size_t nfiles,
                   schema_scratch_cb cb, void *arg)
        __attribute__((warn_unused_result));

/*
 * Drops the scratch database (when it was created) and frees s; cb (may
 * be NULL) runs later, once, with the outcome. Also stops a build that
 * has not called back yet (its cb then never runs). Called again while
 * the drop is under way, it only replaces cb (NULL: tell no one).
 */
void schema_scratch_drop(struct schema_scratch *s, schema_scratch_dropped_cb cb,
                         void *arg);

/*
 * conninfo as key='value' pairs with dbname replaced (when dbname is not
 * NULL) and the password taken out into *password (when password is not
 * NULL; NULL there when it had none). malloc'd; NULL when conninfo does
 * not parse (err says why) or out of memory.
 */
char *schema_scratch_conninfo(const char *conninfo, const char *dbname,
                              char **password, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* The 1-based line and column (in characters) of a 1-based character
 * position in UTF-8 text, as PostgreSQL reports statement positions. */
void schema_scratch_position(const char *text, long pos, unsigned *line,
                             unsigned *column);

/*
 * Drops, on each server of conninfos (duplicates once), the scratch
 * databases of this host's daemons that are no longer running and that
 * no session is connected to; logged, never an error. Owned by the
 * caller; free it at stop (it may still be under way). NULL: no memory.
 */
struct schema_scratch_sweep *
schema_scratch_sweep_new(struct event_base *base, const char *const *conninfos,
                         size_t n) __attribute__((warn_unused_result));
void schema_scratch_sweep_free(struct schema_scratch_sweep *sw);

#endif
