/*
 * The daemon's loaded plans: a reference-counted plan_set, so a runner
 * keeps the plans its job started with across a reload, plus the views of
 * a plan the control socket needs.
 */
#ifndef CATALOG_H
#define CATALOG_H

#include <stdio.h>

#include <jansson.h>

#include "config.h"
#include "plan.h"

struct catalog;

/*
 * Loads the plans of cfg's plan_dir. A plan is bad when its file does not
 * load or when a source it names is none of cfg's [database NAME]
 * sections. Each bad plan is left out and written to report (a stream), or
 * logged when report is NULL; *nbad counts them. NULL with err set when
 * the directory cannot be read.
 */
struct catalog *catalog_load(const struct config *cfg, FILE *report, int *nbad,
                             char *err, size_t errlen)
        __attribute__((warn_unused_result));
struct catalog *catalog_ref(struct catalog *cat);
void catalog_unref(struct catalog *cat);

int catalog_count(const struct catalog *cat);
const struct plan *catalog_at(const struct catalog *cat, int i);
const struct plan *catalog_find(const struct catalog *cat, const char *name);

/* The plan as type Plan of io.migrated.varlink. */
json_t *catalog_plan_json(const struct plan *plan);

/*
 * The names of the steps a job runs, in dependency order: all of them, or
 * those named in steps (a JSON array). NULL with *bad naming an unknown step.
 */
json_t *catalog_run_order(const struct plan *plan, json_t *steps,
                          const char **bad);

/* Most parameters one statement of a plan binds. */
#define CATALOG_MAX_PARAMS 128

/*
 * Fills values[i] for $(i+1) of stmt from the job's environment: tenant,
 * lo, hi (may be NULL when the statement cannot use them) and the params
 * columns (a JSON object of strings and nulls). -1 when a name has no value.
 */
int catalog_bind(const struct sql_stmt *stmt, const char *tenant,
                 const char *lo, const char *hi, json_t *params,
                 const char **values) __attribute__((warn_unused_result));

#endif
