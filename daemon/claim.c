#include "claim.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

int
claim_next(struct pg_conn *conn, const struct catalog *cat,
           const struct config *cfg, const char *exclude, const char *owner,
           pg_result_cb cb, void *arg)
{
	json_t *names = json_array();
	const char *values[3];
	char *plans;
	int rc;

	for (int i = 0; i < catalog_count(cat); i++)
		json_array_append_new(names,
		                      json_string(catalog_at(cat, i)->name));
	/* schema jobs: plan "schema:SET" for the sets configured here */
	for (size_t i = 0; i < cfg->nschemas; i++) {
		char *plan;
		if (asprintf(&plan, "schema:%s", cfg->schemas[i].name) < 0) {
			json_decref(names);
			return -1;
		}
		json_array_append_new(names, json_string(plan));
		free(plan);
	}
	plans = json_dumps(names, JSON_COMPACT);
	json_decref(names);
	if (plans == NULL)
		return -1;
	values[0] = exclude;
	values[1] = plans;
	values[2] = owner;
	rc = pg_query(
	        conn,
	        "SELECT id, plan, tenant, pair, params, args, batch_size,"
	        " dry_run, skip_checks, fresh, kind = 'rollback',"
	        " rollback_of FROM migrated.claim("
	        " ARRAY(SELECT json_array_elements_text($1::json))::bigint[],"
	        " ARRAY(SELECT json_array_elements_text($2::json)), $3)",
	        3, values, cb, arg);
	free(plans);
	return rc;
}

int
claim_release(struct pg_conn *conn, pg_result_cb cb, void *arg)
{
	return pg_query(conn, "SELECT pg_advisory_unlock_all()", 0, NULL, cb,
	                arg);
}
