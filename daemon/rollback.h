/*
 * Rollback (one job, optionally only some of its steps) and RollbackPlan
 * (every finished job of a plan, or an emergency stop and rollback). The
 * decisions are the functions of daemon/schema/004_fleet.sql
 * (migrated.queue_rollback, migrated.rollback_plan); this module hands
 * them the plan's step dependencies and turns their outcomes into replies.
 */
#ifndef ROLLBACK_H
#define ROLLBACK_H

#include "control.h"
#include "vl_dispatch.h"

struct daemon;

extern const struct vl_params rollback_params;
extern const struct vl_params rollback_plan_params;

void rollback_method(struct control_req *req, struct daemon *d,
                     const void *args);
void rollback_plan_method(struct control_req *req, struct daemon *d,
                          const void *args);

#endif
