/*
 * Parameter shapes several io.migrated methods share. Each returns 0, or
 * -1 naming the offending parameter in *bad (for InvalidParameter).
 */
#ifndef PARAMS_H
#define PARAMS_H

#include <stdbool.h>

#include <jansson.h>

/* Longest tenant name, in bytes. */
#define PARAMS_MAX_TENANT 1024

/* tenants (non-empty strings) or all = true, exactly one of them. */
int params_tenants(json_t *params, json_t **tenants, bool *all,
                   const char **bad) __attribute__((warn_unused_result));

/* A job: id, or plan and tenant (its latest job), exactly one of them. */
int params_job_ref(json_t *params, long long *id, const char **plan,
                   const char **tenant, const char **bad)
        __attribute__((warn_unused_result));

#endif
