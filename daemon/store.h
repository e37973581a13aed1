/*
 * The daemon's state in the target database: the control connection, the
 * `migrated` schema (created and upgraded at every connect), and job-count
 * totals for status.
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>

#include <event2/event.h>

#include "pg.h"

struct store;

/* The store became usable (schema current) or stopped being usable. */
typedef void (*store_ready_cb)(void *arg, bool ready);

struct store *store_new(struct event_base *base, const char *conninfo,
                        store_ready_cb cb, void *arg)
        __attribute__((warn_unused_result));
void store_free(struct store *store);
void store_set_backoff_max(struct store *store, long long ms);

/* Connected with the schema current. */
bool store_ready(const struct store *store);
/* "connected", "connecting" or "disconnected". */
const char *store_db_state(const struct store *store);
const char *store_error(const struct store *store);
/* The control connection, for queries of other modules. */
struct pg_conn *store_conn(struct store *store);

/* Version of the schema this daemon creates. */
int store_schema_version(void);

#endif
