/*
 * The source half of a compare (compare.c) when the step reads a SQLite
 * file: select's rows read on a worker thread of the file (copy_sqlite.c,
 * one read transaction), converted by the target's column types as the
 * import converts them, and loaded into the temporary table compare_src
 * on the compare's target connection, so that both sides' text forms come
 * from PostgreSQL under the same session settings. Rows whose values do
 * not convert are left out (the import kept them out too). A locked file
 * is read again after a pause.
 */
#ifndef COMPARE_SQLITE_H
#define COMPARE_SQLITE_H

#include <event2/event.h>

#include "pg.h"
#include "plan.h"

struct compare_sqlite;

/* error NULL: pg_temp.compare_src holds the rows, columns as select's. */
typedef void (*compare_sqlite_cb)(void *arg, const char *error);

/*
 * Starts reading step's select from the SQLite file path of [database
 * name], values its $n; the target table has n columns names[i] of type
 * types[i] (select's columns take those types, text where it lacks one).
 * NULL on out of memory. cb runs once, later, unless freed.
 */
struct compare_sqlite *
compare_sqlite_start(struct event_base *base, const char *name,
                     const char *path, const struct plan_step *step,
                     const char *const *values, int nvalues,
                     const char *const *names, const char *const *types,
                     size_t n, struct pg_conn *target, compare_sqlite_cb cb,
                     void *arg) __attribute__((warn_unused_result));

/* SELECT of select's columns, in order, FROM pg_temp.compare_src. */
char *compare_sqlite_rows_sql(struct pg_conn *conn,
                              const struct plan_step *step)
        __attribute__((warn_unused_result));

void compare_sqlite_free(struct compare_sqlite *cs);

#endif
