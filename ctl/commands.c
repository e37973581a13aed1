#include "commands.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "args.h"
#include "output.h"
#include "report.h"
#include "session.h"
#include "value.h"
#include "vl_message.h"
#include "watch.h"

#define IFACE "io.migrated."

struct ctx {
	const struct cmd *cmd;
	struct session session;
};

struct cmd {
	struct args_spec spec; /* name, options, positional job ids */
	int (*run)(struct ctx *ctx, struct args *a);
	const char *method;   /* for the job actions */
	const char *verb;     /* for the job actions: "paused" */
	const char *synopsis; /* arguments, after the name */
	const char *summary;  /* one line for migratectl --help */
	const char *help;     /* description and options */
};

/* ---- helpers ----------------------------------------------------------- */

static void
set_str(json_t *p, const char *key, const char *value)
{
	if (value != NULL)
		json_object_set_new(p, key, json_string(value));
}

static void
set_int(json_t *p, const char *key, bool has, long long value)
{
	if (has)
		json_object_set_new(p, key, json_integer(value));
}

static void
set_true(json_t *p, const char *key, bool value)
{
	if (value)
		json_object_set_new(p, key, json_true());
}

/* PLAN (--tenant T ... | --all), as submit and validate take them. */
static int
check_tenants(const struct args *a)
{
	int rc = args_check_npos(a, 1, 1, "PLAN");

	if (rc != CMD_EXIT_OK)
		return rc;
	if (a->tenants != NULL && a->all)
		return args_usage_error(
		        a->command, "--tenant and --all exclude each other");
	if (a->tenants == NULL && !a->all)
		return args_usage_error(
		        a->command,
		        "give the tenants with --tenant T (once per "
		        "tenant) or --all");
	return CMD_EXIT_OK;
}

/* {plan, tenants} or {plan, all}; NULL when out of memory. */
static json_t *
tenants_params(const struct args *a)
{
	json_t *p = json_pack("{s:s}", "plan", a->pos[0]);

	if (p == NULL)
		return NULL;
	if (a->tenants != NULL)
		json_object_set(p, "tenants", a->tenants);
	set_true(p, "all", a->all);
	return p;
}

/*
 * JOB, or PLAN --tenant T for the latest job of a plan and tenant, as
 * Verify and Rollback take them: {id} or {plan, tenant} in *p.
 */
static int
target_params(const struct args *a, json_t **p)
{
	const char *tenant;
	int rc = args_check_npos(a, 1, 1, "JOB, or PLAN with --tenant T");

	if (rc == CMD_EXIT_OK)
		rc = args_one_tenant(a, &tenant);
	if (rc != CMD_EXIT_OK)
		return rc;
	if (tenant != NULL)
		*p = json_pack("{s:s, s:s}", "plan", a->pos[0], "tenant",
		               tenant);
	else if (args_is_job_id(a->pos[0]))
		*p = json_pack("{s:I}", "id",
		               (json_int_t)strtoll(a->pos[0], NULL, 10));
	else
		return args_usage_error(
		        a->command,
		        "'%s' is not a job id; for the latest job "
		        "of a plan give PLAN --tenant T",
		        a->pos[0]);
	if (*p == NULL) {
		fputs("migratectl: out of memory\n", stderr);
		return CMD_EXIT_DAEMON;
	}
	return CMD_EXIT_OK;
}

/*
 * Calls method on a target from target_params (borrowed); a plan and
 * tenant without a job is reported as such.
 */
static int
call_target(struct ctx *ctx, const char *method, const json_t *target,
            const char *key, json_type type, struct vl_reply *reply,
            const json_t **value)
{
	int rc = session_call_raw(&ctx->session, method, json_deep_copy(target),
	                          reply);

	if (rc != CMD_EXIT_OK)
		return rc;
	if (reply->error != NULL &&
	    strcmp(reply->error, IFACE "NoSuchJob") == 0 &&
	    value_get(target, "plan") != NULL) {
		fprintf(stderr,
		        "migratectl: %s: plan '%s' has no job for tenant '%s'\n",
		        reply->error, value_str(target, "plan"),
		        value_str(target, "tenant"));
		vl_reply_clear(reply);
		return CMD_EXIT_DAEMON;
	}
	return session_check(method, reply, key, type, value);
}

/*
 * --wait: follows the jobs until they have ended, then reports those that
 * did not succeed (CMD_EXIT_FAILED) and what dry runs would change.
 */
static int
wait_jobs(struct ctx *ctx, const json_t *ids)
{
	struct watch w;
	json_t *jobs = NULL;
	int rc = watch_jobs(&ctx->session, json_deep_copy(ids), &w);

	if (rc == CMD_EXIT_OK)
		rc = watch_outcome(&ctx->session, ids, &w, &jobs);
	if ((rc == CMD_EXIT_OK || rc == CMD_EXIT_FAILED) &&
	    !ctx->session.global->json) {
		if (out_dry_run(stdout, jobs) < 0)
			rc = session_output_failed();
		else if (session_written() != CMD_EXIT_OK)
			rc = CMD_EXIT_DAEMON;
	}
	json_decref(jobs);
	watch_clear(&w);
	return rc;
}

/* ---- commands ---------------------------------------------------------- */

static int
run_status(struct ctx *ctx, struct args *a)
{
	int rc = args_check_npos(a, 0, 0, "");

	if (rc != CMD_EXIT_OK)
		return rc;
	return session_call_and_show(&ctx->session, IFACE "GetStatus", NULL,
	                             "status", JSON_OBJECT, out_status);
}

static int
run_plans(struct ctx *ctx, struct args *a)
{
	int rc = args_check_npos(a, 0, 1, "");

	if (rc != CMD_EXIT_OK)
		return rc;
	if (a->npos == 0)
		return session_call_and_show(&ctx->session, IFACE "ListPlans",
		                             NULL, "plans", JSON_ARRAY,
		                             out_plans);
	return session_call_and_show(&ctx->session, IFACE "ShowPlan",
	                             json_pack("{s:s}", "name", a->pos[0]),
	                             "plan", JSON_OBJECT, out_plan);
}

static json_t *
submit_params(const struct args *a)
{
	json_t *p = tenants_params(a);

	if (p == NULL)
		return NULL;
	if (a->steps != NULL)
		json_object_set(p, "steps", a->steps);
	set_int(p, "batch_size", a->has_batch_size, a->batch_size);
	set_int(p, "priority", a->has_priority, a->priority);
	set_true(p, "dry_run", a->dry_run);
	set_true(p, "skip_checks", a->skip_checks);
	return p;
}

static int
run_submit(struct ctx *ctx, struct args *a)
{
	struct vl_reply reply;
	const json_t *ids = NULL;
	int rc = check_tenants(a);

	if (rc != CMD_EXIT_OK)
		return rc;
	rc = session_call(&ctx->session, IFACE "Submit", submit_params(a),
	                  "jobs", JSON_ARRAY, &reply, &ids);
	if (rc != CMD_EXIT_OK)
		return rc;
	if (!session_valid_ids(ids))
		rc = session_malformed(IFACE "Submit",
		                       "has job ids that are not "
		                       "positive integers");
	if (rc == CMD_EXIT_OK)
		rc = session_show_ids(&ctx->session, &reply, ids, "submitted");
	/* With no job queued, Watch would follow every unfinished job. */
	if (rc == CMD_EXIT_OK && a->wait && json_array_size(ids) > 0)
		rc = wait_jobs(ctx, ids);
	vl_reply_clear(&reply);
	return rc;
}

static int
run_list(struct ctx *ctx, struct args *a)
{
	const char *tenant;
	int rc = args_check_npos(a, 0, 0, "");
	json_t *p;

	if (rc == CMD_EXIT_OK)
		rc = args_one_tenant(a, &tenant);
	if (rc != CMD_EXIT_OK)
		return rc;
	p = json_object();
	if (p == NULL)
		return CMD_EXIT_DAEMON;
	set_str(p, "state", a->state);
	set_str(p, "plan", a->plan);
	set_str(p, "tenant", tenant);
	set_int(p, "limit", a->has_limit, a->limit);
	set_int(p, "before", a->has_before, a->before);
	return session_call_and_show(&ctx->session, IFACE "ListJobs", p, "jobs",
	                             JSON_ARRAY, out_jobs);
}

static int
run_show(struct ctx *ctx, struct args *a)
{
	json_t *ids;
	int rc = args_check_npos(a, 1, 1, "JOB");

	if (rc == CMD_EXIT_OK)
		rc = args_job_ids(a, &ids);
	if (rc != CMD_EXIT_OK)
		return rc;
	rc = session_call_and_show(
	        &ctx->session, IFACE "ShowJob",
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
	int rc = args_job_ids(a, &ids);

	if (rc != CMD_EXIT_OK)
		return rc;
	rc = watch_jobs(&ctx->session, ids, &w);
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
		return args_usage_error(a->command, "job ids and --all exclude "
		                                    "each other");
	if (a->npos == 0 && !a->all)
		return args_usage_error(a->command, "give job ids or --all");
	rc = args_job_ids(a, &ids);
	if (rc != CMD_EXIT_OK)
		return rc;
	p = ids != NULL ? json_pack("{s:o}", "ids", ids)
	                : json_pack("{s:b}", "all", 1);
	rc = session_call(&ctx->session, cmd->method, p, "jobs", JSON_ARRAY,
	                  &reply, &done);
	if (rc != CMD_EXIT_OK)
		return rc;
	if (!session_valid_ids(done))
		rc = session_malformed(cmd->method, "has job ids that are not "
		                                    "positive integers");
	else
		rc = session_show_ids(&ctx->session, &reply, done, cmd->verb);
	vl_reply_clear(&reply);
	return rc;
}

static int
run_validate(struct ctx *ctx, struct args *a)
{
	struct vl_reply reply;
	const json_t *results = NULL;
	size_t i;
	const json_t *result;
	int rc = check_tenants(a);

	if (rc != CMD_EXIT_OK)
		return rc;
	rc = session_call(&ctx->session, IFACE "Validate", tenants_params(a),
	                  "results", JSON_ARRAY, &reply, &results);
	if (rc != CMD_EXIT_OK)
		return rc;
	rc = session_show(&ctx->session, &reply, results, report_validation);
	json_array_foreach(results, i, result)
	{
		bool ok = json_is_true(json_object_get(result, "ok"));

		if (rc == CMD_EXIT_OK && !ok)
			rc = CMD_EXIT_FAILED;
	}
	vl_reply_clear(&reply);
	return rc;
}

static int
run_verify(struct ctx *ctx, struct args *a)
{
	struct vl_reply reply;
	const json_t *checks = NULL;
	json_t *target = NULL;
	int rc = target_params(a, &target);

	if (rc == CMD_EXIT_OK)
		rc = call_target(ctx, IFACE "Verify", target, "checks",
		                 JSON_ARRAY, &reply, &checks);
	json_decref(target);
	if (rc != CMD_EXIT_OK)
		return rc;
	rc = session_show(&ctx->session, &reply, reply.parameters,
	                  report_verification);
	if (rc == CMD_EXIT_OK &&
	    !json_is_true(json_object_get(reply.parameters, "ok")))
		rc = CMD_EXIT_FAILED;
	vl_reply_clear(&reply);
	return rc;
}

static int
run_rollback(struct ctx *ctx, struct args *a)
{
	struct vl_reply reply;
	const json_t *job = NULL;
	json_t *target = NULL;
	int rc = target_params(a, &target);

	memset(&reply, 0, sizeof(reply));
	if (rc != CMD_EXIT_OK)
		return rc;
	set_int(target, "priority", a->has_priority, a->priority);
	rc = call_target(ctx, IFACE "Rollback", target, "job", JSON_INTEGER,
	                 &reply, &job);
	if (rc == CMD_EXIT_OK && json_integer_value(job) <= 0)
		rc = session_malformed(IFACE "Rollback",
		                       "has a job id that is not "
		                       "a positive integer");
	if (rc == CMD_EXIT_OK && ctx->session.global->json)
		rc = out_json(stdout, reply.parameters) < 0
		             ? session_output_failed()
		             : session_written();
	else if (rc == CMD_EXIT_OK) {
		report_rollback_queued(stdout, json_integer_value(job), target);
		rc = session_written();
	}
	if (rc == CMD_EXIT_OK && a->wait) {
		json_t *ids = json_pack("[O]", job);

		rc = ids != NULL ? wait_jobs(ctx, ids)
		                 : session_output_failed();
		json_decref(ids);
	}
	vl_reply_clear(&reply);
	json_decref(target);
	return rc;
}

/* backups --drop (JOB ... | --older-than DAYS) */
static int
drop_backups(struct ctx *ctx, struct args *a)
{
	json_t *ids = NULL;
	json_t *p;
	int rc;

	if (a->has_job || a->plan != NULL || a->tenants != NULL)
		return args_usage_error(
		        a->command, "--job, --plan and --tenant choose backups "
		                    "to list; --drop takes job ids or "
		                    "--older-than");
	if (a->npos > 0 && a->has_older_than)
		return args_usage_error(a->command, "job ids and --older-than "
		                                    "exclude each other");
	if (a->npos == 0 && !a->has_older_than)
		return args_usage_error(
		        a->command,
		        "--drop: give job ids or --older-than DAYS");
	rc = args_job_ids(a, &ids);
	if (rc != CMD_EXIT_OK)
		return rc;
	p = ids != NULL ? json_pack("{s:o}", "jobs", ids)
	                : json_pack("{s:I}", "older_than_days",
	                            (json_int_t)a->older_than);
	return session_call_and_show(&ctx->session, IFACE "DropBackups", p,
	                             "dropped", JSON_INTEGER, report_dropped);
}

static int
run_backups(struct ctx *ctx, struct args *a)
{
	const char *tenant;
	json_t *p;
	int rc;

	if (a->drop)
		return drop_backups(ctx, a);
	if (a->npos > 0)
		return args_usage_error(a->command,
		                        "unexpected argument '%s'; to drop the "
		                        "backups of jobs add --drop",
		                        a->pos[0]);
	if (a->has_older_than)
		return args_usage_error(a->command,
		                        "--older-than needs --drop");
	rc = args_one_tenant(a, &tenant);
	if (rc != CMD_EXIT_OK)
		return rc;
	p = json_object();
	if (p == NULL)
		return CMD_EXIT_DAEMON;
	set_int(p, "job", a->has_job, a->job);
	set_str(p, "plan", a->plan);
	set_str(p, "tenant", tenant);
	return session_call_and_show(&ctx->session, IFACE "ListBackups", p,
	                             "backups", JSON_ARRAY, report_backups);
}

static int
run_log(struct ctx *ctx, struct args *a)
{
	int rc = args_check_npos(a, 0, 0, "");
	json_t *p;

	if (rc != CMD_EXIT_OK)
		return rc;
	p = json_object();
	if (p == NULL)
		return CMD_EXIT_DAEMON;
	set_int(p, "job", a->has_job, a->job);
	set_int(p, "limit", a->has_limit, a->limit);
	set_int(p, "before", a->has_before, a->before);
	return session_call_and_show(&ctx->session, IFACE "GetLog", p,
	                             "entries", JSON_ARRAY, report_log);
}

/* ---- the table --------------------------------------------------------- */

#define COMMON_HELP                                                            \
	"  -j, --json         print JSON for scripts instead of text\n"        \
	"  -s, --socket PATH  the daemon's socket\n"                           \
	"  -h, --help         show this help\n"

#define TENANT_HELP                                                            \
	"  --tenant T         tenant T; repeat for several tenants\n"          \
	"  --all              every tenant the plan's tenants query lists\n"

#define TARGET_HELP                                                            \
	"JOB is a job id; PLAN --tenant T names the latest job of plan PLAN\n" \
	"for tenant T.\n"

#define B(o) ARG_BIT(ARG_##o)

static const struct cmd commands[] = {
        {{"status", 0, false},
         run_status,
         NULL,
         NULL,
         "",
         "show the daemon's version, database, workers and job totals",
         "Shows the state of the daemon: version, pid, uptime, database\n"
         "connection, busy workers, plans loaded, jobs by state, rows done\n"
         "and rows per second over the last 10 seconds.\n"},
        {{"plans", 0, false},
         run_plans,
         NULL,
         NULL,
         "[NAME]",
         "list the plans, or show plan NAME with its steps",
         "Without NAME lists the plans loaded from plan_dir; with NAME shows\n"
         "that plan: its file, parameters, checks, verifications and steps.\n"},
        {{"submit",
          B(TENANT) | B(ALL) | B(STEPS) | B(BATCH_SIZE) | B(PRIORITY) |
                  B(WAIT) | B(DRY_RUN) | B(SKIP_CHECKS),
          false},
         run_submit,
         NULL,
         NULL,
         "PLAN (--tenant T ... | --all) [--steps A,B] [--batch-size N] "
         "[--priority P] [--dry-run] [--skip-checks] [--wait]",
         "queue one job per tenant for a plan",
         "Queues one job per tenant for plan PLAN and prints the new job ids.\n"
         "\n" TENANT_HELP
         "  --steps A,B        run only these steps (in dependency order)\n"
         "  --batch-size N     rows per batch (1 to 1000000) instead of the "
         "plan's\n"
         "  --priority P       higher runs first (default 0)\n"
         "  --dry-run          run every batch and roll it back, counting the "
         "rows\n"
         "                     it would change; nothing is changed\n"
         "  --skip-checks      skip the plan's [check] sections (recorded in "
         "the\n"
         "                     audit log)\n"
         "  --wait             show progress until every job ended; exit 4 if "
         "one\n"
         "                     did not succeed\n"},
        {{"list", B(STATE) | B(PLAN) | B(TENANT) | B(LIMIT) | B(BEFORE), false},
         run_list,
         NULL,
         NULL,
         "[--state S] [--plan P] [--tenant T] [--limit N] [--before ID]",
         "list jobs, newest first",
         "Lists jobs, newest first.\n"
         "\n"
         "  --state S          only jobs in state S (queued, running, paused,\n"
         "                     succeeded, failed, cancelled, rolled_back)\n"
         "  --plan P           only jobs of plan P\n"
         "  --tenant T         only jobs for tenant T\n"
         "  --limit N          at most N jobs\n"
         "  --before ID        only jobs older than job ID: the next page after\n"
         "                     a page whose last job is ID\n"},
        {{"show", 0, true},
         run_show,
         NULL,
         NULL,
         "JOB",
         "show one job with the progress of each step",
         "Shows job JOB: plan, tenant, state, error, kind, dry run, warnings,\n"
         "times, rows changed and the progress of each step with its\n"
         "checkpoint.\n"},
        {{"watch", 0, true},
         run_watch,
         NULL,
         NULL,
         "[JOB ...]",
         "follow jobs until they have ended",
         "Follows the given jobs, or every unfinished job, until they have\n"
         "all ended. On a terminal one line per job is redrawn with a progress\n"
         "bar, rows done and estimated, rows per second and the time left;\n"
         "otherwise (or with --json) each update is printed as one line of\n"
         "JSON.\n"},
        {{"pause", B(ALL), true},
         run_action,
         IFACE "Pause",
         "paused",
         "(JOB ... | --all)",
         "pause jobs; a running job stops after its batch",
         "Pauses queued or running jobs; a running job stops after its current\n"
         "batch. Prints the jobs that were paused.\n"
         "\n"
         "  --all              every queued or running job\n"},
        {{"resume", B(ALL), true},
         run_action,
         IFACE "Resume",
         "resumed",
         "(JOB ... | --all)",
         "put paused jobs back in the queue",
         "Puts paused jobs back in the queue. Prints the jobs that were\n"
         "resumed.\n"
         "\n"
         "  --all              every paused job\n"},
        {{"cancel", B(ALL), true},
         run_action,
         IFACE "Cancel",
         "cancelled",
         "(JOB ... | --all)",
         "cancel jobs that have not ended",
         "Cancels jobs that have not ended. Work already committed stays.\n"
         "\n"
         "  --all              every job that has not ended\n"},
        {{"retry", B(ALL), true},
         run_action,
         IFACE "Retry",
         "retried",
         "(JOB ... | --all)",
         "queue failed or cancelled jobs again",
         "Queues failed or cancelled jobs again; they continue from their\n"
         "checkpoint.\n"
         "\n"
         "  --all              every failed or cancelled job\n"},
        {{"validate", B(TENANT) | B(ALL), false},
         run_validate,
         NULL,
         NULL,
         "PLAN (--tenant T ... | --all)",
         "run a plan's pre-checks for tenants; change nothing",
         "Runs the [check] sections of plan PLAN for the tenants and prints,\n"
         "for each tenant, OK or FAILED and each check's severity, the value\n"
         "found and the value expected. Nothing is changed. Exits 4 if a\n"
         "tenant failed an error-level check or its checks could not run.\n"
         "\n" TENANT_HELP},
        {{"verify", B(TENANT), true},
         run_verify,
         NULL,
         NULL,
         "(JOB | PLAN --tenant T)",
         "run a job's post-verifications again",
         "Runs the [verify] sections of a job's plan again for its tenant and\n"
         "prints each one's value found and expected. Exits 4 if one did not\n"
         "hold.\n"
         "\n" TARGET_HELP},
        {{"rollback", B(TENANT) | B(PRIORITY) | B(WAIT), true},
         run_rollback,
         NULL,
         NULL,
         "(JOB | PLAN --tenant T) [--priority P] [--wait]",
         "restore what a job changed from its backups",
         "Queues a rollback job that restores the rows a finished job changed\n"
         "from the backups its steps with backup = yes stored, and prints its\n"
         "id. When it succeeds the original job becomes rolled_back.\n"
         "\n" TARGET_HELP "\n"
         "  --tenant T         with PLAN: the tenant of the job to roll back\n"
         "  --priority P       higher runs first (default 0)\n"
         "  --wait             show progress until the rollback ended; exit 4 "
         "if\n"
         "                     it did not succeed\n"},
        {{"backups", B(JOB) | B(PLAN) | B(TENANT) | B(DROP) | B(OLDER_THAN),
          true},
         run_backups,
         NULL,
         NULL,
         "[--job J] [--plan P] [--tenant T] | --drop (JOB ... | --older-than "
         "DAYS)",
         "list or drop the backups that rollbacks restore",
         "Lists the stored backups, one row per job and step, with their rows,\n"
         "size and age; or, with --drop, drops backups. A job whose backups\n"
         "are dropped cannot be rolled back any more.\n"
         "\n"
         "  --job J            only the backups of job J\n"
         "  --plan P           only those of jobs of plan P\n"
         "  --tenant T         only those of jobs for tenant T\n"
         "  --drop             drop the backups of the jobs given as arguments,\n"
         "                     or those older than --older-than\n"
         "  --older-than DAYS  with --drop: the backups of every job whose "
         "oldest\n"
         "                     backup is older than DAYS days\n"},
        {{"log", B(JOB) | B(LIMIT) | B(BEFORE), false},
         run_log,
         NULL,
         NULL,
         "[--job J] [--limit N] [--before ID]",
         "show the audit log, newest first",
         "Shows the audit log, newest first: every mutating call (who, the\n"
         "method and its parameters, the result) and every change of a job's\n"
         "state (made by the daemon).\n"
         "\n"
         "  --job J            only the entries of job J\n"
         "  --limit N          at most N entries (the daemon's default is 100)\n"
         "  --before ID        only entries older than entry ID: the next page\n"
         "                     after a page whose last entry is ID\n"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct cmd *
cmd_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].spec.command, name) == 0)
			return &commands[i];
	return NULL;
}

void
cmd_list(FILE *f)
{
	int width = 0;

	for (size_t i = 0; i < NCOMMANDS; i++)
		if ((int)strlen(commands[i].spec.command) > width)
			width = (int)strlen(commands[i].spec.command);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-*s  %s\n", width, commands[i].spec.command,
		        commands[i].summary);
}

static void
print_help(const struct cmd *cmd)
{
	printf("Usage: migratectl [-s PATH] [-j] %s%s%s\n\n%s\nOptions:\n%s",
	       cmd->spec.command, cmd->synopsis[0] ? " " : "", cmd->synopsis,
	       cmd->help, COMMON_HELP);
}

int
cmd_run(const struct cmd *cmd, struct cmd_global *global, int argc, char **argv)
{
	struct args a;
	struct ctx ctx = {.cmd = cmd, .session = {.global = global}};
	int rc;

	rc = args_parse(&cmd->spec, global, argc, argv, &a);
	if (rc == CMD_EXIT_OK && a.help) {
		print_help(cmd);
		rc = session_written();
	} else if (rc == CMD_EXIT_OK) {
		rc = cmd->run(&ctx, &a);
	}
	session_close(&ctx.session);
	args_clear(&a);
	return rc;
}
