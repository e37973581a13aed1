/*
 * What every part of migratectl shares: its exit statuses, the options
 * that apply to every command, and the names of the interface it calls.
 */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>

/* Exit status of migratectl (documented in migratectl(1)). */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_DAEMON = 1,  /* the daemon answered with an error */
	CTL_EXIT_USAGE = 2,   /* migratectl refused the command line: nothing
	                        was sent to the daemon */
	CTL_EXIT_CONNECT = 3, /* cannot connect, connection broke, bad reply */
	CTL_EXIT_FAILED = 4,  /* a job or a check did not pass: --wait,
	                          validate, verify */
};

#define CTL_DEFAULT_SOCKET "/run/migrated/io.migrated"

/* Method and error names: VL_METHOD_SUBMIT, VL_ERROR_NO_SUCH_JOB, ... */
#include "vl_names.h"

/* Options that may come before the command (and also after it). */
struct ctl_global {
	const char *socket;
	bool json;
};

#endif
