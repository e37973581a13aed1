/*
 * The throttle methods of the control socket: GetThrottle (what throttles
 * now, from throttle.c's report), ThrottleOn and ThrottleOff (rows of
 * migrated.throttles, then throttle.c reads them again) and SetJob (a
 * job's batch_size and max_rows_per_second, which its batches read after
 * each batch).
 */
#ifndef THROTTLE_METHODS_H
#define THROTTLE_METHODS_H

#include <jansson.h>

#include "control.h"
#include "vl_dispatch.h"

struct daemon;
struct throttle;

extern const struct vl_params throttle_on_params;
extern const struct vl_params throttle_off_params;
extern const struct vl_params throttle_set_job_params;

void throttle_get(struct control_req *req, struct daemon *d, const void *args);
void throttle_on(struct control_req *req, struct daemon *d, const void *args);
void throttle_off(struct control_req *req, struct daemon *d, const void *args);
void throttle_set_job(struct control_req *req, struct daemon *d,
                      const void *args);

/* type ThrottleState, for GetThrottle and GetStatus. */
json_t *throttle_state_json(const struct throttle *t,
                            long long max_rows_per_second);

#endif
