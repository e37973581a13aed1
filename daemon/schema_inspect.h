/*
 * The read-only schema methods: SchemaDiff (two schemas compared after
 * normalisation), SchemaDrift (a set's database against its files),
 * SchemaDump (a baseline file of a live database) and SchemaSquash (the
 * baseline of a set's first versions).
 *
 * Each side of a call is "target", a [database NAME] (PostgreSQL), or
 * "files:SET": the set's files applied in a scratch database on the
 * server of the set's database (schema_scratch.h), read, then dropped,
 * also when anything fails or the client goes away. The sides of a diff
 * are read at the same time, each on connections of its own: nothing
 * waits for the store's connection or holds it up.
 */
#ifndef SCHEMA_INSPECT_H
#define SCHEMA_INSPECT_H

#include "control.h"
#include "vl_dispatch.h"

struct daemon;

extern const struct vl_params schema_diff_params;
extern const struct vl_params schema_drift_params;
extern const struct vl_params schema_dump_params;
extern const struct vl_params schema_squash_params;

void schema_diff_method(struct control_req *req, struct daemon *d,
                        const void *args);
void schema_drift_method(struct control_req *req, struct daemon *d,
                         const void *args);
void schema_dump_method(struct control_req *req, struct daemon *d,
                        const void *args);
void schema_squash_method(struct control_req *req, struct daemon *d,
                          const void *args);

#endif
