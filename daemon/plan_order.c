/*
 * Step order (plan_order.h): a stable topological sort of the steps by
 * their after names, which are resolved here.
 */
#include "plan_order.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_read.h"
#include "sql_params.h"

struct graph {
	const struct plan_step *steps;
	size_t n;
	size_t **deps; /* deps[i]: indices of the steps i runs after */
	bool *done;
	const unsigned *after_line; /* per step, for messages */
	unsigned *line;             /* the problem: its line and message */
	char *msg;
	size_t len;
};

static int
out_of_memory(struct graph *g)
{
	*g->line = 0;
	snprintf(g->msg, g->len, "out of memory");
	return -1;
}

size_t
plan_step_index(const struct plan_step *steps, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(steps[i].name, name) == 0)
			return i;
	return (size_t)-1;
}

static int
unknown_step(struct graph *g, size_t i, const char *name)
{
	const char **names = malloc(g->n * sizeof *names);
	char known[512];

	if (names == NULL)
		return out_of_memory(g);
	for (size_t m = 0; m < g->n; m++)
		names[m] = g->steps[m].name;
	sql_join_names(names, g->n, known, sizeof known);
	free(names);
	*g->line = g->after_line[i];
	snprintf(g->msg, g->len, "unknown step %s in after (steps: %s)", name,
	         known);
	return -1;
}

static int
resolve_after(struct graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		const struct plan_step *s = &g->steps[i];

		g->deps[i] = malloc((s->nafter + 1) * sizeof **g->deps);
		if (g->deps[i] == NULL)
			return out_of_memory(g);
		for (size_t k = 0; k < s->nafter; k++) {
			g->deps[i][k] =
			        plan_step_index(g->steps, g->n, s->after[k]);
			if (g->deps[i][k] == (size_t)-1)
				return unknown_step(g, i, s->after[k]);
		}
	}
	return 0;
}

/* The first step not done that only runs after done steps, or -1. */
static size_t
next_ready(const struct graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		bool ready = !g->done[i];

		for (size_t k = 0; ready && k < g->steps[i].nafter; k++)
			ready = g->done[g->deps[i][k]];
		if (ready)
			return i;
	}
	return (size_t)-1;
}

/*
 * Every step left waits for another step left, so following those waits
 * from the first one must come back round: name that cycle.
 */
static int
report_cycle(struct graph *g)
{
	size_t *path = malloc(g->n * sizeof *path), len = 0, cur, from;
	size_t used;

	if (path == NULL)
		return out_of_memory(g);
	for (cur = 0; g->done[cur]; cur++)
		;
	for (;;) {
		size_t k = 0;

		for (from = 0; from < len && path[from] != cur; from++)
			;
		if (from < len)
			break;
		path[len++] = cur;
		/* next_ready() found no step ready, so a step not done runs
		 * after one not done: k stays below nafter. */
		/* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.ArraySubscript) */
		while (g->done[g->deps[cur][k]])
			k++;
		cur = g->deps[cur][k];
	}
	used = (size_t)snprintf(g->msg, g->len, "dependency cycle in after: ");
	for (size_t i = from; i < len && used < g->len; i++)
		used += (size_t)snprintf(g->msg + used, g->len - used, "%s -> ",
		                         g->steps[path[i]].name);
	if (used < g->len)
		snprintf(g->msg + used, g->len - used, "%s",
		         g->steps[cur].name);
	*g->line = g->after_line[path[from]];
	free(path);
	return -1;
}

static int
sort(struct graph *g, struct plan_step *sorted)
{
	size_t nsorted = 0;

	if (resolve_after(g) == -1)
		return -1;
	while (nsorted < g->n) {
		size_t i = next_ready(g);

		if (i == (size_t)-1)
			return report_cycle(g);
		g->done[i] = true;
		sorted[nsorted++] = g->steps[i];
	}
	return 0;
}

int
plan_order_steps(struct plan_step *steps, size_t n, const unsigned *after_line,
                 unsigned *line, char *msg, size_t len)
{
	struct graph g = {.steps = steps,
	                  .n = n,
	                  .after_line = after_line,
	                  .line = line,
	                  .msg = msg,
	                  .len = len};
	struct plan_step *sorted;
	int r = -1;

	g.deps = calloc(n + 1, sizeof *g.deps);
	g.done = calloc(n + 1, sizeof *g.done);
	sorted = malloc((n + 1) * sizeof *sorted);
	if (g.deps == NULL || g.done == NULL || sorted == NULL)
		out_of_memory(&g);
	else if ((r = sort(&g, sorted)) == 0 && n > 0)
		memcpy(steps, sorted, n * sizeof *steps);
	for (size_t i = 0; g.deps != NULL && i < n; i++)
		free(g.deps[i]);
	free(g.deps);
	free(g.done);
	free(sorted);
	return r;
}
