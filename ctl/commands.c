#include "commands.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"
#include "output.h"
#include "vl_message.h"

#define IFACE "io.migrated."

/* ---- arguments -------------------------------------------------------- */

/* Options after the command; each command accepts a subset (a bit mask). */
enum opt {
	OPT_TENANT,
	OPT_ALL,
	OPT_STEPS,
	OPT_BATCH_SIZE,
	OPT_PRIORITY,
	OPT_WAIT,
	OPT_STATE,
	OPT_PLAN,
	OPT_LIMIT,
	OPT_COUNT
};

#define OPT_VAL(o) (256 + (o))
#define OPT_BIT(o) (1u << (o))

static const struct option cmd_options[OPT_COUNT] = {
	[OPT_TENANT] = {"tenant", required_argument, NULL, OPT_VAL(OPT_TENANT)},
	[OPT_ALL] = {"all", no_argument, NULL, OPT_VAL(OPT_ALL)},
	[OPT_STEPS] = {"steps", required_argument, NULL, OPT_VAL(OPT_STEPS)},
	[OPT_BATCH_SIZE] = {"batch-size", required_argument, NULL,
	                    OPT_VAL(OPT_BATCH_SIZE)},
	[OPT_PRIORITY] = {"priority", required_argument, NULL,
	                  OPT_VAL(OPT_PRIORITY)},
	[OPT_WAIT] = {"wait", no_argument, NULL, OPT_VAL(OPT_WAIT)},
	[OPT_STATE] = {"state", required_argument, NULL, OPT_VAL(OPT_STATE)},
	[OPT_PLAN] = {"plan", required_argument, NULL, OPT_VAL(OPT_PLAN)},
	[OPT_LIMIT] = {"limit", required_argument, NULL, OPT_VAL(OPT_LIMIT)},
};

/* Accepted by every command. */
static const struct option common_options[] = {
	{"json", no_argument, NULL, 'j'},
	{"socket", required_argument, NULL, 's'},
	{"help", no_argument, NULL, 'h'},
};
#define NCOMMON (sizeof(common_options) / sizeof(common_options[0]))

#define BATCH_SIZE_MAX 1000000

struct args {
	json_t *tenants;       /* --tenant values, in order */
	json_t *steps;         /* --steps names, in order */
	bool all;
	bool wait;
	bool help;
	bool has_batch_size, has_priority, has_limit;
	long long batch_size, priority, limit;
	const char *state;
	const char *plan;
	char **pos;            /* positional arguments */
	int npos;
};

struct ctx {
	const struct cmd *cmd;
	struct cmd_global *global;
	struct client *client;
};

struct cmd {
	const char *name;
	int (*run)(struct ctx *ctx, struct args *a);
	unsigned opts;         /* OPT_BIT()s accepted */
	bool job_args;         /* the positional arguments are job ids */
	const char *method;    /* for the job actions */
	const char *verb;      /* for the job actions: "paused" */
	const char *synopsis;  /* arguments, after the name */
	const char *summary;   /* one line for migratectl --help */
	const char *help;      /* description and options */
};

static void
args_clear(struct args *a)
{
	json_decref(a->tenants);
	json_decref(a->steps);
	memset(a, 0, sizeof(*a));
}

int
cmd_usage_error(const char *command, const char *fmt, ...)
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
	return CMD_EXIT_USAGE;
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

__attribute__((warn_unused_result)) static int
append_string(json_t **array, const char *text, size_t len)
{
	if (*array == NULL)
		*array = json_array();
	if (*array == NULL ||
	    json_array_append_new(*array, json_stringn(text, len)) < 0) {
		fputs("migratectl: out of memory\n", stderr);
		return -1;
	}
	return 0;
}

/* --steps a,b: names separated by commas, blanks around them ignored. */
static int
add_steps(const struct cmd *cmd, struct args *a, const char *list)
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
			return cmd_usage_error(cmd->name,
			                       "--steps: empty step name in '%s'", list);
		if (append_string(&a->steps, start, (size_t)(end - start)) < 0)
			return CMD_EXIT_DAEMON;
		if (p[len] == '\0')
			return CMD_EXIT_OK;
		p += len + 1;
	}
}

static int
number_arg(const struct cmd *cmd, const char *opt, const char *text,
           long long min, long long max, long long *out, bool *has)
{
	if (parse_int(text, min, max, out) < 0)
		return cmd_usage_error(cmd->name,
		                       "--%s: '%s' is not a whole number from %lld "
		                       "to %lld",
		                       opt, text, min, max);
	*has = true;
	return CMD_EXIT_OK;
}

static int
state_arg(const struct cmd *cmd, struct args *a, const char *text)
{
	char known[256] = "";
	size_t used = 0;

	for (size_t i = 0; out_job_state(i) != NULL; i++) {
		if (strcmp(text, out_job_state(i)) == 0) {
			a->state = text;
			return CMD_EXIT_OK;
		}
		used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s",
		                         i ? ", " : "", out_job_state(i));
	}
	return cmd_usage_error(cmd->name, "--state: '%s' is not a job state (%s)",
	                       text, known);
}

static int
name_arg(const struct cmd *cmd, const char *opt, const char *text,
         const char **out)
{
	if (text[0] == '\0')
		return cmd_usage_error(cmd->name, "--%s: empty value", opt);
	*out = text;
	return CMD_EXIT_OK;
}

/* Handles one option of a command; returns an exit status or OK. */
static int
take_option(const struct cmd *cmd, struct cmd_global *g, struct args *a,
            int opt, const char *arg)
{
	switch (opt) {
	case 'j':
		g->json = true;
		return CMD_EXIT_OK;
	case 's':
		return name_arg(cmd, "socket", arg, &g->socket);
	case 'h':
		a->help = true;
		return CMD_EXIT_OK;
	case OPT_VAL(OPT_TENANT):
		if (arg[0] == '\0')
			return cmd_usage_error(cmd->name, "--tenant: empty tenant name");
		return append_string(&a->tenants, arg, strlen(arg)) < 0
		           ? CMD_EXIT_DAEMON
		           : CMD_EXIT_OK;
	case OPT_VAL(OPT_ALL):
		a->all = true;
		return CMD_EXIT_OK;
	case OPT_VAL(OPT_STEPS):
		return add_steps(cmd, a, arg);
	case OPT_VAL(OPT_BATCH_SIZE):
		return number_arg(cmd, "batch-size", arg, 1, BATCH_SIZE_MAX,
		                  &a->batch_size, &a->has_batch_size);
	case OPT_VAL(OPT_PRIORITY):
		return number_arg(cmd, "priority", arg, INT32_MIN, INT32_MAX,
		                  &a->priority, &a->has_priority);
	case OPT_VAL(OPT_WAIT):
		a->wait = true;
		return CMD_EXIT_OK;
	case OPT_VAL(OPT_STATE):
		return state_arg(cmd, a, arg);
	case OPT_VAL(OPT_PLAN):
		return name_arg(cmd, "plan", arg, &a->plan);
	case OPT_VAL(OPT_LIMIT):
		return number_arg(cmd, "limit", arg, 1, INT32_MAX, &a->limit,
		                  &a->has_limit);
	default:
		return cmd_usage_error(cmd->name, "unexpected option");
	}
}

int
cmd_option_error(const char *command, int c, char **argv)
{
	const char *word = argv[optind - 1];
	bool missing = c == ':';

	bool long_form = strncmp(word, "--", 2) == 0;

	/* optopt: the option's value, 0 for an unknown long option */
	if (!missing && optopt != 0 && long_form)
		return cmd_usage_error(command, "option '%s' takes no value", word);
	if (optopt > 0 && optopt < 256 && !long_form)
		return cmd_usage_error(command,
		                       missing ? "option '-%c' needs a value"
		                               : "unknown option '-%c'",
		                       optopt);
	return cmd_usage_error(command,
	                       missing ? "option '%s' needs a value"
	                               : "unknown option '%s'",
	                       word);
}

/* Names the option getopt_long rejected; "-5" is a bad job id. */
static int
bad_option(const struct cmd *cmd, int c, char **argv)
{
	const char *word = argv[optind - 1];

	if (cmd->job_args && word[0] == '-' && isdigit((unsigned char)word[1]))
		return cmd_usage_error(cmd->name,
		                       "'%s' is not a job id (a positive whole "
		                       "number)",
		                       word);
	return cmd_option_error(cmd->name, c, argv);
}

static int
parse_args(const struct cmd *cmd, struct cmd_global *g, int argc, char **argv,
           struct args *a)
{
	struct option longopts[OPT_COUNT + NCOMMON + 1];
	size_t n = 0;
	int c;

	memset(longopts, 0, sizeof(longopts));
	for (size_t i = 0; i < OPT_COUNT; i++)
		if (cmd->opts & OPT_BIT(i))
			longopts[n++] = cmd_options[i];
	for (size_t i = 0; i < NCOMMON; i++)
		longopts[n++] = common_options[i];

	optind = 0;            /* glibc: start afresh after main's parsing */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":js:h", longopts, NULL)) != -1) {
		int rc;

		if (c == '?' || c == ':')
			return bad_option(cmd, c, argv);
		rc = take_option(cmd, g, a, c, optarg);
		if (rc != CMD_EXIT_OK)
			return rc;
		if (a->help)
			return CMD_EXIT_OK;
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	return CMD_EXIT_OK;
}

/* Checks the number of positional arguments; what names the missing one. */
static int
check_npos(const struct cmd *cmd, const struct args *a, int min, int max,
           const char *what)
{
	if (a->npos < min)
		return cmd_usage_error(cmd->name, "missing %s", what);
	if (a->npos > max)
		return cmd_usage_error(cmd->name, "unexpected argument '%s'",
		                       a->pos[max]);
	return CMD_EXIT_OK;
}

/* The positional arguments as job ids; *ids is NULL when there are none. */
static int
job_ids(const struct cmd *cmd, const struct args *a, json_t **ids)
{
	*ids = NULL;
	if (a->npos == 0)
		return CMD_EXIT_OK;
	*ids = json_array();
	for (int i = 0; i < a->npos; i++) {
		long long id;

		if (parse_int(a->pos[i], 1, INT64_MAX, &id) < 0) {
			json_decref(*ids);
			*ids = NULL;
			return cmd_usage_error(cmd->name,
			                       "'%s' is not a job id (a positive "
			                       "whole number)",
			                       a->pos[i]);
		}
		if (*ids == NULL ||
		    json_array_append_new(*ids, json_integer(id)) < 0) {
			fputs("migratectl: out of memory\n", stderr);
			json_decref(*ids);
			*ids = NULL;
			return CMD_EXIT_DAEMON;
		}
	}
	return CMD_EXIT_OK;
}

/* ---- calls ------------------------------------------------------------ */

static int
connect_daemon(struct ctx *ctx)
{
	char err[512];

	if (ctx->client != NULL)
		return CMD_EXIT_OK;
	ctx->client = client_connect(ctx->global->socket, err, sizeof(err));
	if (ctx->client == NULL) {
		fprintf(stderr, "migratectl: %s\n", err);
		return CMD_EXIT_CONNECT;
	}
	return CMD_EXIT_OK;
}

static int
daemon_error(const struct vl_reply *reply)
{
	char text[1024];

	out_error_text(reply->error, reply->parameters, text, sizeof(text));
	fprintf(stderr, "migratectl: %s: %s\n", reply->error, text);
	return CMD_EXIT_DAEMON;
}

static int
malformed(const char *method, const char *what)
{
	fprintf(stderr, "migratectl: malformed reply from migrated: %s %s\n",
	        method, what);
	return CMD_EXIT_CONNECT;
}

/*
 * Calls method (parameters stolen) and checks that the reply carries key of
 * type. On success *reply holds the reply (the caller clears it) and *value
 * points into it; otherwise the problem is printed and the exit status
 * returned.
 */
static int
call(struct ctx *ctx, const char *method, json_t *parameters,
     const char *key, json_type type, struct vl_reply *reply,
     const json_t **value)
{
	char err[512];
	char what[128];
	int rc = connect_daemon(ctx);

	memset(reply, 0, sizeof(*reply));
	if (rc != CMD_EXIT_OK) {
		json_decref(parameters);
		return rc;
	}
	if (client_call_once(ctx->client, method, parameters, reply, err,
	                     sizeof(err)) < 0) {
		fprintf(stderr, "migratectl: %s\n", err);
		return CMD_EXIT_CONNECT;
	}
	if (reply->error != NULL)
		rc = daemon_error(reply);
	else if ((*value = json_object_get(reply->parameters, key)) == NULL ||
	         json_typeof(*value) != type) {
		snprintf(what, sizeof(what), "has no \"%s\" %s", key,
		         type == JSON_ARRAY ? "array" : "object");
		rc = malformed(method, what);
	}
	if (rc != CMD_EXIT_OK)
		vl_reply_clear(reply);
	return rc;
}

static int
written(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "migratectl: cannot write output: %s\n",
		        strerror(errno));
		return CMD_EXIT_DAEMON;
	}
	return CMD_EXIT_OK;
}

/* After an output function failed: says why. */
static int
output_failed(void)
{
	if (written() == CMD_EXIT_OK)
		fputs("migratectl: out of memory\n", stderr);
	return CMD_EXIT_DAEMON;
}

/* Shows the reply's parameters as JSON, or value for humans. */
static int
show(struct ctx *ctx, const struct vl_reply *reply, const json_t *value,
     int (*human)(FILE *f, const json_t *value))
{
	int rc;

	if (ctx->global->json)
		rc = out_json(stdout, reply->parameters);
	else
		rc = human(stdout, value);
	return rc < 0 ? output_failed() : written();
}

/* Shows job ids from a reply: "Paused 2 jobs: 4, 5." */
static int
show_ids(struct ctx *ctx, const struct vl_reply *reply, const json_t *ids,
         const char *verb)
{
	if (ctx->global->json)
		return out_json(stdout, reply->parameters) < 0 ? output_failed()
		                                               : written();
	out_job_ids(stdout, verb, ids);
	return written();
}

/* A call with one reply shown as it is. */
static int
call_and_show(struct ctx *ctx, const char *method, json_t *parameters,
              const char *key, json_type type,
              int (*human)(FILE *f, const json_t *value))
{
	struct vl_reply reply;
	const json_t *value = NULL;
	int rc = call(ctx, method, parameters, key, type, &reply, &value);

	if (rc != CMD_EXIT_OK)
		return rc;
	rc = show(ctx, &reply, value, human);
	vl_reply_clear(&reply);
	return rc;
}

/* Every element of ids must be a positive integer. */
static bool
valid_ids(const json_t *ids)
{
	size_t i;
	const json_t *id;

	json_array_foreach((json_t *)ids, i, id) {
		if (!json_is_integer(id) || json_integer_value(id) <= 0)
			return false;
	}
	return true;
}

/* ---- watching --------------------------------------------------------- */

struct watch {
	struct out_progress *progress; /* NULL: one JSON line per update */
	json_t *last;          /* job id (as text) -> latest Job */
	struct vl_reply error; /* the daemon's error reply, if any */
	const char *bad;       /* why a reply is malformed */
	bool write_failed;
};

static int
on_watch_reply(struct vl_reply *reply, void *arg)
{
	struct watch *w = arg;
	json_t *job = json_object_get(reply->parameters, "job");
	char key[32];
	int rc;

	if (reply->error != NULL) {
		w->error = *reply;
		memset(reply, 0, sizeof(*reply));
		return 0;
	}
	/* The last reply may carry no job (or null) when none was left. */
	if ((job == NULL || json_is_null(job)) && !reply->continues)
		return 0;
	if (!json_is_object(job) ||
	    !json_is_integer(json_object_get(job, "id"))) {
		w->bad = "has no \"job\" object with an \"id\"";
		return 1;
	}
	snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT,
	         json_integer_value(json_object_get(job, "id")));
	if (json_object_set(w->last, key, job) < 0) {
		w->bad = "cannot be stored (out of memory)";
		return 1;
	}
	if (w->progress != NULL) {
		rc = out_progress_update(w->progress, job);
		if (rc == 0)
			rc = out_progress_draw(w->progress, !reply->continues);
	} else {
		rc = out_json_line(stdout, job);
	}
	if (rc < 0) {
		w->write_failed = true;
		return 1;
	}
	return 0;
}

/*
 * Streams the jobs in ids (stolen; NULL: every unfinished job) until they
 * have ended. On success, w->last holds each job's latest state.
 */
static int
watch(struct ctx *ctx, json_t *ids, struct watch *w)
{
	char err[512];
	int rc = connect_daemon(ctx);
	json_t *params = json_object();

	memset(w, 0, sizeof(*w));
	w->last = json_object();
	if (!ctx->global->json && isatty(STDOUT_FILENO))
		w->progress = out_progress_new(stdout);
	if (rc != CMD_EXIT_OK || params == NULL || w->last == NULL) {
		json_decref(ids);
		json_decref(params);
		return rc != CMD_EXIT_OK ? rc : CMD_EXIT_DAEMON;
	}
	if (ids != NULL)
		json_object_set_new(params, "ids", ids);
	rc = client_call(ctx->client, IFACE "Watch", params, true,
	                 on_watch_reply, w, err, sizeof(err));
	if (w->progress != NULL && out_progress_draw(w->progress, true) < 0)
		w->write_failed = true;
	if (rc < 0) {
		fprintf(stderr, "migratectl: %s\n", err);
		return CMD_EXIT_CONNECT;
	}
	if (w->bad != NULL)
		return malformed(IFACE "Watch", w->bad);
	if (w->error.error != NULL)
		return daemon_error(&w->error);
	if (w->write_failed)
		return output_failed();
	if (w->progress != NULL && json_object_size(w->last) == 0)
		puts("No job to watch.");
	return written();
}

static void
watch_clear(struct watch *w)
{
	out_progress_free(w->progress);
	json_decref(w->last);
	vl_reply_clear(&w->error);
	memset(w, 0, sizeof(*w));
}

/* The latest state of job id: from the watch, or asked for if unfinished. */
static int
final_job(struct ctx *ctx, struct watch *w, json_int_t id, json_t **job)
{
	char key[32];
	struct vl_reply reply;
	const json_t *value;
	int rc;

	snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, id);
	*job = json_object_get(w->last, key);
	if (*job != NULL &&
	    out_state_ended(json_string_value(json_object_get(*job, "state"))))
		return CMD_EXIT_OK;
	rc = call(ctx, IFACE "ShowJob", json_pack("{s:I}", "id", id), "job",
	          JSON_OBJECT, &reply, &value);
	if (rc != CMD_EXIT_OK)
		return rc;
	json_object_set(w->last, key, (json_t *)value);
	*job = json_object_get(w->last, key);
	vl_reply_clear(&reply);
	return CMD_EXIT_OK;
}

/* After submit --wait: reports every job that did not succeed. */
static int
check_outcome(struct ctx *ctx, const json_t *ids, struct watch *w)
{
	int result = CMD_EXIT_OK;
	size_t i;
	const json_t *id;

	json_array_foreach((json_t *)ids, i, id) {
		json_t *job;
		int rc = final_job(ctx, w, json_integer_value(id), &job);

		if (rc != CMD_EXIT_OK)
			return rc;
		const char *state = json_string_value(json_object_get(job, "state"));
		const char *error = json_string_value(json_object_get(job, "error"));
		const char *tenant = json_string_value(json_object_get(job, "tenant"));
		if (state != NULL && strcmp(state, "succeeded") == 0)
			continue;
		fprintf(stderr, "migratectl: job %" JSON_INTEGER_FORMAT
		                " (tenant %s) %s%s%s\n",
		        json_integer_value(id),
		        tenant != NULL ? tenant : "?",
		        state != NULL ? state : "did not succeed",
		        error != NULL ? ": " : "", error != NULL ? error : "");
		result = CMD_EXIT_JOB_FAILED;
	}
	return result;
}

/* ---- commands --------------------------------------------------------- */

static int
run_status(struct ctx *ctx, struct args *a)
{
	int rc = check_npos(ctx->cmd, a, 0, 0, "");

	if (rc != CMD_EXIT_OK)
		return rc;
	return call_and_show(ctx, IFACE "GetStatus", NULL, "status", JSON_OBJECT,
	                     out_status);
}

static int
run_plans(struct ctx *ctx, struct args *a)
{
	int rc = check_npos(ctx->cmd, a, 0, 1, "");

	if (rc != CMD_EXIT_OK)
		return rc;
	if (a->npos == 0)
		return call_and_show(ctx, IFACE "ListPlans", NULL, "plans",
		                     JSON_ARRAY, out_plans);
	return call_and_show(ctx, IFACE "ShowPlan",
	                     json_pack("{s:s}", "name", a->pos[0]), "plan",
	                     JSON_OBJECT, out_plan);
}

static json_t *
submit_params(const struct args *a)
{
	json_t *p = json_pack("{s:s}", "plan", a->pos[0]);

	if (p == NULL)
		return NULL;
	if (a->tenants != NULL)
		json_object_set(p, "tenants", a->tenants);
	if (a->all)
		json_object_set_new(p, "all", json_true());
	if (a->steps != NULL)
		json_object_set(p, "steps", a->steps);
	if (a->has_batch_size)
		json_object_set_new(p, "batch_size", json_integer(a->batch_size));
	if (a->has_priority)
		json_object_set_new(p, "priority", json_integer(a->priority));
	return p;
}

static int
run_submit(struct ctx *ctx, struct args *a)
{
	const struct cmd *cmd = ctx->cmd;
	struct vl_reply reply;
	const json_t *ids = NULL;
	struct watch w;
	int rc = check_npos(cmd, a, 1, 1, "PLAN");

	if (rc != CMD_EXIT_OK)
		return rc;
	if (a->tenants != NULL && a->all)
		return cmd_usage_error(cmd->name,
		                       "--tenant and --all exclude each other");
	if (a->tenants == NULL && !a->all)
		return cmd_usage_error(cmd->name,
		                       "give the tenants with --tenant T (once per "
		                       "tenant) or --all");
	rc = call(ctx, IFACE "Submit", submit_params(a), "jobs", JSON_ARRAY,
	          &reply, &ids);
	if (rc != CMD_EXIT_OK)
		return rc;
	if (!valid_ids(ids))
		rc = malformed(IFACE "Submit", "has job ids that are not positive "
		                               "integers");
	if (rc == CMD_EXIT_OK)
		rc = show_ids(ctx, &reply, ids, "submitted");
	/* With no job queued, Watch would follow every unfinished job. */
	if (rc == CMD_EXIT_OK && a->wait && json_array_size(ids) > 0) {
		rc = watch(ctx, json_deep_copy(ids), &w);
		if (rc == CMD_EXIT_OK)
			rc = check_outcome(ctx, ids, &w);
		watch_clear(&w);
	}
	vl_reply_clear(&reply);
	return rc;
}

static int
run_list(struct ctx *ctx, struct args *a)
{
	int rc = check_npos(ctx->cmd, a, 0, 0, "");
	json_t *p;

	if (rc != CMD_EXIT_OK)
		return rc;
	if (json_array_size(a->tenants) > 1)
		return cmd_usage_error(ctx->cmd->name,
		                       "--tenant may be given only once");
	p = json_object();
	if (p == NULL)
		return CMD_EXIT_DAEMON;
	if (a->state != NULL)
		json_object_set_new(p, "state", json_string(a->state));
	if (a->plan != NULL)
		json_object_set_new(p, "plan", json_string(a->plan));
	if (a->tenants != NULL)
		json_object_set(p, "tenant", json_array_get(a->tenants, 0));
	if (a->has_limit)
		json_object_set_new(p, "limit", json_integer(a->limit));
	return call_and_show(ctx, IFACE "ListJobs", p, "jobs", JSON_ARRAY,
	                     out_jobs);
}

static int
run_show(struct ctx *ctx, struct args *a)
{
	json_t *ids;
	int rc = check_npos(ctx->cmd, a, 1, 1, "JOB");

	if (rc == CMD_EXIT_OK)
		rc = job_ids(ctx->cmd, a, &ids);
	if (rc != CMD_EXIT_OK)
		return rc;
	rc = call_and_show(ctx, IFACE "ShowJob",
	                   json_pack("{s:O}", "id", json_array_get(ids, 0)), "job",
	                   JSON_OBJECT, out_job);
	json_decref(ids);
	return rc;
}

static int
run_watch(struct ctx *ctx, struct args *a)
{
	struct watch w;
	json_t *ids;
	int rc = job_ids(ctx->cmd, a, &ids);

	if (rc != CMD_EXIT_OK)
		return rc;
	rc = watch(ctx, ids, &w);
	watch_clear(&w);
	return rc;
}

/* pause, resume, cancel, retry: (JOB ... | --all) -> (jobs) */
static int
run_action(struct ctx *ctx, struct args *a)
{
	const struct cmd *cmd = ctx->cmd;
	struct vl_reply reply;
	const json_t *done = NULL;
	json_t *ids;
	json_t *p;
	int rc;

	if (a->npos > 0 && a->all)
		return cmd_usage_error(cmd->name, "job ids and --all exclude each "
		                                  "other");
	if (a->npos == 0 && !a->all)
		return cmd_usage_error(cmd->name, "give job ids or --all");
	rc = job_ids(cmd, a, &ids);
	if (rc != CMD_EXIT_OK)
		return rc;
	p = ids != NULL ? json_pack("{s:o}", "ids", ids)
	                : json_pack("{s:b}", "all", 1);
	rc = call(ctx, cmd->method, p, "jobs", JSON_ARRAY, &reply, &done);
	if (rc != CMD_EXIT_OK)
		return rc;
	if (!valid_ids(done))
		rc = malformed(cmd->method, "has job ids that are not positive "
		                            "integers");
	else
		rc = show_ids(ctx, &reply, done, cmd->verb);
	vl_reply_clear(&reply);
	return rc;
}

#define COMMON_HELP                                                          \
	"  -j, --json         print JSON for scripts instead of text\n"          \
	"  -s, --socket PATH  the daemon's socket\n"                            \
	"  -h, --help         show this help\n"

static const struct cmd commands[] = {
	{"status", run_status, 0, false, NULL, NULL, "",
	 "show the daemon's version, database, workers and job totals",
	 "Shows the state of the daemon: version, pid, uptime, database\n"
	 "connection, busy workers, plans loaded, jobs by state, rows done\n"
	 "and rows per second over the last minute.\n"},
	{"plans", run_plans, 0, false, NULL, NULL, "[NAME]",
	 "list the plans, or show plan NAME with its steps",
	 "Without NAME lists the plans loaded from plan_dir; with NAME shows\n"
	 "that plan: its file, parameters, checks, verifications and steps.\n"},
	{"submit", run_submit,
	 OPT_BIT(OPT_TENANT) | OPT_BIT(OPT_ALL) | OPT_BIT(OPT_STEPS) |
	     OPT_BIT(OPT_BATCH_SIZE) | OPT_BIT(OPT_PRIORITY) | OPT_BIT(OPT_WAIT),
	 false, NULL, NULL,
	 "PLAN (--tenant T ... | --all) [--steps A,B] [--batch-size N] "
	 "[--priority P] [--wait]",
	 "queue one job per tenant for a plan",
	 "Queues one job per tenant for plan PLAN and prints the new job ids.\n"
	 "\n"
	 "  --tenant T         migrate tenant T; repeat for several tenants\n"
	 "  --all              migrate every tenant the plan's tenants query "
	 "lists\n"
	 "  --steps A,B        run only these steps (in dependency order)\n"
	 "  --batch-size N     rows per batch (1 to 1000000) instead of the "
	 "plan's\n"
	 "  --priority P       higher runs first (default 0)\n"
	 "  --wait             show progress until every job ended; exit 4 if "
	 "one\n"
	 "                     did not succeed\n"},
	{"list", run_list,
	 OPT_BIT(OPT_STATE) | OPT_BIT(OPT_PLAN) | OPT_BIT(OPT_TENANT) |
	     OPT_BIT(OPT_LIMIT),
	 false, NULL, NULL, "[--state S] [--plan P] [--tenant T] [--limit N]",
	 "list jobs, newest first",
	 "Lists jobs, newest first.\n"
	 "\n"
	 "  --state S          only jobs in state S (queued, running, paused,\n"
	 "                     succeeded, failed, cancelled)\n"
	 "  --plan P           only jobs of plan P\n"
	 "  --tenant T         only jobs for tenant T\n"
	 "  --limit N          at most N jobs\n"},
	{"show", run_show, 0, true, NULL, NULL, "JOB",
	 "show one job with the progress of each step",
	 "Shows job JOB: plan, tenant, state, error, times and the progress of\n"
	 "each step with its checkpoint.\n"},
	{"watch", run_watch, 0, true, NULL, NULL, "[JOB ...]",
	 "follow jobs until they have ended",
	 "Follows the given jobs, or every unfinished job, until they have\n"
	 "all ended. On a terminal one line per job is redrawn with a progress\n"
	 "bar, rows done and estimated, rows per second and the time left;\n"
	 "otherwise (or with --json) each update is printed as one line of\n"
	 "JSON.\n"},
	{"pause", run_action, OPT_BIT(OPT_ALL), true, IFACE "Pause", "paused",
	 "(JOB ... | --all)", "pause jobs; a running job stops after its batch",
	 "Pauses queued or running jobs; a running job stops after its current\n"
	 "batch. Prints the jobs that were paused.\n"
	 "\n"
	 "  --all              every queued or running job\n"},
	{"resume", run_action, OPT_BIT(OPT_ALL), true, IFACE "Resume", "resumed",
	 "(JOB ... | --all)", "put paused jobs back in the queue",
	 "Puts paused jobs back in the queue. Prints the jobs that were\n"
	 "resumed.\n"
	 "\n"
	 "  --all              every paused job\n"},
	{"cancel", run_action, OPT_BIT(OPT_ALL), true, IFACE "Cancel", "cancelled",
	 "(JOB ... | --all)", "cancel jobs that have not ended",
	 "Cancels jobs that have not ended. Work already committed stays.\n"
	 "\n"
	 "  --all              every job that has not ended\n"},
	{"retry", run_action, OPT_BIT(OPT_ALL), true, IFACE "Retry", "retried",
	 "(JOB ... | --all)", "queue failed or cancelled jobs again",
	 "Queues failed or cancelled jobs again; they continue from their\n"
	 "checkpoint.\n"
	 "\n"
	 "  --all              every failed or cancelled job\n"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct cmd *
cmd_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void
cmd_list(FILE *f)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
}

static void
print_help(const struct cmd *cmd)
{
	printf("Usage: migratectl [-s PATH] [-j] %s%s%s\n\n%s\nOptions:\n%s",
	       cmd->name, cmd->synopsis[0] ? " " : "", cmd->synopsis, cmd->help,
	       COMMON_HELP);
}

int
cmd_run(const struct cmd *cmd, struct cmd_global *global, int argc,
        char **argv)
{
	struct args a;
	struct ctx ctx = {.cmd = cmd, .global = global};
	int rc;

	memset(&a, 0, sizeof(a));
	rc = parse_args(cmd, global, argc, argv, &a);
	if (rc == CMD_EXIT_OK && a.help) {
		print_help(cmd);
		rc = written();
	} else if (rc == CMD_EXIT_OK) {
		rc = cmd->run(&ctx, &a);
	}
	client_free(ctx.client);
	args_clear(&a);
	return rc;
}
