/* Which driver runs a job: the table of job kinds (driver.h). */
#include "driver.h"

#include <string.h>

#define SCHEMA_PREFIX "schema:"

const struct driver_ops *
driver_ops_for(const char *plan)
{
	if (strncmp(plan, SCHEMA_PREFIX, strlen(SCHEMA_PREFIX)) == 0)
		return &driver_schema_ops;
	return &driver_plan_ops;
}

const char *
driver_cell(const PGresult *claimed, int col)
{
	return PQgetisnull(claimed, 0, col) ? NULL
	                                    : PQgetvalue(claimed, 0, col);
}
