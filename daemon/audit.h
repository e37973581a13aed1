/*
 * The audit log: who called which mutating method with what and how it
 * ended (job transitions are recorded by a trigger in the schema), and the
 * GetLog method that reads it back.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <sys/types.h>

#include <jansson.h>

#include "control.h"
#include "vl_dispatch.h"

struct daemon;

/* Stores one entry; while the database is down it waits in the spool
 * (audit_spool.h), and every entry is in the log too. */
void audit_record(struct daemon *d, uid_t uid, const char *action,
                  json_t *parameters, const char *result);

/* The database is (again) connected: stores the spooled entries. */
void audit_store_ready(struct daemon *d);

extern const struct vl_params audit_log_params;
void audit_get_log(struct control_req *req, struct daemon *d, const void *args);

#endif
