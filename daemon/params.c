#include "params.h"

int
params_tenants(json_t *tenants, json_t *pairs, bool all, const char **bad)
{
	if (pairs != NULL) {
		if (tenants != NULL || all || json_array_size(pairs) == 0) {
			*bad = "pairs";
			return -1;
		}
		return 0;
	}
	if (all == (tenants != NULL) ||
	    (tenants != NULL && json_array_size(tenants) == 0)) {
		*bad = "tenants";
		return -1;
	}
	return 0;
}

int
params_job_ref(long long id, const char *plan, const char *tenant,
               const char **bad)
{
	if (id > 0 && (plan != NULL || tenant != NULL)) {
		*bad = "plan";
		return -1;
	}
	if (id == 0 && (plan == NULL || tenant == NULL)) {
		*bad = plan == NULL ? "id" : "tenant";
		return -1;
	}
	return 0;
}
