#include "verbs.h"

#include <string.h>

#include "args.h"
#include "cmd.h"

/* max_args: any number. */
#define VERB_ANY (-1)

/* flags */
#define VERB_JOB_IDS 0x1 /* the arguments are job ids: "-5" is a bad one */
/* A group: its first argument names one of the verbs "NAME SUB" */
#define VERB_GROUP 0x2

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
                .opts = B(DETAILED) | B(PLAN),
                .synopsis = "[--detailed [--plan P]]",
                .summary = "show the daemon's version, database, workers and "
                           "job totals",
                .help = "Shows the state of the daemon: version, pid, uptime, "
                        "database\n"
                        "connection, busy workers, plans loaded, jobs by "
                        "state, rows done\n"
                        "and rows per second (every daemon's, over about 10 "
                        "seconds).\n"
                        "\n"
                        "  --detailed         per plan and step, across all "
                        "its tenants: rows\n"
                        "                     done of estimated, tenants by "
                        "state, rate, ETA\n"
                        "                     and what is throttled\n"
                        "  --plan P           only plan P (with "
                        "--detailed)\n",
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
                .name = "throttle",
                .max_args = 1,
                .args = "on|off",
                .opts = B(PLAN) | B(REASON) | B(FOR),
                .fn = cmd_throttle,
                .synopsis = "[on [--plan P] [--reason TEXT] [--for DURATION] "
                            "| off [--plan P]]",
                .summary = "slow jobs down: throttle on, off, or show why "
                           "they wait",
                .help = "Without arguments shows whether jobs are throttled "
                        "and every active\n"
                        "reason: manual throttles, the load query of "
                        "[throttle] and its\n"
                        "value or error, the rows-per-second cap. 'on' "
                        "throttles every plan,\n"
                        "or plan P: running jobs finish their batch, then "
                        "wait holding no\n"
                        "transaction. The throttle is kept in the state "
                        "database, so it survives\n"
                        "a restart. 'off' ends it.\n"
                        "\n"
                        "  --plan P           only jobs of plan P\n"
                        "  --reason TEXT      why, shown to everyone who "
                        "looks\n"
                        "  --for DURATION     end it by itself after "
                        "DURATION (30s, 15m, 2h)\n",
        },
        {
                .name = "set",
                .min_args = 1,
                .max_args = 1,
                .args = "JOB",
                .opts = B(BATCH_SIZE) | B(MAX_ROWS_PER_SECOND),
                .flags = VERB_JOB_IDS,
                .fn = cmd_set,
                .synopsis = "JOB [--batch-size N] [--max-rows-per-second N]",
                .summary = "change a job's batch size or rows/s cap from its "
                           "next batch",
                .help = "Changes a queued, running or paused job; a running "
                        "job uses the new\n"
                        "values from its next batch, without a restart. "
                        "Prints the job.\n"
                        "\n"
                        "  --batch-size N           rows per batch, 1 to "
                        "1000000\n"
                        "  --max-rows-per-second N  the job's own cap; 0 "
                        "removes it\n",
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
                .opts = B(TENANT) | B(COMPARE) | B(ALL),
                .flags = VERB_JOB_IDS,
                .fn = cmd_verify,
                .synopsis = "(JOB | PLAN --tenant T | PLAN --all) [--compare]",
                .summary = "run a job's post-verifications again",
                .help = "Runs the [verify] sections of a job's plan again for "
                        "its tenant and\n"
                        "prints each one's value found and expected. Exits 4 "
                        "if one did not\n"
                        "hold.\n"
                        "\n" TARGET_HELP "\n"
                        "  --all              with PLAN: the latest finished "
                        "job of every tenant\n"
                        "                     of the plan, in one report; "
                        "exits 4 if any failed\n"
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
                .opts = B(TENANT) | B(PRIORITY) | B(WAIT) | B(ALL) | B(STEPS) |
                        B(EMERGENCY),
                .flags = VERB_JOB_IDS,
                .fn = cmd_rollback,
                .synopsis = "(JOB | PLAN --tenant T | PLAN --all | PLAN "
                            "--emergency) [--steps A,B] [--priority P] "
                            "[--wait]",
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
                        "  --all              with PLAN: every finished job of "
                        "the plan with\n"
                        "                     backups left, newest first: "
                        "each tenant's\n"
                        "                     newest now, its older ones as "
                        "these succeed\n"
                        "  --steps A,B        restore only these steps; a step "
                        "that a later\n"
                        "                     step still to restore depends on "
                        "is refused\n"
                        "  --emergency        with PLAN: stop every queued, "
                        "running or paused\n"
                        "                     job of the plan at once, then "
                        "roll back all it\n"
                        "                     changed (priority 1000); "
                        "audited as an emergency\n"
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
                .name = "rejects",
                .min_args = 1,
                .max_args = 1,
                .args = "JOB",
                .opts = B(LIMIT),
                .flags = VERB_JOB_IDS,
                .fn = cmd_rejects,
                .synopsis = "JOB [--limit N]",
                .summary = "list the rows a job kept out of the target",
                .help = "Lists the rows of SQLite sources that job JOB kept "
                        "in migrated.rejects\n"
                        "(copy steps with rejects = keep): step, key, the "
                        "column whose value\n"
                        "did not convert, the value and why.\n"
                        "\n"
                        "  --limit N          at most N rows (default 1000)\n",
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
        {
                .name = "schema",
                .max_args = VERB_ANY,
                .flags = VERB_GROUP,
                .synopsis = "COMMAND ...",
                .summary = "schema sets: status, apply, revert, baseline, "
                           "repair, adopt, diff, drift, dump, squash",
                .help = "Versioned schema files ([schema NAME] in "
                        "migrated.conf) and their\n"
                        "history in each database. Commands:\n",
        },
        {
                .name = "schema status",
                .max_args = 1,
                .opts = B(ALL),
                .fn = cmd_schema_status,
                .synopsis = "[SET] [--all]",
                .summary = "show the state of the sets and what needs action",
                .help = "Shows schema set SET (or every set): how many "
                        "versions are in each\n"
                        "state (applied, baseline, adopted, pending, "
                        "out_of_order, failed,\n"
                        "edited, missing) and the versions that are not "
                        "applied, with their\n"
                        "name and state. Exits 4 when a version is pending "
                        "or needs action\n"
                        "(failed, edited, missing or out of order), 0 when "
                        "all is applied.\n"
                        "\n"
                        "  --all              every version, applied ones "
                        "too, with when it was\n"
                        "                     applied and how long it "
                        "took\n",
        },
        {
                .name = "schema apply",
                .max_args = 1,
                .opts = B(TO) | B(DRY_RUN) | B(WAIT),
                .fn = cmd_schema_job,
                .method = VL_METHOD_SCHEMA_APPLY,
                .done = "apply",
                .synopsis = "[SET] [--to N] [--dry-run] [--wait]",
                .summary = "queue a job that applies the pending versions",
                .help = "Queues a job (kind schema) that applies the pending "
                        "versions of SET,\n"
                        "one transaction per file, and prints its id. SET "
                        "may be left out when\n"
                        "only one set is configured.\n"
                        "\n"
                        "  --to N             apply versions up to N only\n"
                        "  --dry-run          run each file in a transaction "
                        "that rolls back\n"
                        "  --wait             follow the job until it ended; "
                        "exit 4 if it did\n"
                        "                     not succeed\n",
        },
        {
                .name = "schema revert",
                .max_args = 1,
                .opts = B(TO) | B(DRY_RUN) | B(WAIT),
                .fn = cmd_schema_job,
                .method = VL_METHOD_SCHEMA_REVERT,
                .done = "revert",
                .synopsis = "[SET] [--to N] [--dry-run] [--wait]",
                .summary = "queue a job that undoes the newest versions",
                .help = "Queues a job (kind schema) that undoes applied "
                        "versions of SET with\n"
                        "their NNN_name.down.sql files, newest first, and "
                        "prints its id.\n"
                        "\n"
                        "  --to N             undo the versions above N "
                        "(default: the newest\n"
                        "                     one only)\n"
                        "  --dry-run          run each down file in a "
                        "transaction that rolls back\n"
                        "  --wait             follow the job until it ended; "
                        "exit 4 if it did\n"
                        "                     not succeed\n",
        },
        {
                .name = "schema baseline",
                .min_args = 1,
                .max_args = 2,
                .args = "N",
                .fn = cmd_schema_baseline,
                .synopsis = "[SET] N",
                .summary = "record versions up to N as applied without "
                           "running them",
                .help = "Records the versions of SET up to N as applied "
                        "(kind baseline)\n"
                        "without running them: for a database that already "
                        "has that schema.\n"
                        "Refused when one of them is already recorded "
                        "otherwise; baselining\n"
                        "twice changes nothing.\n",
        },
        {
                .name = "schema repair",
                .min_args = 2,
                .max_args = 3,
                .args = "N accept|forget",
                .fn = cmd_schema_repair,
                .synopsis = "[SET] N accept|forget",
                .summary = "record a decision about an edited or missing "
                           "version",
                .help = "Records the operator's decision about version N "
                        "of SET (audited):\n"
                        "accept records an edited file's checksum as it is "
                        "now; forget drops\n"
                        "a version whose file is gone, so it no longer counts "
                        "as applied.\n",
        },
        {
                .name = "schema adopt",
                .max_args = 1,
                .opts = B(FROM) | B(TABLE) | B(VERSION_COLUMN) | B(NAME_COLUMN),
                .fn = cmd_schema_adopt,
                .synopsis = "[SET] --from TOOL [--table T] [--version-column "
                            "C] [--name-column C]",
                .summary = "import another tool's migration history",
                .help = "Imports the history table of another tool into "
                        "SET's history, row\n"
                        "by row, and reports what each row became. Exits 4 "
                        "when a row was not\n"
                        "adopted (conflict, unmatched, dirty or failed).\n"
                        "\n"
                        "  --from TOOL        flyway, liquibase, sqitch, "
                        "drizzle, kysely, typeorm,\n"
                        "                     knex, golang-migrate, goose, "
                        "dbmate, rails, prisma,\n"
                        "                     alembic, or table\n"
                        "  --table T          the history table (with --from "
                        "table, or another\n"
                        "                     than the tool's usual one)\n"
                        "  --version-column C  its version column (--from "
                        "table)\n"
                        "  --name-column C    its name column (--from table)\n",
        },
        {
                .name = "schema diff",
                .min_args = 2,
                .max_args = 2,
                .args = "A B",
                .fn = cmd_schema_diff,
                .synopsis = "A B",
                .summary = "compare two schemas; exit 1 when they differ",
                .help = "Compares the schemas of A and B after "
                        "normalisation: each is target,\n"
                        "a [database NAME], or files:SET (the set's files "
                        "built in a scratch\n"
                        "database). Prints the differences by kind; exits 1 "
                        "when there are any.\n",
        },
        {
                .name = "schema drift",
                .max_args = 1,
                .fn = cmd_schema_drift,
                .synopsis = "[SET]",
                .summary = "compare a set's database with its files",
                .help = "Compares the live database of SET with the schema "
                        "its files build.\n"
                        "Exits 1 when they differ.\n",
        },
        {
                .name = "schema dump",
                .min_args = 1,
                .max_args = 1,
                .args = "DATABASE",
                .fn = cmd_schema_dump,
                .synopsis = "DATABASE",
                .summary = "print a baseline SQL file of a live database",
                .help = "Prints to standard output a baseline SQL file for "
                        "DATABASE (target\n"
                        "or a [database NAME]).\n",
        },
        {
                .name = "schema squash",
                .min_args = 1,
                .max_args = 1,
                .args = "SET",
                .opts = B(TO),
                .fn = cmd_schema_squash,
                .synopsis = "SET --to N",
                .summary = "print one baseline file for the first versions",
                .help = "Prints to standard output one baseline SQL file "
                        "equal to the versions\n"
                        "of SET up to N.\n"
                        "\n"
                        "  --to N             the last version it holds "
                        "(required)\n",
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
		if ((int)strlen(verbs[i].name) > width &&
		    strchr(verbs[i].name, ' ') == NULL)
			width = (int)strlen(verbs[i].name);
	for (size_t i = 0; i < NVERBS; i++)
		if (strchr(verbs[i].name, ' ') == NULL) /* not a group's */
			fprintf(f, "  %-*s  %s\n", width, verbs[i].name,
			        verbs[i].summary);
}

/* The verbs of group, "  SUB  summary" each. */
static void
group_list(FILE *f, const struct verb *group)
{
	size_t len = strlen(group->name);

	for (size_t i = 0; i < NVERBS; i++)
		if (strncmp(verbs[i].name, group->name, len) == 0 &&
		    verbs[i].name[len] == ' ')
			fprintf(f, "  %-10s %s\n", verbs[i].name + len + 1,
			        verbs[i].summary);
}

/* migratectl GROUP SUB ...: runs the verb "GROUP SUB". */
static int
group_run(const struct verb *group, struct ctl_global *global, int argc,
          char **argv)
{
	char name[64];
	const struct verb *sub;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		FILE *f = argc < 2 ? stderr : stdout;
		fprintf(f,
		        "Usage: migratectl [-s PATH] [-j] %s COMMAND ...\n\n%s",
		        group->name, group->help);
		group_list(f, group);
		fprintf(f,
		        "\nmigratectl %s COMMAND --help shows a command's "
		        "options.\n",
		        group->name);
		return argc < 2 ? CTL_EXIT_USAGE : session_written();
	}
	snprintf(name, sizeof(name), "%s %s", group->name, argv[1]);
	sub = strchr(argv[1], ' ') == NULL ? verbs_find(name) : NULL;
	if (sub == NULL)
		return args_usage_error(group->name, "unknown command '%s'",
		                        argv[1]);
	return verbs_run(sub, global, argc - 1, argv + 1);
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
	int rc;

	if (verb->flags & VERB_GROUP)
		return group_run(verb, global, argc, argv);
	rc = args_parse(&spec, global, argc, argv, &a);

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
