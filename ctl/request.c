#include "request.h"

#include <stdlib.h>

void
request_str(json_t *p, const char *key, const char *value)
{
	if (value != NULL)
		json_object_set_new(p, key, json_string(value));
}

void
request_int(json_t *p, const char *key, bool has, long long value)
{
	if (has)
		json_object_set_new(p, key, json_integer(value));
}

void
request_true(json_t *p, const char *key, bool value)
{
	if (value)
		json_object_set_new(p, key, json_true());
}

int
request_tenants(const struct args *a, json_t **p)
{
	*p = NULL;
	if (a->pairs != NULL && (a->tenants != NULL || a->all))
		return args_usage_error(a->command,
		                        "--pair and --%s exclude each other",
		                        a->all ? "all" : "tenant");
	if (a->tenants != NULL && a->all)
		return args_usage_error(
		        a->command, "--tenant and --all exclude each other");
	if (a->tenants == NULL && a->pairs == NULL && !a->all)
		return args_usage_error(
		        a->command,
		        "give the tenants with --tenant T (once per "
		        "tenant)%s or --all",
		        a->opts & ARG_BIT(ARG_PAIR)
		                ? ", the pairs with --pair OLD:NEW (once per "
		                  "pair)"
		                : "");
	*p = json_pack("{s:s}", "plan", a->pos[0]);
	if (*p == NULL)
		return args_out_of_memory();
	if (a->tenants != NULL)
		json_object_set(*p, "tenants", a->tenants);
	if (a->pairs != NULL)
		json_object_set(*p, "pairs", a->pairs);
	request_true(*p, "all", a->all);
	return CTL_EXIT_OK;
}

int
request_target(const struct args *a, json_t **p)
{
	const char *tenant;
	int rc = args_one_tenant(a, &tenant);

	*p = NULL;
	if (rc != CTL_EXIT_OK)
		return rc;
	if (tenant != NULL)
		*p = json_pack("{s:s, s:s}", "plan", a->pos[0], "tenant",
		               tenant);
	else if (args_is_job_id(a->pos[0]))
		*p = json_pack("{s:I}", "id",
		               (json_int_t)strtoll(a->pos[0], NULL, 10));
	else
		return args_usage_error(
		        a->command,
		        "'%s' is not a job id; for the latest job "
		        "of a plan give PLAN --tenant T",
		        a->pos[0]);
	return *p != NULL ? CTL_EXIT_OK : args_out_of_memory();
}
