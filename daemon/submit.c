#include "submit.h"

#include <stdio.h>
#include <string.h>

#define SHOWN_MAX 64 /* bytes of a caller's name quoted in a message */

/* name cut to SHOWN_MAX bytes, at a UTF-8 character boundary. */
static const char *
shown(const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);

	if (n <= SHOWN_MAX || len < SHOWN_MAX + 4)
		return name;
	n = SHOWN_MAX;
	while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
		n--;
	snprintf(buf, len, "%.*s...", (int)n, name);
	return buf;
}

static bool
is_arg(const struct plan *plan, const char *name)
{
	for (size_t i = 0; i < plan->nargs; i++)
		if (strcmp(plan->args[i], name) == 0)
			return true;
	return false;
}

static bool
in_order(json_t *order, const char *step)
{
	json_t *v;
	size_t i;

	json_array_foreach(order, i, v)
	{
		if (strcmp(json_string_value(v), step) == 0)
			return true;
	}
	return false;
}

/* Every name given is one of the plan's parameters, and each is given. */
static int
check_args(const struct plan *plan, json_t *args, char *msg, size_t msglen)
{
	char buf[SHOWN_MAX + 4];
	const char *name;
	json_t *v;

	json_object_foreach(args, name, v)
	{
		int n;

		if (is_arg(plan, name))
			continue;
		name = shown(name, buf, sizeof(buf));
		if (plan->nargs == 0) {
			snprintf(msg, msglen,
			         "plan %s has no parameter %s: it takes no "
			         "parameters",
			         plan->name, name);
			return -1;
		}
		n = snprintf(msg, msglen,
		             "plan %s has no parameter %s; its parameters are",
		             plan->name, name);
		for (size_t i = 0;
		     i < plan->nargs && n >= 0 && (size_t)n < msglen; i++)
			n += snprintf(msg + n, msglen - (size_t)n, "%s %s",
			              i == 0 ? ":" : ",", plan->args[i]);
		return -1;
	}
	for (size_t i = 0; i < plan->nargs; i++) {
		if (json_object_get(args, plan->args[i]) != NULL)
			continue;
		snprintf(msg, msglen, "plan %s needs --param %s=VALUE",
		         plan->name, plan->args[i]);
		return -1;
	}
	return 0;
}

int
submit_check(const struct plan *plan, json_t *order, json_t *args, bool pairs,
             bool fresh, const char **parameter, char *msg, size_t msglen)
{
	if (pairs && plan->pair == NULL) {
		*parameter = "pairs";
		snprintf(msg, msglen,
		         "plan %s has no pair key, so it takes tenants, not "
		         "pairs",
		         plan->name);
		return -1;
	}
	if (!pairs && plan->pair != NULL) {
		/* its SQL uses :pair, which only a pair's NEW half binds */
		*parameter = "tenants";
		snprintf(
		        msg, msglen,
		        "plan %s binds :%s from the new half of a tenant pair: "
		        "give pairs (migratectl submit %s --pair OLD:NEW)",
		        plan->name, plan->pair, plan->name);
		return -1;
	}
	if (check_args(plan, args, msg, msglen) < 0) {
		*parameter = "params";
		return -1;
	}
	if (fresh) {
		for (size_t i = 0; i < plan->nsteps; i++)
			if (plan->steps[i].has_clear &&
			    in_order(order, plan->steps[i].name))
				return 0;
		*parameter = "fresh";
		snprintf(msg, msglen,
		         "no selected step of plan %s has clear SQL, so fresh "
		         "has nothing to clear",
		         plan->name);
		return -1;
	}
	return 0;
}

json_t *
submit_step_deps(const struct plan *plan, json_t *order)
{
	json_t *deps = json_array();

	for (size_t i = 0; i < plan->nsteps && deps != NULL; i++) {
		const struct plan_step *s = &plan->steps[i];

		if (!in_order(order, s->name))
			continue;
		for (size_t k = 0; k < s->nafter; k++) {
			if (in_order(order, s->after[k]))
				continue;
			if (json_array_append_new(deps,
			                          json_pack("[s, s]", s->name,
			                                    s->after[k])) < 0) {
				json_decref(deps);
				return NULL;
			}
		}
	}
	return deps;
}
