/*
 * The verbs of `migratectl schema`: status, apply, revert, baseline,
 * repair, adopt, diff, drift, dump and squash, one io.migrated.Schema*
 * method each.
 */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "request.h"
#include "table.h"
#include "value.h"
#include "watch.h"

/* --- status ---------------------------------------------------------------- */

static bool
set_clean(const json_t *set)
{
	return value_int(set, "pending", 0) == 0 &&
	       !json_is_true(value_get(set, "needs_action"));
}

/* Nothing pending and nothing needing action in any set. */
static bool
sets_clean(const json_t *sets)
{
	size_t i;
	const json_t *set;

	json_array_foreach(sets, i, set) if (!set_clean(set)) return false;
	return true;
}

static const struct table_column status_cols[] = {
        {"VERSION", true},     {"NAME", false},    {"STATE", false},
        {"APPLIED AT", false}, {"DURATION", true},
};

/* "Versions: 3 applied, 1 pending" (the states with any), or nothing. */
static void
show_counts(FILE *f, const json_t *counts)
{
	const char *state;
	const json_t *n;
	int shown = 0;

	json_object_foreach((json_t *)counts, state, n)
	{
		if (json_integer_value(n) == 0)
			continue;
		fprintf(f, "%s%lld %s", shown++ > 0 ? ", " : "Versions: ",
		        (long long)json_integer_value(n), state);
	}
	if (shown > 0)
		fputc('\n', f);
}

static int
show_set(FILE *f, const json_t *set)
{
	struct table t;
	const json_t *files = value_get(set, "files");
	const json_t *file, *current = value_get(set, "current");
	size_t i, counts[8] = {0};
	static const char *const attention[] = {"failed", "edited", "missing",
	                                        "out_of_order"};

	fprintf(f, "Schema set %s on %s (%s)\n", value_str(set, "name"),
	        value_str(set, "database"), value_str(set, "dir"));
	show_counts(f, value_get(set, "counts"));
	table_init(&t, status_cols, 5);
	json_array_foreach(files, i, file)
	{
		const json_t *ms = value_get(file, "duration_ms");
		const char *state = value_str(file, "state");

		table_cell(&t, "%lld", value_int(file, "version", 0));
		table_field(&t, file, "name");
		table_field(&t, file, "state");
		table_field(&t, file, "applied_at");
		if (json_is_integer(ms)) {
			char buf[32];
			if (json_integer_value(ms) < 1000)
				snprintf(buf, sizeof(buf), "%lld ms",
				         (long long)json_integer_value(ms));
			else
				table_duration(buf, sizeof(buf),
				               (double)json_integer_value(ms) /
				                       1000.0);
			table_cell(&t, "%s", buf);
		} else {
			table_cell(&t, "-");
		}
		for (size_t k = 0; k < 4 && state != NULL; k++)
			counts[k] += strcmp(state, attention[k]) == 0;
	}
	if (json_array_size(files) == 0 && json_is_true(value_get(set, "all")))
		fprintf(f, "No files.\n");
	else if (json_array_size(files) == 0)
		; /* the counts said it: nothing to act on */
	else if (table_done(&t, f) < 0)
		return -1;
	table_clear(&t);
	if (json_is_integer(current))
		fprintf(f, "Current version %lld, ",
		        (long long)json_integer_value(current));
	else
		fprintf(f, "Nothing applied, ");
	fprintf(f, "%lld pending", value_int(set, "pending", 0));
	if (json_is_true(value_get(set, "needs_action"))) {
		fprintf(f, "; needs action:");
		for (size_t k = 0, n = 0; k < 4; k++)
			if (counts[k] > 0)
				fprintf(f, "%s %zu %s", n++ > 0 ? "," : "",
				        counts[k], attention[k]);
		fprintf(f, " (see migratectl schema repair, baseline or "
		           "apply)");
	}
	fprintf(f, ".\n");
	return 0;
}

static int
show_sets(FILE *f, const json_t *sets)
{
	size_t i;
	const json_t *set;

	if (json_array_size(sets) == 0)
		fprintf(f, "No schema sets configured ([schema NAME] in "
		           "migrated.conf).\n");
	json_array_foreach(sets, i, set)
	{
		if (i > 0)
			fputc('\n', f);
		if (show_set(f, set) < 0)
			return -1;
	}
	return 0;
}

int
cmd_schema_status(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_SCHEMA_STATUS,
	        .key = "sets",
	        .type = JSON_ARRAY,
	        .human = show_sets,
	        .passed = sets_clean,
	};
	json_t *p = json_object();

	if (p == NULL)
		return args_out_of_memory();
	request_str(p, "set", a->npos > 0 ? a->pos[0] : NULL);
	if (a->all)
		json_object_set_new(p, "all", json_true());
	return session_ask(&ctx->session, &ask, p);
}

/* --- apply, revert ---------------------------------------------------------- */

int
cmd_schema_job(struct cmd_ctx *ctx, struct args *a)
{
	struct vl_reply reply;
	const json_t *job = NULL;
	json_t *p = json_object();
	int rc;

	if (p == NULL)
		return args_out_of_memory();
	request_str(p, "set", a->npos > 0 ? a->pos[0] : NULL);
	request_int(p, "to", a->has_to, a->to);
	request_true(p, "dry_run", a->dry_run);
	rc = session_call(&ctx->session, ctx->method, p, "job", JSON_INTEGER,
	                  &reply, &job);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (json_integer_value(job) <= 0) {
		rc = session_malformed(ctx->method, "has a job id that is not "
		                                    "a positive integer");
	} else if (ctx->session.global->json) {
		rc = out_json(stdout, reply.parameters) < 0
		             ? session_output_failed()
		             : session_written();
	} else {
		printf("Queued schema %s%s job %lld.\n",
		       a->dry_run ? "dry-run " : "", ctx->done,
		       (long long)json_integer_value(job));
		rc = session_written();
	}
	if (rc == CTL_EXIT_OK && a->wait) {
		json_t *ids = json_pack("[O]", job);

		rc = ids != NULL ? watch_wait(&ctx->session, ids)
		                 : session_output_failed();
		json_decref(ids);
	}
	vl_reply_clear(&reply);
	return rc;
}

/* --- baseline, repair -------------------------------------------------------- */

/* text is a version: a whole number from 0. */
static int
version_arg(const struct args *a, const char *text, long long *out)
{
	char *end;

	if (text[0] < '0' || text[0] > '9')
		goto bad;
	*out = strtoll(text, &end, 10);
	if (*end == '\0' && *out >= 0)
		return CTL_EXIT_OK;
bad:
	return args_usage_error(a->command, "'%s' is not a version number",
	                        text);
}

static int
show_recorded(FILE *f, const json_t *recorded)
{
	size_t i;
	const json_t *v;

	if (json_array_size(recorded) == 0) {
		fprintf(f, "Nothing recorded: those versions were already "
		           "baselined.\n");
		return 0;
	}
	fprintf(f, "Recorded as baseline:");
	json_array_foreach(recorded, i, v)
	        fprintf(f, "%s %lld", i > 0 ? "," : "",
	                (long long)json_integer_value(v));
	fprintf(f, ".\n");
	return 0;
}

int
cmd_schema_baseline(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_SCHEMA_BASELINE,
	        .key = "recorded",
	        .type = JSON_ARRAY,
	        .human = show_recorded,
	};
	long long version = 0;
	json_t *p;
	int rc = version_arg(a, a->pos[a->npos - 1], &version);

	if (rc != CTL_EXIT_OK)
		return rc;
	p = json_pack("{s:I}", "version", (json_int_t)version);
	if (p == NULL)
		return args_out_of_memory();
	request_str(p, "set", a->npos > 1 ? a->pos[0] : NULL);
	return session_ask(&ctx->session, &ask, p);
}

int
cmd_schema_repair(struct cmd_ctx *ctx, struct args *a)
{
	struct vl_reply reply;
	const char *action = a->pos[a->npos - 1];
	long long version = 0;
	json_t *p;
	int rc;

	if (a->npos < 2)
		return args_usage_error(
		        a->command, "give the version and accept or forget");
	rc = version_arg(a, a->pos[a->npos - 2], &version);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (strcmp(action, "accept") != 0 && strcmp(action, "forget") != 0)
		return args_usage_error(a->command,
		                        "'%s': the decision is accept (record "
		                        "the edited file) or forget (drop the "
		                        "missing version)",
		                        action);
	p = json_pack("{s:I, s:s}", "version", (json_int_t)version, "action",
	              action);
	if (p == NULL)
		return args_out_of_memory();
	request_str(p, "set", a->npos > 2 ? a->pos[0] : NULL);
	rc = session_call(&ctx->session, VL_METHOD_SCHEMA_REPAIR, p, NULL,
	                  JSON_NULL, &reply, NULL);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (ctx->session.global->json)
		rc = out_json(stdout, reply.parameters) < 0
		             ? session_output_failed()
		             : session_written();
	else {
		printf("Version %lld %s.\n", version,
		       strcmp(action, "accept") == 0
		               ? "accepted as it is now"
		               : "forgotten: no longer counted as applied");
		rc = session_written();
	}
	vl_reply_clear(&reply);
	return rc;
}

/* --- adopt ------------------------------------------------------------------ */

static const struct table_column adopt_cols[] = {
        {"FOREIGN", false},
        {"VERSION", true},
        {"OUTCOME", false},
        {"MESSAGE", false},
};

static int
show_adopted(FILE *f, const json_t *reply)
{
	const json_t *rows = value_get(reply, "rows"), *row;
	struct table t;
	size_t i;

	table_init(&t, adopt_cols, 4);
	json_array_foreach(rows, i, row)
	{
		table_field(&t, row, "foreign");
		table_field(&t, row, "version");
		table_field(&t, row, "outcome");
		table_field(&t, row, "message");
	}
	if (json_array_size(rows) > 0 && table_done(&t, f) < 0)
		return -1;
	table_clear(&t);
	fprintf(f, "Adopted %lld version(s).\n",
	        value_int(reply, "adopted", 0));
	if (value_str(reply, "note") != NULL && value_str(reply, "note")[0])
		fprintf(f, "%s\n", value_str(reply, "note"));
	return 0;
}

/* Rows that were not adopted and need a look. */
static bool
adopt_clean(const json_t *reply)
{
	const json_t *row;
	size_t i;

	json_array_foreach(value_get(reply, "rows"), i, row)
	{
		const char *o = value_str(row, "outcome");
		if (o != NULL && strcmp(o, "adopted") != 0 &&
		    strcmp(o, "already") != 0 && strcmp(o, "ignored") != 0)
			return false;
	}
	return true;
}

int
cmd_schema_adopt(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_SCHEMA_ADOPT,
	        .key = "rows",
	        .type = JSON_ARRAY,
	        .human = show_adopted,
	        .whole = true,
	        .passed = adopt_clean,
	};
	json_t *p;

	if (a->from == NULL)
		return args_usage_error(
		        a->command, "--from TOOL is required (flyway, "
		                    "liquibase, sqitch, drizzle, kysely, "
		                    "typeorm, knex, golang-migrate, goose, "
		                    "dbmate, rails, prisma, alembic or table)");
	p = json_pack("{s:s}", "from", a->from);
	if (p == NULL)
		return args_out_of_memory();
	request_str(p, "set", a->npos > 0 ? a->pos[0] : NULL);
	request_str(p, "table", a->table);
	request_str(p, "version_column", a->version_column);
	request_str(p, "name_column", a->name_column);
	return session_ask(&ctx->session, &ask, p);
}

/* --- diff, drift ------------------------------------------------------------ */

static bool
same(const json_t *reply)
{
	return json_is_true(value_get(reply, "same"));
}

static int
show_differences(FILE *f, const json_t *reply)
{
	static const char *const kinds[] = {
	        "extension", "enum",       "sequence", "table",
	        "column",    "constraint", "index",    "view",
	        "function",  "trigger",    "policy",
	};
	const json_t *diffs = value_get(reply, "differences"), *d;
	size_t i, shown = 0;

	if (same(reply)) {
		fprintf(f, "No differences.\n");
		return 0;
	}
	/* by kind in the order above; kinds not listed there last */
	for (size_t k = 0; k <= sizeof(kinds) / sizeof(kinds[0]); k++) {
		bool header = false;

		json_array_foreach(diffs, i, d)
		{
			const char *kind = value_str(d, "kind");
			const char *change = value_str(d, "change");
			bool listed = false;

			for (size_t m = 0; m < sizeof(kinds) / sizeof(kinds[0]);
			     m++)
				listed |= kind != NULL &&
				          strcmp(kind, kinds[m]) == 0;
			if (k < sizeof(kinds) / sizeof(kinds[0])
			            ? kind == NULL ||
			                      strcmp(kind, kinds[k]) != 0
			            : listed)
				continue;
			if (!header) {
				fprintf(f, "%s%s:\n", shown > 0 ? "\n" : "",
				        kind != NULL ? kind : "other");
				header = true;
			}
			shown++;
			if (change != NULL && strcmp(change, "only_in_a") == 0)
				fprintf(f, "  - %s (only in A)\n",
				        value_str(d, "name"));
			else if (change != NULL &&
			         strcmp(change, "only_in_b") == 0)
				fprintf(f, "  + %s (only in B)\n",
				        value_str(d, "name"));
			else
				fprintf(f, "  ~ %s\n      A: %s\n      B: %s\n",
				        value_str(d, "name"),
				        value_str(d, "a") != NULL
				                ? value_str(d, "a")
				                : "-",
				        value_str(d, "b") != NULL
				                ? value_str(d, "b")
				                : "-");
		}
	}
	fprintf(f, "\n%zu difference(s).\n", shown);
	return 0;
}

/* diff and drift exit 1 when the schemas differ, as diff(1) does. */
static int
differ_status(int rc)
{
	return rc == CTL_EXIT_FAILED ? CTL_EXIT_DAEMON : rc;
}

int
cmd_schema_diff(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_SCHEMA_DIFF,
	        .key = "differences",
	        .type = JSON_ARRAY,
	        .human = show_differences,
	        .whole = true,
	        .passed = same,
	};

	return differ_status(session_ask(
	        &ctx->session, &ask,
	        json_pack("{s:s, s:s}", "a", a->pos[0], "b", a->pos[1])));
}

int
cmd_schema_drift(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_SCHEMA_DRIFT,
	        .key = "differences",
	        .type = JSON_ARRAY,
	        .human = show_differences,
	        .whole = true,
	        .passed = same,
	};
	json_t *p = json_object();

	if (p == NULL)
		return args_out_of_memory();
	request_str(p, "set", a->npos > 0 ? a->pos[0] : NULL);
	return differ_status(session_ask(&ctx->session, &ask, p));
}

/* --- dump, squash ------------------------------------------------------------ */

static int
show_sql(FILE *f, const json_t *sql)
{
	const char *text = json_string_value(sql);
	size_t len = text != NULL ? strlen(text) : 0;

	fputs(text != NULL ? text : "", f);
	if (len > 0 && text[len - 1] != '\n')
		fputc('\n', f);
	return 0;
}

int
cmd_schema_dump(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_SCHEMA_DUMP,
	        .key = "sql",
	        .type = JSON_STRING,
	        .human = show_sql,
	};

	return session_ask(&ctx->session, &ask,
	                   json_pack("{s:s}", "database", a->pos[0]));
}

int
cmd_schema_squash(struct cmd_ctx *ctx, struct args *a)
{
	static const struct session_ask ask = {
	        .method = VL_METHOD_SCHEMA_SQUASH,
	        .key = "sql",
	        .type = JSON_STRING,
	        .human = show_sql,
	};

	if (!a->has_to)
		return args_usage_error(a->command,
		                        "--to N is required: the last version "
		                        "the baseline holds");
	return session_ask(&ctx->session, &ask,
	                   json_pack("{s:s, s:I}", "set", a->pos[0], "to",
	                             (json_int_t)a->to));
}
