/*
 * The options and arguments of migratectl's commands: one table of
 * options, one parser. Each command accepts a subset of the options.
 */
#ifndef ARGS_H
#define ARGS_H

#include <stdbool.h>

#include <jansson.h>

#include "ctl.h"

enum arg_opt {
	ARG_TENANT,
	ARG_ALL,
	ARG_STEPS,
	ARG_BATCH_SIZE,
	ARG_PRIORITY,
	ARG_WAIT,
	ARG_STATE,
	ARG_PLAN,
	ARG_LIMIT,
	ARG_BEFORE,
	ARG_DRY_RUN,
	ARG_SKIP_CHECKS,
	ARG_JOB,
	ARG_DROP,
	ARG_OLDER_THAN,
	ARG_PARAM,
	ARG_PAIR,
	ARG_FRESH,
	ARG_COMPARE,
	ARG_TO,
	ARG_FROM,
	ARG_TABLE,
	ARG_VERSION_COLUMN,
	ARG_NAME_COLUMN,
	ARG_REASON,
	ARG_FOR,
	ARG_MAX_ROWS_PER_SECOND,
	ARG_EMERGENCY,
	ARG_DETAILED, /* status --detailed */
	ARG_COUNT
};

#define ARG_BIT(o) (1u << (o))

/* What a command accepts. */
struct args_spec {
	const char *command; /* its name, for messages */
	unsigned opts;       /* ARG_BIT()s */
	bool job_args;       /* its positional arguments may be job ids */
};

struct args {
	const char *command;
	unsigned opts;   /* the options the command accepts: ARG_BIT()s */
	json_t *tenants; /* --tenant values, in order */
	json_t *steps;   /* --steps names, in order */
	json_t *params;  /* --param: {NAME: VALUE} */
	json_t *pairs;   /* --pair: [{old, new}], in order */
	bool all, wait, help, dry_run, skip_checks, drop, fresh, compare;
	bool emergency; /* rollback --emergency */
	bool detailed;
	bool has_batch_size, has_priority, has_limit, has_before, has_job,
	        has_older_than, has_to;
	long long batch_size, priority, limit, before, job, older_than, to;
	/* schema adopt: --from, --table, --version-column, --name-column */
	const char *from, *table, *version_column, *name_column;
	const char *state;
	const char *plan;
	const char *reason, *for_; /* throttle on */
	bool has_max_rows_per_second;
	long long max_rows_per_second;
	char **pos; /* positional arguments */
	int npos;
};

/*
 * Parses argv (argv[0] is the command's name) into a, which the caller
 * clears with args_clear. --json and --socket go to g. Returns an exit
 * status: CTL_EXIT_OK, or the usage error it printed.
 */
int args_parse(const struct args_spec *spec, struct ctl_global *g, int argc,
               char **argv, struct args *a);
void args_clear(struct args *a);

/* Checks the number of positional arguments; what names a missing one. */
int args_check_npos(const struct args *a, int min, int max, const char *what);
/* text is a job id: a positive whole number. */
bool args_is_job_id(const char *text);
/* The positional arguments as job ids; *ids is NULL when there are none. */
int args_job_ids(const struct args *a, json_t **ids);
/* At most one --tenant; *tenant is NULL when none was given. */
int args_one_tenant(const struct args *a, const char **tenant);

/*
 * Prints "migratectl: [command: ]message" and a hint to stderr; returns
 * CTL_EXIT_USAGE.
 */
int args_usage_error(const char *command, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Prints "migratectl: out of memory"; returns CTL_EXIT_DAEMON. */
int args_out_of_memory(void);
/*
 * Reports the option getopt_long just rejected with c ('?' or ':', with
 * opterr 0 and optstring starting with ':'); returns CTL_EXIT_USAGE.
 */
int args_option_error(const char *command, int c, char **argv);

#endif
