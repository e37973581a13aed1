#include "args.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

#define OPT_VAL(o) (256 + (o))

static const struct option arg_options[ARG_COUNT] = {
        [ARG_TENANT] = {"tenant", required_argument, NULL, OPT_VAL(ARG_TENANT)},
        [ARG_ALL] = {"all", no_argument, NULL, OPT_VAL(ARG_ALL)},
        [ARG_STEPS] = {"steps", required_argument, NULL, OPT_VAL(ARG_STEPS)},
        [ARG_BATCH_SIZE] = {"batch-size", required_argument, NULL,
                            OPT_VAL(ARG_BATCH_SIZE)},
        [ARG_PRIORITY] = {"priority", required_argument, NULL,
                          OPT_VAL(ARG_PRIORITY)},
        [ARG_WAIT] = {"wait", no_argument, NULL, OPT_VAL(ARG_WAIT)},
        [ARG_STATE] = {"state", required_argument, NULL, OPT_VAL(ARG_STATE)},
        [ARG_PLAN] = {"plan", required_argument, NULL, OPT_VAL(ARG_PLAN)},
        [ARG_LIMIT] = {"limit", required_argument, NULL, OPT_VAL(ARG_LIMIT)},
        [ARG_BEFORE] = {"before", required_argument, NULL, OPT_VAL(ARG_BEFORE)},
        [ARG_DRY_RUN] = {"dry-run", no_argument, NULL, OPT_VAL(ARG_DRY_RUN)},
        [ARG_SKIP_CHECKS] = {"skip-checks", no_argument, NULL,
                             OPT_VAL(ARG_SKIP_CHECKS)},
        [ARG_JOB] = {"job", required_argument, NULL, OPT_VAL(ARG_JOB)},
        [ARG_DROP] = {"drop", no_argument, NULL, OPT_VAL(ARG_DROP)},
        [ARG_OLDER_THAN] = {"older-than", required_argument, NULL,
                            OPT_VAL(ARG_OLDER_THAN)},
        [ARG_PARAM] = {"param", required_argument, NULL, OPT_VAL(ARG_PARAM)},
        [ARG_PAIR] = {"pair", required_argument, NULL, OPT_VAL(ARG_PAIR)},
        [ARG_FRESH] = {"fresh", no_argument, NULL, OPT_VAL(ARG_FRESH)},
        [ARG_COMPARE] = {"compare", no_argument, NULL, OPT_VAL(ARG_COMPARE)},
        [ARG_TO] = {"to", required_argument, NULL, OPT_VAL(ARG_TO)},
        [ARG_FROM] = {"from", required_argument, NULL, OPT_VAL(ARG_FROM)},
        [ARG_TABLE] = {"table", required_argument, NULL, OPT_VAL(ARG_TABLE)},
        [ARG_VERSION_COLUMN] = {"version-column", required_argument, NULL,
                                OPT_VAL(ARG_VERSION_COLUMN)},
        [ARG_NAME_COLUMN] = {"name-column", required_argument, NULL,
                             OPT_VAL(ARG_NAME_COLUMN)},
        [ARG_REASON] = {"reason", required_argument, NULL, OPT_VAL(ARG_REASON)},
        [ARG_FOR] = {"for", required_argument, NULL, OPT_VAL(ARG_FOR)},
        [ARG_MAX_ROWS_PER_SECOND] = {"max-rows-per-second", required_argument,
                                     NULL, OPT_VAL(ARG_MAX_ROWS_PER_SECOND)},
        [ARG_EMERGENCY] = {"emergency", no_argument, NULL,
                           OPT_VAL(ARG_EMERGENCY)},
        [ARG_DETAILED] = {"detailed", no_argument, NULL, OPT_VAL(ARG_DETAILED)},
};

/* Accepted by every command. */
static const struct option common_options[] = {
        {"json", no_argument, NULL, 'j'},
        {"socket", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
};
#define NCOMMON (sizeof(common_options) / sizeof(common_options[0]))

#define BATCH_SIZE_MAX 1000000
#define OLDER_THAN_MAX 100000 /* days, as the daemon accepts */

void
args_clear(struct args *a)
{
	json_decref(a->tenants);
	json_decref(a->steps);
	json_decref(a->params);
	json_decref(a->pairs);
	memset(a, 0, sizeof(*a));
}

int
args_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fputs("migratectl: ", stderr);
	if (command != NULL)
		fprintf(stderr, "%s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'migratectl %s%s--help'.\n",
	        command != NULL ? command : "", command != NULL ? " " : "");
	return CTL_EXIT_USAGE;
}

/* Parses a whole decimal number in [min, max]. */
__attribute__((warn_unused_result)) static int
parse_int(const char *text, long long min, long long max, long long *out)
{
	const char *digits = text[0] == '-' ? text + 1 : text;
	char *end;
	long long v;

	if (!isdigit((unsigned char)digits[0]))
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
args_out_of_memory(void)
{
	fputs("migratectl: out of memory\n", stderr);
	return CTL_EXIT_DAEMON;
}

__attribute__((warn_unused_result)) static int
append_string(json_t **array, const char *text, size_t len)
{
	if (*array == NULL)
		*array = json_array();
	if (*array == NULL ||
	    json_array_append_new(*array, json_stringn(text, len)) < 0) {
		(void)args_out_of_memory();
		return -1;
	}
	return 0;
}

/* --steps a,b: names separated by commas, blanks around them ignored. */
static int
add_steps(struct args *a, const char *list)
{
	const char *p = list;

	for (;;) {
		size_t len = strcspn(p, ",");
		const char *start = p;
		const char *end = p + len;

		while (start < end && isspace((unsigned char)*start))
			start++;
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
		if (start == end)
			return args_usage_error(
			        a->command, "--steps: empty step name in '%s'",
			        list);
		if (append_string(&a->steps, start, (size_t)(end - start)) < 0)
			return CTL_EXIT_DAEMON;
		if (p[len] == '\0')
			return CTL_EXIT_OK;
		p += len + 1;
	}
}

/* --param NAME=VALUE: split at the first '='; VALUE may be empty. */
static int
add_param(struct args *a, const char *text)
{
	const char *eq = strchr(text, '=');
	char *name;
	int rc = CTL_EXIT_OK;

	if (eq == NULL)
		return args_usage_error(
		        a->command, "--param: '%s' is not NAME=VALUE", text);
	if (eq == text)
		return args_usage_error(a->command,
		                        "--param: empty NAME in '%s'", text);
	if (a->params == NULL && (a->params = json_object()) == NULL)
		return args_out_of_memory();
	name = strndup(text, (size_t)(eq - text));
	if (name == NULL)
		return args_out_of_memory();
	if (json_object_get(a->params, name) != NULL)
		rc = args_usage_error(a->command, "--param: '%s' given twice",
		                      name);
	else if (json_object_set_new(a->params, name, json_string(eq + 1)) < 0)
		rc = args_out_of_memory();
	free(name);
	return rc;
}

/* --pair OLD:NEW: split at the first ':'; neither may be empty. */
static int
add_pair(struct args *a, const char *text)
{
	const char *colon = strchr(text, ':');
	json_t *pair;

	if (colon == NULL)
		return args_usage_error(a->command,
		                        "--pair: '%s' is not OLD:NEW", text);
	if (colon == text || colon[1] == '\0')
		return args_usage_error(a->command, "--pair: empty %s in '%s'",
		                        colon == text ? "OLD" : "NEW", text);
	pair = json_pack("{s:s%, s:s}", "old", text, (size_t)(colon - text),
	                 "new", colon + 1);
	if (a->pairs == NULL)
		a->pairs = json_array();
	if (pair == NULL || a->pairs == NULL ||
	    json_array_append_new(a->pairs, pair) < 0)
		return args_out_of_memory();
	return CTL_EXIT_OK;
}

static int
number_arg(const struct args *a, const char *opt, const char *text,
           long long min, long long max, long long *out, bool *has)
{
	if (parse_int(text, min, max, out) < 0)
		return args_usage_error(
		        a->command,
		        "--%s: '%s' is not a whole number from %lld "
		        "to %lld",
		        opt, text, min, max);
	*has = true;
	return CTL_EXIT_OK;
}

static int
id_arg(const struct args *a, const char *opt, const char *text, long long *out,
       bool *has)
{
	if (parse_int(text, 1, INT64_MAX, out) < 0)
		return args_usage_error(
		        a->command, "--%s: '%s' is not a positive whole number",
		        opt, text);
	*has = true;
	return CTL_EXIT_OK;
}

static int
state_arg(struct args *a, const char *text)
{
	char known[256] = "";
	size_t used = 0;

	for (size_t i = 0; out_job_state(i) != NULL; i++) {
		if (strcmp(text, out_job_state(i)) == 0) {
			a->state = text;
			return CTL_EXIT_OK;
		}
		used += (size_t)snprintf(known + used, sizeof(known) - used,
		                         "%s%s", i ? ", " : "",
		                         out_job_state(i));
	}
	return args_usage_error(a->command,
	                        "--state: '%s' is not a job state (%s)", text,
	                        known);
}

static int
name_arg(const struct args *a, const char *opt, const char *text,
         const char **out)
{
	if (text[0] == '\0')
		return args_usage_error(a->command, "--%s: empty value", opt);
	*out = text;
	return CTL_EXIT_OK;
}

/* Turns on the switch of an option without a value; false if opt is none. */
static bool
set_flag(struct args *a, int opt)
{
	bool *flag;

	switch (opt) {
	case OPT_VAL(ARG_ALL):
		flag = &a->all;
		break;
	case OPT_VAL(ARG_WAIT):
		flag = &a->wait;
		break;
	case OPT_VAL(ARG_DRY_RUN):
		flag = &a->dry_run;
		break;
	case OPT_VAL(ARG_SKIP_CHECKS):
		flag = &a->skip_checks;
		break;
	case OPT_VAL(ARG_DROP):
		flag = &a->drop;
		break;
	case OPT_VAL(ARG_FRESH):
		flag = &a->fresh;
		break;
	case OPT_VAL(ARG_COMPARE):
		flag = &a->compare;
		break;
	case OPT_VAL(ARG_EMERGENCY):
		flag = &a->emergency;
		break;
	case OPT_VAL(ARG_DETAILED):
		flag = &a->detailed;
		break;
	default:
		return false;
	}
	*flag = true;
	return true;
}

/* Handles one option of a command; returns an exit status or OK. */
static int
take_option(struct ctl_global *g, struct args *a, int opt, const char *arg)
{
	if (set_flag(a, opt))
		return CTL_EXIT_OK;
	switch (opt) {
	case 'j':
		g->json = true;
		return CTL_EXIT_OK;
	case 's':
		return name_arg(a, "socket", arg, &g->socket);
	case 'h':
		a->help = true;
		return CTL_EXIT_OK;
	case OPT_VAL(ARG_TENANT):
		if (arg[0] == '\0')
			return args_usage_error(a->command,
			                        "--tenant: empty tenant name");
		return append_string(&a->tenants, arg, strlen(arg)) < 0
		               ? CTL_EXIT_DAEMON
		               : CTL_EXIT_OK;
	case OPT_VAL(ARG_STEPS):
		return add_steps(a, arg);
	case OPT_VAL(ARG_BATCH_SIZE):
		return number_arg(a, "batch-size", arg, 1, BATCH_SIZE_MAX,
		                  &a->batch_size, &a->has_batch_size);
	case OPT_VAL(ARG_PRIORITY):
		return number_arg(a, "priority", arg, INT32_MIN, INT32_MAX,
		                  &a->priority, &a->has_priority);
	case OPT_VAL(ARG_STATE):
		return state_arg(a, arg);
	case OPT_VAL(ARG_PLAN):
		return name_arg(a, "plan", arg, &a->plan);
	case OPT_VAL(ARG_LIMIT):
		return number_arg(a, "limit", arg, 1, INT32_MAX, &a->limit,
		                  &a->has_limit);
	case OPT_VAL(ARG_BEFORE):
		return id_arg(a, "before", arg, &a->before, &a->has_before);
	case OPT_VAL(ARG_JOB):
		return id_arg(a, "job", arg, &a->job, &a->has_job);
	case OPT_VAL(ARG_OLDER_THAN):
		return number_arg(a, "older-than", arg, 0, OLDER_THAN_MAX,
		                  &a->older_than, &a->has_older_than);
	case OPT_VAL(ARG_PARAM):
		return add_param(a, arg);
	case OPT_VAL(ARG_PAIR):
		return add_pair(a, arg);
	case OPT_VAL(ARG_TO):
		return number_arg(a, "to", arg, 0, INT64_MAX, &a->to,
		                  &a->has_to);
	case OPT_VAL(ARG_FROM):
		return name_arg(a, "from", arg, &a->from);
	case OPT_VAL(ARG_TABLE):
		return name_arg(a, "table", arg, &a->table);
	case OPT_VAL(ARG_VERSION_COLUMN):
		return name_arg(a, "version-column", arg, &a->version_column);
	case OPT_VAL(ARG_NAME_COLUMN):
		return name_arg(a, "name-column", arg, &a->name_column);
	case OPT_VAL(ARG_REASON):
		a->reason = arg;
		return CTL_EXIT_OK;
	case OPT_VAL(ARG_FOR):
		return name_arg(a, "for", arg, &a->for_);
	case OPT_VAL(ARG_MAX_ROWS_PER_SECOND):
		return number_arg(a, "max-rows-per-second", arg, 0, 1000000000,
		                  &a->max_rows_per_second,
		                  &a->has_max_rows_per_second);
	default:
		return args_usage_error(a->command, "unexpected option");
	}
}

int
args_option_error(const char *command, int c, char **argv)
{
	const char *word = argv[optind - 1];
	bool missing = c == ':';

	bool long_form = strncmp(word, "--", 2) == 0;

	/* optopt: the option's value, 0 for an unknown long option */
	if (!missing && optopt != 0 && long_form)
		return args_usage_error(command, "option '%s' takes no value",
		                        word);
	if (optopt > 0 && optopt < 256 && !long_form)
		return args_usage_error(command,
		                        missing ? "option '-%c' needs a value"
		                                : "unknown option '-%c'",
		                        optopt);
	return args_usage_error(command,
	                        missing ? "option '%s' needs a value"
	                                : "unknown option '%s'",
	                        word);
}

/* Names the option getopt_long rejected; "-5" is a bad job id. */
static int
bad_option(const struct args_spec *spec, int c, char **argv)
{
	const char *word = argv[optind - 1];

	if (spec->job_args && word[0] == '-' && isdigit((unsigned char)word[1]))
		return args_usage_error(
		        spec->command,
		        "'%s' is not a job id (a positive whole "
		        "number)",
		        word);
	return args_option_error(spec->command, c, argv);
}

int
args_parse(const struct args_spec *spec, struct ctl_global *g, int argc,
           char **argv, struct args *a)
{
	struct option longopts[ARG_COUNT + NCOMMON + 1];
	size_t n = 0;
	int c;

	memset(a, 0, sizeof(*a));
	a->command = spec->command;
	a->opts = spec->opts;
	memset(longopts, 0, sizeof(longopts));
	for (size_t i = 0; i < ARG_COUNT; i++)
		if (spec->opts & ARG_BIT(i))
			longopts[n++] = arg_options[i];
	for (size_t i = 0; i < NCOMMON; i++)
		longopts[n++] = common_options[i];

	optind = 0; /* glibc: start afresh after main's parsing */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":js:h", longopts, NULL)) != -1) {
		int rc;

		if (c == '?' || c == ':')
			return bad_option(spec, c, argv);
		rc = take_option(g, a, c, optarg);
		if (rc != CTL_EXIT_OK)
			return rc;
		if (a->help)
			return CTL_EXIT_OK;
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	return CTL_EXIT_OK;
}

int
args_check_npos(const struct args *a, int min, int max, const char *what)
{
	if (a->npos < min)
		return args_usage_error(a->command, "missing %s", what);
	if (a->npos > max)
		return args_usage_error(a->command, "unexpected argument '%s'",
		                        a->pos[max]);
	return CTL_EXIT_OK;
}

bool
args_is_job_id(const char *text)
{
	long long id;

	return parse_int(text, 1, INT64_MAX, &id) == 0;
}

int
args_job_ids(const struct args *a, json_t **ids)
{
	*ids = NULL;
	if (a->npos == 0)
		return CTL_EXIT_OK;
	*ids = json_array();
	for (int i = 0; i < a->npos; i++) {
		long long id;

		if (parse_int(a->pos[i], 1, INT64_MAX, &id) < 0) {
			json_decref(*ids);
			*ids = NULL;
			return args_usage_error(
			        a->command,
			        "'%s' is not a job id (a positive "
			        "whole number)",
			        a->pos[i]);
		}
		if (*ids == NULL ||
		    json_array_append_new(*ids, json_integer(id)) < 0) {
			json_decref(*ids);
			*ids = NULL;
			return args_out_of_memory();
		}
	}
	return CTL_EXIT_OK;
}

int
args_one_tenant(const struct args *a, const char **tenant)
{
	*tenant = json_string_value(json_array_get(a->tenants, 0));
	if (json_array_size(a->tenants) > 1)
		return args_usage_error(a->command,
		                        "--tenant may be given only once");
	return CTL_EXIT_OK;
}
