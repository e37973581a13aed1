/*
 * Parameter shapes several io.migrated methods share: their table rows
 * (see vl_dispatch.h) and the rules that tie fields together. Each check
 * returns 0, or -1 naming the offending parameter in *bad (for
 * InvalidParameter).
 */
#ifndef PARAMS_H
#define PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "vl_dispatch.h"

/* Longest tenant name, in bytes. */
#define PARAMS_MAX_TENANT 1024

/* Rows: tenants, non-empty names of at most PARAMS_MAX_TENANT bytes. */
#define PARAMS_FIELD_TENANTS(st, member)                                       \
	VL_FIELD_STRINGS("tenants", 0, st, member, 1, PARAMS_MAX_TENANT)
/* A job id: 0 when absent. */
#define PARAMS_FIELD_ID(name, flags, st, member)                               \
	VL_FIELD_INT(name, flags, st, member, 1, INT64_MAX, 0)
/* A priority: -1000 to 1000, 0 when absent. */
#define PARAMS_FIELD_PRIORITY(st, member)                                      \
	VL_FIELD_INT("priority", 0, st, member, -1000, 1000, 0)

/*
 * Whom a call is for: tenants (not empty), pairs (not empty; NULL where
 * the method has none) or all = true, exactly one of them.
 */
int params_tenants(json_t *tenants, json_t *pairs, bool all, const char **bad)
        __attribute__((warn_unused_result));

/* A job: id (0: none), or plan and tenant (its latest job), not both. */
int params_job_ref(long long id, const char *plan, const char *tenant,
                   const char **bad) __attribute__((warn_unused_result));

#endif
