/*
 * The job drivers below the runner: one per kind of job, each a table of
 * functions, as step.h is for steps. The runner (runner.c) claims a job
 * on its connection, picks the driver with driver_ops_for and hands it the
 * claimed row; the driver runs the job on that connection and reports its
 * end through struct driver_events. A driver never calls runner.c by name.
 *
 * Every event runs later, from the loop, never inside the call that
 * started the work. A lost connection is not reported: the runner's
 * connection handler frees the driver, and the job resumes from its
 * checkpoint later.
 */
#ifndef DRIVER_H
#define DRIVER_H

#include <stdbool.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "catalog.h"
#include "config.h"
#include "log.h"
#include "pg.h"
#include "throttle.h"

struct driver;

/* How a driver's job goes. */
struct driver_events {
	void (*succeeded)(void *arg);
	void (*failed)(void *arg, const char *msg);
	/* stopped on request, or the job is no longer running here */
	void (*stopped)(void *arg);
	void (*rows)(void *arg, long long rows); /* a batch committed */
	void *arg;
};

/* What the runner hands a driver; the pointers outlive the driver. */
struct driver_ctx {
	struct event_base *base;
	const struct config *cfg;
	struct catalog *plans;     /* the daemon's now: a driver refs it */
	struct pg_conn *conn;      /* the runner's connection to the target */
	struct throttle *throttle; /* what batches wait on */
	long long job;
	const char *job_s;   /* the job's id, as text */
	const char *owner;   /* the runner holding the job */
	struct log_ctx *log; /* the runner's: the driver names plan, tenant,
	                      * step in it */
	struct driver_events ev;
};

enum driver_start {
	DRIVER_STARTED,
	DRIVER_SKIP,  /* not ours to run (a plan that went away): release */
	DRIVER_NOMEM, /* the job fails: out of memory */
};

struct driver_ops {
	const char *kind;
	/* claimed: the row claim_next gave, columns CLAIM_COL_* */
	enum driver_start (*start)(const struct driver_ctx *ctx,
	                           const PGresult *claimed,
	                           struct driver **out);
	/* stop after the current batch or file (ev.stopped follows) */
	void (*stop)(struct driver *drv);
	/* frees with no event after it; NULL is fine */
	void (*free)(struct driver *drv);
};

extern const struct driver_ops driver_plan_ops;
extern const struct driver_ops driver_schema_ops;

/* The driver of a job by its plan name: "schema:SET" or a plan's. */
const struct driver_ops *driver_ops_for(const char *plan);

/* A cell of the claimed row, NULL for SQL NULL. */
const char *driver_cell(const PGresult *claimed, int col);

#endif
