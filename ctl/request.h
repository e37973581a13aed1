/*
 * The parameters of a call, built from a verb's arguments. The functions
 * that check arguments return an exit status and have printed the usage
 * error when it is not CTL_EXIT_OK.
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <stdbool.h>

#include <jansson.h>

#include "args.h"

/* p[key] = value, unless value is NULL (the option was not given). */
void request_str(json_t *p, const char *key, const char *value);
/* p[key] = value if has. */
void request_int(json_t *p, const char *key, bool has, long long value);
/* p[key] = true if value; false is the daemon's default, left out. */
void request_true(json_t *p, const char *key, bool value);

/*
 * PLAN (--tenant T ... | --pair OLD:NEW ... | --all), as submit and
 * validate (without --pair) take them: checks them and builds {plan,
 * tenants}, {plan, pairs} or {plan, all} in *p.
 */
int request_tenants(const struct args *a, json_t **p);

/*
 * JOB, or PLAN --tenant T for the latest job of a plan and tenant, as
 * verify and rollback take them: {id} or {plan, tenant} in *p.
 */
int request_target(const struct args *a, json_t **p);

#endif
