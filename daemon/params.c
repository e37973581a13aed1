#include "params.h"

#include <stdint.h>

#include "vl_message.h"

int
params_tenants(json_t *params, json_t **tenants, bool *all, const char **bad)
{
	*tenants = NULL;
	*all = false;
	if (vl_param_strings(params, "tenants", PARAMS_MAX_TENANT, tenants,
	                     bad) < 0 ||
	    vl_param_bool(params, "all", all, bad) < 0)
		return -1;
	if (*all == (*tenants != NULL) ||
	    (*tenants != NULL && json_array_size(*tenants) == 0)) {
		*bad = "tenants";
		return -1;
	}
	return 0;
}

int
params_job_ref(json_t *params, long long *id, const char **plan,
               const char **tenant, const char **bad)
{
	*id = 0;
	*plan = *tenant = NULL;
	if (vl_param_int(params, "id", false, 1, INT64_MAX, id, bad) < 0 ||
	    vl_param_string(params, "plan", false, plan, bad) < 0 ||
	    vl_param_string(params, "tenant", false, tenant, bad) < 0)
		return -1;
	if (*id > 0 && (*plan != NULL || *tenant != NULL)) {
		*bad = "plan";
		return -1;
	}
	if (*id == 0 && (*plan == NULL || *tenant == NULL)) {
		*bad = *plan == NULL ? "id" : "tenant";
		return -1;
	}
	return 0;
}
