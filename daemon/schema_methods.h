/*
 * The io.migrated methods that read and record a schema set's history
 * without running its files: SchemaStatus, SchemaBaseline and
 * SchemaRepair; and what every schema method needs: the set a call names
 * and the connection to the set's database.
 */
#ifndef SCHEMA_METHODS_H
#define SCHEMA_METHODS_H

#include "config.h"
#include "control.h"
#include "pg.h"
#include "vl_dispatch.h"

struct daemon;

/*
 * The set called name; with name NULL, the only set configured. NULL after
 * replying NoSuchSchemaSet (name is "" when it was left out).
 */
const struct config_schema *schema_set_for_call(struct control_req *req,
                                                struct daemon *d,
                                                const char *name);

/*
 * The connection to set's database (the store's for target, else the
 * [database NAME]'s), ready for queries. NULL after replying
 * DatabaseUnavailable.
 */
struct pg_conn *schema_set_conn(struct control_req *req, struct daemon *d,
                                const struct config_schema *set);

extern const struct vl_params schema_status_params;
void schema_status(struct control_req *req, struct daemon *d, const void *args);

extern const struct vl_params schema_baseline_params;
void schema_baseline(struct control_req *req, struct daemon *d,
                     const void *args);

extern const struct vl_params schema_repair_params;
void schema_repair(struct control_req *req, struct daemon *d, const void *args);

#endif
