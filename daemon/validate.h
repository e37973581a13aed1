/*
 * Validate (a plan's [check] sections for tenants, without running
 * anything) and Verify (a job's [verify] sections, again, on demand).
 */
#ifndef VALIDATE_H
#define VALIDATE_H

#include <jansson.h>

#include "control.h"

struct daemon;

extern const char *const validate_params[];
extern const char *const verify_params[];

void validate_method(struct control_req *req, struct daemon *d, json_t *params);
void verify_method(struct control_req *req, struct daemon *d, json_t *params);

#endif
