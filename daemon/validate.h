/*
 * Validate (a plan's [check] sections for tenants, without running
 * anything), Verify (a job's [verify] sections, again, on demand) and
 * VerifyPlan (Verify of the latest job of each tenant of a plan).
 */
#ifndef VALIDATE_H
#define VALIDATE_H

#include <jansson.h>

#include "control.h"
#include "vl_dispatch.h"

struct daemon;

extern const struct vl_params validate_params;
extern const struct vl_params verify_params;
extern const struct vl_params verify_plan_params;

void validate_method(struct control_req *req, struct daemon *d,
                     const void *args);
void verify_method(struct control_req *req, struct daemon *d, const void *args);
void verify_plan_method(struct control_req *req, struct daemon *d,
                        const void *args);

#endif
