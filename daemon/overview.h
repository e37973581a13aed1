/*
 * The whole migration at a glance (GetPlanProgress, `migratectl status
 * --detailed`): per plan and step, summed over the latest job of every
 * tenant, rows done of estimated, tenants by state, and a rate and ETA.
 * The rate comes from counters: the same sums are sampled every
 * OVERVIEW_SAMPLE_SEC (and at every call) into rates.c, and the rate is
 * the difference of two samples over the time between them. The sums are
 * the database's, so jobs run by every daemon on the queue count.
 */
#ifndef OVERVIEW_H
#define OVERVIEW_H

#include <event2/event.h>

#include "control.h"
#include "vl_dispatch.h"

#define OVERVIEW_SAMPLE_SEC 2
#define OVERVIEW_WINDOW_SEC 10.0 /* the rate is over about this long */

struct daemon;
struct overview;

struct overview *overview_new(struct daemon *d)
        __attribute__((warn_unused_result));
void overview_free(struct overview *o);

/* Rows per second of every plan's jobs (all daemons'); -1 unknown. */
double overview_rate(const struct overview *o);

/* io.migrated.GetPlanProgress */
void overview_method(struct control_req *req, struct daemon *d,
                     const void *args);
extern const struct vl_params overview_params;

#endif
