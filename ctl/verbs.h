/*
 * migratectl's verbs: one table of names, the arguments and options each
 * takes, its handler and its help, from which both the dispatch and
 * --help come. The handlers live in cmd_*.c, one file per group of verbs.
 */
#ifndef VERBS_H
#define VERBS_H

#include <stdio.h>

#include "ctl.h"

struct verb;

const struct verb *verbs_find(const char *name);

/*
 * Runs verb with argv[0] its name and argv[1..] its arguments. Returns the
 * exit status.
 */
int verbs_run(const struct verb *verb, struct ctl_global *global, int argc,
              char **argv);

/* Lists the verbs with one line each, for migratectl --help. */
void verbs_list(FILE *f);

#endif
