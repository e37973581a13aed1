/*
 * Audit entries that could not be stored (the database was down) wait in
 * a file of the state directory, one JSON object a line, appended on a
 * worker thread (worker.h) so the loop never waits on the disk. Once the
 * database is back they are written to migrated.audit in one statement
 * (all or none), with the time they were made, and the file goes. The
 * file survives a restart; past AUDIT_SPOOL_MAX bytes new entries are
 * only logged.
 */
#ifndef AUDIT_SPOOL_H
#define AUDIT_SPOOL_H

#include <event2/event.h>

#include "pg.h"

#define AUDIT_SPOOL_MAX ((long long)16 * 1024 * 1024)

struct audit_spool;

/* path: the spool file; NULL or empty: no spool (returns NULL). */
struct audit_spool *audit_spool_new(struct event_base *base, const char *path);
/* Writes what is queued, then stops. */
void audit_spool_free(struct audit_spool *s);
/* Queues entry (a JSON object: at, uid, user, action, parameters, result)
 * to be appended. */
void audit_spool_add(struct audit_spool *s, const char *entry);
/* The database is back: stores what the file holds through conn. */
void audit_spool_flush(struct audit_spool *s, struct pg_conn *conn);

#endif
