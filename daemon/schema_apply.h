/*
 * Running a schema set's files on the set's database: the driver of a job
 * of kind "schema" (apply or revert). It opens its own connection to the
 * set's database, makes sure the history table is there, holds an advisory
 * lock on the set there for the whole run (so two appliers never overlap,
 * even from daemons with different state databases), reads the directory
 * and the history fresh, refuses an apply while an applied file was edited
 * or is missing, and then runs each file in a transaction of its own
 * together with its history row. The job's progress (one step per file)
 * goes to the runner's state connection.
 */
#ifndef SCHEMA_APPLY_H
#define SCHEMA_APPLY_H

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "pg.h"

struct schema_run;

/* What the job's runner hands the driver; copied, nothing kept. */
struct schema_run_ctx {
	struct event_base *base;
	const struct config *cfg;
	struct pg_conn *state; /* the runner's: job steps, warnings */
	const char *set;
	const char *job;   /* the job's id, as text */
	const char *owner; /* the runner holding the job */
	json_t *args;      /* op, to, dry_run, uid, username (all strings) */
};

/* How a run ends; called from the loop, never from inside a call. */
struct schema_run_events {
	void (*done)(void *arg);
	void (*failed)(void *arg, const char *msg);
	/* stopped on request, or the job is no longer running here */
	void (*stopped)(void *arg);
	void *arg;
};

/* Starts the run; NULL when out of memory. */
struct schema_run *schema_run_start(const struct schema_run_ctx *ctx,
                                    const struct schema_run_events *ev)
        __attribute__((warn_unused_result));

/* Stops after the file running now (pause, cancel). */
void schema_run_stop(struct schema_run *run);

/* Closes its connection (a file running then rolls back) and frees. */
void schema_run_free(struct schema_run *run);

#endif
