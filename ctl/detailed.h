/* `migratectl status --detailed`: GetPlanProgress for people. */
#ifndef CTL_DETAILED_H
#define CTL_DETAILED_H

#include <stdio.h>

#include <jansson.h>

/*
 * Per plan: a line with its tenants by state, the plan's bar, rows, rate
 * and ETA, what throttles it, then a table of its steps.
 */
int out_overview(FILE *f, const json_t *plans)
        __attribute__((warn_unused_result));

#endif
