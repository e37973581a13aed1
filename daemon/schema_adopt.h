/*
 * SchemaAdopt: another tool's migration history imported into a schema
 * set's (migrated.schema_history), so that one table is the truth. One
 * table row per foreign tool says where its history lives, the query that
 * reads it (each row as foreign name, version, name, hash, state) and how a
 * row finds its local file (by version, by name, by the file's sha256, or
 * "everything up to" a current version). All or nothing: the versions are
 * recorded (kind adopted) in one transaction only when every foreign row
 * matched; otherwise the report says which did not and nothing changes.
 */
#ifndef SCHEMA_ADOPT_H
#define SCHEMA_ADOPT_H

#include "control.h"
#include "vl_dispatch.h"

struct daemon;

extern const struct vl_params schema_adopt_params;

/* io.migrated.SchemaAdopt (args: struct filled by schema_adopt_params). */
void schema_adopt(struct control_req *req, struct daemon *d, const void *args);

/*
 * At daemon stop, after the loop: ends the adopts still under way (their
 * calls fail with DatabaseUnavailable; an open transaction rolls back
 * with its connection) and frees them, those whose cleanup was due on a
 * loop turn that never came included.
 */
void schema_adopt_stop(void);

#endif
