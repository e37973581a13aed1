#include "jobrow.h"

#include "jobends.h"

int
jobrow_fail(struct pg_conn *conn, const char *job, const char *owner,
            const char *msg, pg_result_cb cb, void *arg)
{
	const char *values[3] = {job, msg, owner};

	return pg_query(
	        conn,
	        "WITH ended AS (UPDATE migrated.jobs SET state = 'failed',"
	        "  error = $2, finished = now(), updated = now(), owner = NULL"
	        "  WHERE id = $1::bigint AND state = 'running' AND owner = $3"
	        "  RETURNING id)"
	        "SELECT pg_notify('" JOBENDS_CHANNEL "', id::text) FROM ended",
	        3, values, cb, arg);
}

int
jobrow_succeed(struct pg_conn *conn, const char *job, const char *owner,
               pg_result_cb cb, void *arg)
{
	const char *values[2] = {job, owner};

	/* a rollback that succeeded marks the steps it undid, and the job
	 * once none is left (migrated.rolled_back) */
	return pg_query(
	        conn,
	        "WITH done AS (UPDATE migrated.jobs SET state = 'succeeded',"
	        "  finished = now(), updated = now(), owner = NULL"
	        "  WHERE id = $1::bigint AND state = 'running' AND owner = $2"
	        "  RETURNING id, rollback_of),"
	        " undone AS (SELECT rollback_of AS id,"
	        "  migrated.rolled_back(id, rollback_of) FROM done"
	        "  WHERE rollback_of IS NOT NULL)"
	        "SELECT pg_notify('" JOBENDS_CHANNEL "', id::text)"
	        " FROM (SELECT id FROM done UNION ALL SELECT id FROM undone) e",
	        2, values, cb, arg);
}

int
jobrow_warn(struct pg_conn *conn, const char *job, const char *text,
            pg_result_cb cb, void *arg)
{
	const char *values[2] = {job, text};

	return pg_query(
	        conn,
	        "UPDATE migrated.jobs SET warnings = warnings || $2::text"
	        " WHERE id = $1::bigint",
	        2, values, cb, arg);
}

int
jobrow_save_params(struct pg_conn *conn, const char *job, const char *params,
                   pg_result_cb cb, void *arg)
{
	const char *values[2] = {job, params};

	return pg_query(
	        conn,
	        "UPDATE migrated.jobs SET params = $2::jsonb WHERE id = $1::bigint",
	        2, values, cb, arg);
}

int
jobrow_steps(struct pg_conn *conn, const char *job, pg_result_cb cb, void *arg)
{
	const char *values[1] = {job};

	return pg_query(conn,
	                "SELECT coalesce(json_agg(json_build_array(step, state,"
	                " checkpoint, cleared) ORDER BY ord), '[]')"
	                " FROM migrated.job_steps WHERE job_id = $1::bigint",
	                1, values, cb, arg);
}
