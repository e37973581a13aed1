#include "verbs.h"

#include <string.h>

#include "args.h"
#include "cmd.h"

/* max_args: any number. */
#define VERB_ANY (-1)

/* flags */
#define VERB_JOB_IDS 0x1 /* the arguments are job ids: "-5" is a bad one */

struct verb {
	const char *name;
	/* Positional arguments; args names them when one is missing. */
	int min_args, max_args;
	const char *args;
	unsigned opts; /* the options it takes: ARG_BIT()s */
	unsigned flags;
	int (*fn)(struct cmd_ctx *ctx, struct args *a);
	/* For a handler several verbs share: see struct cmd_ctx. */
	const char *method;
	const char *done;
	const char *synopsis; /* arguments, after the name */
	const char *summary;  /* one line for migratectl --help */
	const char *help;     /* description and options */
};

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

#define TARGET_ARGS "JOB, or PLAN with --tenant T"

#define B(o) ARG_BIT(ARG_##o)

static const struct verb verbs[] = {
        {
                .name = "status",
                .fn = cmd_status,
                .synopsis = "",
                .summary = "show the daemon's version, database, workers and "
                           "job totals",
                .help = "Shows the state of the daemon: version, pid, uptime, "
                        "database\n"
                        "connection, busy workers, plans loaded, jobs by "
                        "state, rows done\n"
                        "and rows per second over the last 10 seconds.\n",
        },
        {
                .name = "plans",
                .max_args = 1,
                .fn = cmd_plans,
                .synopsis = "[NAME]",
                .summary = "list the plans, or show plan NAME with its steps",
                .help = "Without NAME lists the plans loaded from plan_dir; "
                        "with NAME shows\n"
                        "that plan: its file, parameters, checks, "
                        "verifications and steps.\n",
        },
        {
                .name = "submit",
                .min_args = 1,
                .max_args = 1,
                .args = "PLAN",
                .opts = B(TENANT) | B(ALL) | B(PAIR) | B(STEPS) | B(PARAM) |
                        B(FRESH) | B(BATCH_SIZE) | B(PRIORITY) | B(WAIT) |
                        B(DRY_RUN) | B(SKIP_CHECKS),
                .fn = cmd_submit,
                .synopsis = "PLAN (--tenant T ... | --pair OLD:NEW ... | "
                            "--all) [--steps A,B] [--param NAME=VALUE ...] "
                            "[--fresh] [--batch-size N] [--priority P] "
                            "[--dry-run] [--skip-checks] [--wait]",
                .summary = "queue one job per tenant for a plan",
                .help = "Queues one job per tenant for plan PLAN and prints "
                        "the new job ids.\n"
                        "\n" TENANT_HELP
                        "  --pair OLD:NEW     instead of tenants: one job for "
                        "legacy tenant OLD,\n"
                        "                     with NEW bound to the plan's "
                        "pair parameter;\n"
                        "                     repeat for several pairs\n"
                        "  --steps A,B        run only these steps (in "
                        "dependency order)\n"
                        "  --param NAME=VALUE bind the plan's parameter NAME "
                        "to VALUE; repeat\n"
                        "                     for several parameters\n"
                        "  --fresh            run each step's clear first, in "
                        "reverse dependency\n"
                        "                     order: a clean re-import of the "
                        "tenant\n"
                        "  --batch-size N     rows per batch (1 to 1000000) "
                        "instead of the plan's\n"
                        "  --priority P       higher runs first (default 0)\n"
                        "  --dry-run          run every batch and roll it "
                        "back, counting the rows\n"
                        "                     it would change; nothing is "
                        "changed\n"
                        "  --skip-checks      skip the plan's [check] "
                        "sections (recorded in the\n"
                        "                     audit log)\n"
                        "  --wait             show progress until every job "
                        "ended; exit 4 if one\n"
                        "                     did not succeed\n",
        },
        {
                .name = "list",
                .opts = B(STATE) | B(PLAN) | B(TENANT) | B(LIMIT) | B(BEFORE),
                .fn = cmd_list,
                .synopsis = "[--state S] [--plan P] [--tenant T] [--limit N] "
                            "[--before ID]",
                .summary = "list jobs, newest first",
                .help = "Lists jobs, newest first.\n"
                        "\n"
                        "  --state S          only jobs in state S (queued, "
                        "running, paused,\n"
                        "                     succeeded, failed, cancelled, "
                        "rolled_back)\n"
                        "  --plan P           only jobs of plan P\n"
                        "  --tenant T         only jobs for tenant T\n"
                        "  --limit N          at most N jobs\n"
                        "  --before ID        only jobs older than job ID: "
                        "the next page after\n"
                        "                     a page whose last job is ID\n",
        },
        {
                .name = "show",
                .min_args = 1,
                .max_args = 1,
                .args = "JOB",
                .flags = VERB_JOB_IDS,
                .fn = cmd_show,
                .synopsis = "JOB",
                .summary = "show one job with the progress of each step",
                .help = "Shows job JOB: plan, tenant, state, error, kind, dry "
                        "run, warnings,\n"
                        "times, rows changed and the progress of each step "
                        "with its\n"
                        "checkpoint.\n",
        },
        {
                .name = "watch",
                .max_args = VERB_ANY,
                .flags = VERB_JOB_IDS,
                .fn = cmd_watch,
                .synopsis = "[JOB ...]",
                .summary = "follow jobs until they have ended",
                .help = "Follows the given jobs, or every unfinished job, "
                        "until they have\n"
                        "all ended. On a terminal one line per job is redrawn "
                        "with a progress\n"
                        "bar, rows done and estimated, rows per second and "
                        "the time left;\n"
                        "otherwise (or with --json) each update is printed as "
                        "one line of\n"
                        "JSON.\n",
        },
        {
                .name = "pause",
                .max_args = VERB_ANY,
                .opts = B(ALL),
                .flags = VERB_JOB_IDS,
                .fn = cmd_change_jobs,
                .method = VL_METHOD_PAUSE,
                .done = "paused",
                .synopsis = "(JOB ... | --all)",
                .summary = "pause jobs; a running job stops after its batch",
                .help = "Pauses queued or running jobs; a running job stops "
                        "after its current\n"
                        "batch. Prints the jobs that were paused.\n"
                        "\n"
                        "  --all              every queued or running job\n",
        },
        {
                .name = "resume",
                .max_args = VERB_ANY,
                .opts = B(ALL),
                .flags = VERB_JOB_IDS,
                .fn = cmd_change_jobs,
                .method = VL_METHOD_RESUME,
                .done = "resumed",
                .synopsis = "(JOB ... | --all)",
                .summary = "put paused jobs back in the queue",
                .help = "Puts paused jobs back in the queue. Prints the jobs "
                        "that were\n"
                        "resumed.\n"
                        "\n"
                        "  --all              every paused job\n",
        },
        {
                .name = "cancel",
                .max_args = VERB_ANY,
                .opts = B(ALL),
                .flags = VERB_JOB_IDS,
                .fn = cmd_change_jobs,
                .method = VL_METHOD_CANCEL,
                .done = "cancelled",
                .synopsis = "(JOB ... | --all)",
                .summary = "cancel jobs that have not ended",
                .help = "Cancels jobs that have not ended. Work already "
                        "committed stays.\n"
                        "\n"
                        "  --all              every job that has not ended\n",
        },
        {
                .name = "retry",
                .max_args = VERB_ANY,
                .opts = B(ALL),
                .flags = VERB_JOB_IDS,
                .fn = cmd_change_jobs,
                .method = VL_METHOD_RETRY,
                .done = "retried",
                .synopsis = "(JOB ... | --all)",
                .summary = "queue failed or cancelled jobs again",
                .help = "Queues failed or cancelled jobs again; they continue "
                        "from their\n"
                        "checkpoint.\n"
                        "\n"
                        "  --all              every failed or cancelled job\n",
        },
        {
                .name = "validate",
                .min_args = 1,
                .max_args = 1,
                .args = "PLAN",
                .opts = B(TENANT) | B(ALL),
                .fn = cmd_validate,
                .synopsis = "PLAN (--tenant T ... | --all)",
                .summary = "run a plan's pre-checks for tenants; change "
                           "nothing",
                .help = "Runs the [check] sections of plan PLAN for the "
                        "tenants and prints,\n"
                        "for each tenant, OK or FAILED and each check's "
                        "severity, the value\n"
                        "found and the value expected. Nothing is changed. "
                        "Exits 4 if a\n"
                        "tenant failed an error-level check or its checks "
                        "could not run.\n"
                        "\n" TENANT_HELP,
        },
        {
                .name = "verify",
                .min_args = 1,
                .max_args = 1,
                .args = TARGET_ARGS,
                .opts = B(TENANT) | B(COMPARE),
                .flags = VERB_JOB_IDS,
                .fn = cmd_verify,
                .synopsis = "(JOB | PLAN --tenant T) [--compare]",
                .summary = "run a job's post-verifications again",
                .help = "Runs the [verify] sections of a job's plan again for "
                        "its tenant and\n"
                        "prints each one's value found and expected. Exits 4 "
                        "if one did not\n"
                        "hold.\n"
                        "\n" TARGET_HELP "\n"
                        "  --compare          also compare each copy step's "
                        "rows in the source\n"
                        "                     and the target: counts, "
                        "checksums and the first\n"
                        "                     keys that differ; exits 4 if a "
                        "step differs\n",
        },
        {
                .name = "rollback",
                .min_args = 1,
                .max_args = 1,
                .args = TARGET_ARGS,
                .opts = B(TENANT) | B(PRIORITY) | B(WAIT),
                .flags = VERB_JOB_IDS,
                .fn = cmd_rollback,
                .synopsis = "(JOB | PLAN --tenant T) [--priority P] [--wait]",
                .summary = "restore what a job changed from its backups",
                .help = "Queues a rollback job that restores the rows a "
                        "finished job changed\n"
                        "from the backups its steps with backup = yes stored, "
                        "and prints its\n"
                        "id. When it succeeds the original job becomes "
                        "rolled_back.\n"
                        "\n" TARGET_HELP "\n"
                        "  --tenant T         with PLAN: the tenant of the job "
                        "to roll back\n"
                        "  --priority P       higher runs first (default 0)\n"
                        "  --wait             show progress until the rollback "
                        "ended; exit 4 if\n"
                        "                     it did not succeed\n",
        },
        {
                .name = "backups",
                .max_args = VERB_ANY,
                .opts = B(JOB) | B(PLAN) | B(TENANT) | B(DROP) | B(OLDER_THAN),
                .flags = VERB_JOB_IDS,
                .fn = cmd_backups,
                .synopsis = "[--job J] [--plan P] [--tenant T] | --drop (JOB "
                            "... | --older-than DAYS)",
                .summary = "list or drop the backups that rollbacks restore",
                .help = "Lists the stored backups, one row per job and step, "
                        "with their rows,\n"
                        "size and age; or, with --drop, drops backups. A job "
                        "whose backups\n"
                        "are dropped cannot be rolled back any more.\n"
                        "\n"
                        "  --job J            only the backups of job J\n"
                        "  --plan P           only those of jobs of plan P\n"
                        "  --tenant T         only those of jobs for tenant "
                        "T\n"
                        "  --drop             drop the backups of the jobs "
                        "given as arguments,\n"
                        "                     or those older than "
                        "--older-than\n"
                        "  --older-than DAYS  with --drop: the backups of "
                        "every job whose oldest\n"
                        "                     backup is older than DAYS "
                        "days\n",
        },
        {
                .name = "log",
                .opts = B(JOB) | B(LIMIT) | B(BEFORE),
                .fn = cmd_log,
                .synopsis = "[--job J] [--limit N] [--before ID]",
                .summary = "show the audit log, newest first",
                .help = "Shows the audit log, newest first: every mutating "
                        "call (who, the\n"
                        "method and its parameters, the result) and every "
                        "change of a job's\n"
                        "state (made by the daemon).\n"
                        "\n"
                        "  --job J            only the entries of job J\n"
                        "  --limit N          at most N entries (the daemon's "
                        "default is 100)\n"
                        "  --before ID        only entries older than entry "
                        "ID: the next page\n"
                        "                     after a page whose last entry "
                        "is ID\n",
        },
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

const struct verb *
verbs_find(const char *name)
{
	for (size_t i = 0; i < NVERBS; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

void
verbs_list(FILE *f)
{
	int width = 0;

	for (size_t i = 0; i < NVERBS; i++)
		if ((int)strlen(verbs[i].name) > width)
			width = (int)strlen(verbs[i].name);
	for (size_t i = 0; i < NVERBS; i++)
		fprintf(f, "  %-*s  %s\n", width, verbs[i].name,
		        verbs[i].summary);
}

static void
print_help(const struct verb *verb)
{
	printf("Usage: migratectl [-s PATH] [-j] %s%s%s\n\n%s\nOptions:\n%s",
	       verb->name, verb->synopsis[0] ? " " : "", verb->synopsis,
	       verb->help, COMMON_HELP);
}

int
verbs_run(const struct verb *verb, struct ctl_global *global, int argc,
          char **argv)
{
	const struct args_spec spec = {
	        .command = verb->name,
	        .opts = verb->opts,
	        .job_args = (verb->flags & VERB_JOB_IDS) != 0,
	};
	struct cmd_ctx ctx = {
	        .session = {.global = global},
	        .method = verb->method,
	        .done = verb->done,
	};
	struct args a;
	int rc = args_parse(&spec, global, argc, argv, &a);

	if (rc == CTL_EXIT_OK && a.help) {
		print_help(verb);
		rc = session_written();
	} else if (rc == CTL_EXIT_OK) {
		rc = args_check_npos(
		        &a, verb->min_args,
		        verb->max_args == VERB_ANY ? a.npos : verb->max_args,
		        verb->args != NULL ? verb->args : "");
		if (rc == CTL_EXIT_OK)
			rc = verb->fn(&ctx, &a);
	}
	session_close(&ctx.session);
	args_clear(&a);
	return rc;
}
