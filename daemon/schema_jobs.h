/*
 * SchemaApply and SchemaRevert: each queues one job of kind "schema" (plan
 * "schema:SET", tenant the set's database) that schema_apply.c runs.
 * First the set's history is read (on the set's database) and what the
 * job would refuse is refused at once with SchemaConflict; then one
 * statement inserts the job unless the set has an unfinished one
 * (JobExists).
 */
#ifndef SCHEMA_JOBS_H
#define SCHEMA_JOBS_H

#include "control.h"
#include "vl_dispatch.h"

struct daemon;

/* Both methods take set, to and dry_run. */
extern const struct vl_params schema_jobs_params;

void schema_jobs_apply(struct control_req *req, struct daemon *d,
                       const void *args);
void schema_jobs_revert(struct control_req *req, struct daemon *d,
                        const void *args);

#endif
