#include "detailed.h"

#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "progress.h"
#include "table.h"
#include "value.h"

/* "1234/s" or "-" */
static void
rate_cell(struct table *t, const json_t *obj)
{
	const json_t *rate = value_get(obj, "rows_per_sec");

	if (json_is_number(rate))
		table_cell(t, "%.0f/s", json_number_value(rate));
	else
		table_cell(t, "-");
}

static void
eta_cell(struct table *t, const json_t *obj)
{
	char eta[64] = "-";

	if (value_get(obj, "eta_sec") != NULL)
		table_duration(eta, sizeof(eta),
		               (double)value_int(obj, "eta_sec", 0));
	table_cell(t, "%s", eta);
}

/* "manual: peak hours, lag" or "-" */
static char *
throttled_text(const json_t *plan)
{
	const json_t *reasons = value_get(plan, "throttled");
	size_t i, len = 0;
	const json_t *r;
	char *text = NULL;
	FILE *mem = open_memstream(&text, &len);

	if (mem == NULL)
		return NULL;
	json_array_foreach((json_t *)reasons, i, r)
	{
		fprintf(mem, "%s%s", i > 0 ? ", " : "",
		        json_is_string(r) ? json_string_value(r) : "?");
	}
	if (json_array_size(reasons) == 0)
		fputs("-", mem);
	if (fclose(mem) != 0) {
		free(text);
		return NULL;
	}
	table_sanitize(text);
	return text;
}

/* "1500 succeeded, 3 running": the states that have tenants. */
static char *
nonzero_counts_text(const json_t *counts)
{
	json_t *some = json_object();
	const char *key;
	json_t *v;
	char *text;

	if (some == NULL)
		return NULL;
	json_object_foreach((json_t *)counts, key, v)
	{
		if (json_integer_value(v) != 0)
			json_object_set(some, key, v);
	}
	text = out_counts_text(some);
	json_decref(some);
	return text;
}

static int
one_plan(FILE *f, const json_t *plan)
{
	static const struct table_column cols[] = {
	        {"STEP", false},        {"PROGRESS", false}, {"ROWS", true},
	        {"TENANTS DONE", true}, {"RATE", true},      {"ETA", false}};
	long long tenants = 0;
	const json_t *counts = value_get(plan, "tenants");
	const char *key;
	json_t *v;
	struct table t;
	size_t i;
	const json_t *step;
	char *name = value_field(plan, "plan");

	json_object_foreach((json_t *)counts, key, v)
	{
		tenants += json_integer_value(v);
	}
	table_init(&t, table_summary, 2);
	table_cell(&t, "Plan:");
	table_cell(&t, "%s", name != NULL ? name : "?");
	free(name);
	table_cell(&t, "Tenants:");
	table_put(&t, nonzero_counts_text(counts));
	table_cell(&t, "Progress:");
	table_put(&t, progress_bar_text(plan, PROGRESS_BAR_WIDTH));
	table_cell(&t, "Rows:");
	table_put(&t, progress_rows_text(plan));
	table_cell(&t, "Rate:");
	rate_cell(&t, plan);
	table_cell(&t, "ETA:");
	eta_cell(&t, plan);
	table_cell(&t, "Throttled:");
	table_put(&t, throttled_text(plan));
	if (table_done(&t, f) < 0)
		return -1;
	table_init(&t, cols, 6);
	json_array_foreach((json_t *)value_get(plan, "steps"), i, step)
	{
		table_field(&t, step, "name");
		table_put(&t, progress_bar_text(step, PROGRESS_BAR_WIDTH));
		table_put(&t, progress_rows_text(step));
		table_cell(&t, "%lld/%lld", value_int(step, "tenants_done", 0),
		           tenants);
		rate_cell(&t, step);
		eta_cell(&t, step);
	}
	return table_done(&t, f);
}

int
out_overview(FILE *f, const json_t *plans)
{
	size_t i;
	const json_t *plan;

	if (json_array_size(plans) == 0) {
		fputs("No jobs.\n", f);
		return 0;
	}
	json_array_foreach((json_t *)plans, i, plan)
	{
		if ((i > 0 && fputc('\n', f) == EOF) || one_plan(f, plan) < 0)
			return -1;
	}
	return 0;
}
