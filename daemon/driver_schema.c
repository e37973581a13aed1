/*
 * The driver of a job of kind "schema" (plan "schema:SET"): hands the job
 * to schema_apply.c, which runs the set's files.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "claim.h"
#include "driver.h"
#include "schema_apply.h"

struct driver {
	struct driver_events ev;
	struct schema_run *run;
	char *plan; /* "schema:SET" */
	char *tenant;
};

static void
on_done(void *arg)
{
	struct driver *drv = arg;

	drv->ev.succeeded(drv->ev.arg);
}

static void
on_failed(void *arg, const char *msg)
{
	struct driver *drv = arg;

	drv->ev.failed(drv->ev.arg, msg);
}

static void
on_stopped(void *arg)
{
	struct driver *drv = arg;

	drv->ev.stopped(drv->ev.arg);
}

static void
schema_free(struct driver *drv)
{
	if (drv == NULL)
		return;
	schema_run_free(drv->run);
	free(drv->plan);
	free(drv->tenant);
	free(drv);
}

static enum driver_start
schema_start(const struct driver_ctx *ctx, const PGresult *claimed,
             struct driver **out)
{
	struct driver *drv = calloc(1, sizeof(*drv));
	struct schema_run_events ev = {on_done, on_failed, on_stopped, drv};
	json_t *args;

	*out = drv;
	if (drv == NULL)
		return DRIVER_NOMEM;
	drv->ev = ctx->ev;
	drv->plan = strdup(PQgetvalue(claimed, 0, CLAIM_COL_PLAN));
	drv->tenant = strdup(PQgetvalue(claimed, 0, CLAIM_COL_TENANT));
	ctx->log->plan = drv->plan;
	ctx->log->tenant = drv->tenant;
	args = json_loads(PQgetvalue(claimed, 0, CLAIM_COL_ARGS), 0, NULL);
	struct schema_run_ctx sc = {.base = ctx->base,
	                            .cfg = ctx->cfg,
	                            .state = ctx->conn,
	                            .job = ctx->job_s,
	                            .owner = ctx->owner,
	                            .args = args};
	if (args != NULL && drv->plan != NULL && drv->tenant != NULL) {
		sc.set = drv->plan + strlen("schema:");
		drv->run = schema_run_start(&sc, &ev);
	}
	json_decref(args);
	return drv->run != NULL ? DRIVER_STARTED : DRIVER_NOMEM;
}

static void
schema_stop(struct driver *drv)
{
	if (drv->run != NULL)
		schema_run_stop(drv->run);
}

const struct driver_ops driver_schema_ops = {
        .kind = "schema",
        .start = schema_start,
        .stop = schema_stop,
        .free = schema_free,
};
