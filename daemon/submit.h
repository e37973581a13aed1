/*
 * What Submit asks of a plan before it asks the database: the plan's
 * parameters given and only those, pairs only for a plan with a pair key,
 * fresh only when a selected step has clear SQL, and the steps a partial
 * submit leaves out that its steps depend on. No I/O: jobs.c runs the
 * statement, these decide what it checks and stores.
 */
#ifndef SUBMIT_H
#define SUBMIT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "plan.h"

/*
 * Checks a submit of plan running the steps named in order (a JSON array,
 * see catalog_run_order) with args (the params object of strings, NULL
 * when not given), pairs (whether pairs were given) and fresh. Returns -1,
 * with *parameter the Submit parameter at fault ("pairs", "params",
 * "fresh") and a message that says what to do, for InvalidParameterValue.
 */
int submit_check(const struct plan *plan, json_t *order, json_t *args,
                 bool pairs, bool fresh, const char **parameter, char *msg,
                 size_t msglen) __attribute__((warn_unused_result));

/*
 * The dependencies a job running the steps in order must find done by an
 * earlier job of the same plan and tenant: [[S, A], ...] for each step S in
 * order and each step A of S's after that is not in order, in run order.
 * NULL when out of memory.
 */
json_t *submit_step_deps(const struct plan *plan, json_t *order)
        __attribute__((warn_unused_result));

#endif
