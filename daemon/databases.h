/*
 * The [database NAME] sections at run time: one monitor connection per
 * database, so that the daemon knows, logs and reports whether each one can
 * be reached. Besides the tenants queries of plans whose [plan] source is the
 * database, the connections run no queries; the steps that read from a
 * database open their own. A reload keeps the connections of unchanged
 * databases, replaces those whose settings changed and drops removed ones.
 */
#ifndef DATABASES_H
#define DATABASES_H

#include <stddef.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"

struct databases;
struct store;

/*
 * Starts a connection for every database of cfg (with cfg's back-off).
 * NULL with a message in err when one cannot be set up.
 */
struct databases *databases_new(struct event_base *base,
                                const struct config *cfg, char *err,
                                size_t errlen)
        __attribute__((warn_unused_result));

/*
 * Makes the databases those of cfg. All or nothing: on failure returns -1
 * with a message in err and keeps every connection as it was.
 */
int databases_reload(struct databases *dbs, const struct config *cfg, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

void databases_free(struct databases *dbs);

/* Number of [database NAME] sections served. */
size_t databases_count(const struct databases *dbs);

/*
 * The `databases` array of io.migrated's Status: the target first (from
 * the store's state), then each database in file order. A new reference.
 */
json_t *databases_status(const struct databases *dbs, const struct store *store)
        __attribute__((warn_unused_result));

/*
 * The monitor connection of PostgreSQL database name, for a control call's
 * one statement (the plan's tenants query on its source); NULL when there
 * is no such database.
 */
struct pg_conn *databases_pg(const struct databases *dbs, const char *name);

#endif
