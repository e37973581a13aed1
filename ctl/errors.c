#include "errors.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "table.h"
#include "value.h"
#include "vl_message.h"
#include "vl_names.h"

/* Error names come from the interface file (build/gen/vl_names.h). */

/* What a sentence can say at most. */
#define NTEXTS 2

/*
 * In a sentence, {name} stands for a parameter of the error and
 * {call.name} for one of the call it answers ({call.tenant}: see
 * call_tenant); [text] is left out when a parameter in it is missing,
 * null or empty. Of the sentences of an error, the first whose
 * parameters outside [...] all have a value is printed; the last one
 * always is.
 */
static const struct {
	const char *error;
	int exit;
	const char *texts[NTEXTS];
} errors[] = {
        /* Verify and Rollback of PLAN --tenant T send no job id. */
        {VL_ERROR_NO_SUCH_JOB,
         CTL_EXIT_DAEMON,
         {"plan '{call.plan}' has no job for tenant '{call.tenant}'",
          "no job {id}"}},
        {VL_ERROR_NO_SUCH_PLAN, CTL_EXIT_DAEMON, {"no plan '{name}'"}},
        {VL_ERROR_INVALID_PLAN, CTL_EXIT_DAEMON, {"{file}:{line}: {message}"}},
        {VL_ERROR_NO_SUCH_STEP,
         CTL_EXIT_DAEMON,
         {"plan '{plan}' has no step '{step}'"}},
        {VL_ERROR_INVALID_JOB_STATE,
         CTL_EXIT_DAEMON,
         {"job {id} is {state}, which does not allow this"}},
        {VL_ERROR_DATABASE_UNAVAILABLE,
         CTL_EXIT_DAEMON,
         {"the database cannot be reached now, try again later: "
          "{message}"}},
        {VL_ERROR_TOO_MANY_CLIENTS,
         CTL_EXIT_DAEMON,
         {"the daemon serves its limit of {limit} clients[ for uid {uid}]; "
          "try again later"}},
        {VL_ERROR_DATABASE_ERROR,
         CTL_EXIT_DAEMON,
         {"the database refused the request: {message}[ (SQLSTATE "
          "{sqlstate})]"}},
        {VL_ERROR_RELOAD_FAILED,
         CTL_EXIT_DAEMON,
         {"reload failed, the previous configuration stays: {message}"}},
        {VL_ERROR_NO_BACKUP,
         CTL_EXIT_DAEMON,
         {"job {id} cannot be rolled back: {reason}"}},
        {VL_ERROR_JOB_EXISTS,
         CTL_EXIT_DAEMON,
         {"tenant {tenant} already has unfinished job {id} of plan {plan}"}},
        {VL_ERROR_INVALID_PARAMETER_VALUE,
         CTL_EXIT_DAEMON,
         {"parameter '{parameter}' cannot have this value: {message}"}},
        /*
         * Submit of steps whose dependency is left out: tenant is the
         * first refused (OLD of its pair, pair its NEW).
         */
        {VL_ERROR_STEP_DEPENDENCY,
         CTL_EXIT_DAEMON,
         {"step '{step}' of plan '{plan}' needs step '{after}', which "
          "neither runs in this job nor has succeeded before for tenant "
          "'{tenant}'[ (pair {tenant}:{pair})]; add --steps {after}",
          "step '{step}' of plan '{plan}' needs step '{after}', which "
          "neither runs in these jobs nor has succeeded before for every "
          "tenant given; add --steps {after}"}},
        /* Rollback --steps of a step a later step needs. */
        {VL_ERROR_ROLLBACK_DEPENDENCY,
         CTL_EXIT_DAEMON,
         {"step '{step}' of job {job} cannot be rolled back while step "
          "'{dependent}', which runs after it, is not; add --steps "
          "{dependent}"}},
        {VL_ERR_INVALID_PARAMETER,
         CTL_EXIT_DAEMON,
         {"invalid parameter '{parameter}'"}},
        {VL_ERR_PERMISSION_DENIED,
         CTL_EXIT_DAEMON,
         {"permission denied: this needs root or membership in the daemon's "
          "admin_group"}},
        {VL_ERR_METHOD_NOT_FOUND,
         CTL_EXIT_DAEMON,
         {"migrated does not know the method '{method}' (is it older than "
          "migratectl?)"}},
        {VL_ERR_INTERFACE_NOT_FOUND,
         CTL_EXIT_DAEMON,
         {"migrated does not offer the interface '{interface}'"}},
        {VL_ERR_EXPECTED_MORE,
         CTL_EXIT_DAEMON,
         {"migrated expected a call with \"more\""}},
};

#define NERRORS (sizeof(errors) / sizeof(errors[0]))

/* Where a sentence's {...} are looked up. */
struct sources {
	const json_t *error;
	const json_t *call;
};

/*
 * The one tenant a call is about: its tenant (Verify, Rollback), its only
 * tenant (Submit --tenant T) or the old tenant of its only pair (Submit
 * --pair OLD:NEW); NULL when it is about none or several.
 */
static const json_t *
call_tenant(const json_t *call)
{
	const json_t *tenants = value_get(call, "tenants");
	const json_t *pairs = value_get(call, "pairs");

	if (value_get(call, "tenant") != NULL)
		return value_get(call, "tenant");
	if (json_array_size(tenants) == 1 && pairs == NULL)
		return json_array_get(tenants, 0);
	if (json_array_size(pairs) == 1 && tenants == NULL)
		return value_get(json_array_get(pairs, 0), "old");
	return NULL;
}

/* Appends parameter key (of keylen bytes) to buf; false if it is empty. */
static bool
expand_param(const struct sources *src, const char *key, size_t keylen,
             char *buf, size_t len, size_t *used)
{
	static const char prefix[] = "call.";
	const size_t plen = sizeof(prefix) - 1;
	bool of_call = keylen > plen && strncmp(key, prefix, plen) == 0;
	char name[64];
	const json_t *v;
	char *value;
	bool empty;

	if (of_call) {
		key += plen;
		keylen -= plen;
	}
	snprintf(name, sizeof(name), "%.*s", (int)keylen, key);
	if (of_call && strcmp(name, "tenant") == 0)
		v = call_tenant(src->call);
	else
		v = value_get(of_call ? src->call : src->error, name);
	value = v != NULL ? value_text(v) : NULL;
	empty = value == NULL || value[0] == '\0';
	if (*used < len)
		*used += (size_t)snprintf(buf + *used, len - *used, "%s",
		                          value != NULL ? value : "?");
	free(value);
	return !empty;
}

/*
 * Expands {name} in text[0..end) from src, appending to buf. Returns
 * false when a parameter was missing or empty.
 */
static bool
expand_span(const char *text, const char *end, const struct sources *src,
            char *buf, size_t len, size_t *used)
{
	bool complete = true;

	while (text < end) {
		const char *close = NULL;
		size_t n = 1;

		if (*text == '{')
			close = memchr(text, '}', (size_t)(end - text));
		if (close != NULL) {
			complete &= expand_param(src, text + 1,
			                         (size_t)(close - text - 1),
			                         buf, len, used);
			text = close + 1;
			continue;
		}
		if (*text == '[') {
			const char *stop =
			        memchr(text, ']', (size_t)(end - text));
			size_t mark = *used;

			if (stop != NULL) {
				if (!expand_span(text + 1, stop, src, buf, len,
				                 used))
					*used = mark;
				text = stop + 1;
				continue;
			}
		}
		if (*used + n < len)
			buf[(*used)++] = *text;
		text++;
	}
	if (*used < len)
		buf[*used] = '\0';
	return complete;
}

/* Expands the sentence text from src into buf; false if incomplete. */
static bool
expand(const char *text, const struct sources *src, char *buf, size_t len)
{
	size_t used = 0;
	bool complete;

	buf[0] = '\0';
	complete = expand_span(text, text + strlen(text), src, buf, len, &used);
	buf[used < len ? used : len - 1] = '\0';
	return complete;
}

int
errors_text(const char *error, const json_t *parameters, const json_t *call,
            char *buf, size_t len)
{
	const struct sources src = {parameters, call};
	char *params = NULL;

	for (size_t i = 0; i < NERRORS; i++) {
		if (strcmp(error, errors[i].error) != 0)
			continue;
		for (size_t k = 0; k < NTEXTS && errors[i].texts[k] != NULL;
		     k++) {
			bool last = k + 1 == NTEXTS ||
			            errors[i].texts[k + 1] == NULL;

			if (expand(errors[i].texts[k], &src, buf, len) || last)
				break;
		}
		table_sanitize(buf);
		return errors[i].exit;
	}
	if (json_object_size(parameters) > 0)
		params = json_dumps(parameters, JSON_COMPACT | JSON_SORT_KEYS);
	snprintf(buf, len, "%s", params != NULL ? params : "no details given");
	free(params);
	table_sanitize(buf);
	return CTL_EXIT_DAEMON;
}

int
errors_report(const char *error, const json_t *parameters, const json_t *call)
{
	char text[1024];
	int rc = errors_text(error, parameters, call, text, sizeof(text));
	char *name = strdup(error);

	if (name != NULL)
		table_sanitize(name);
	fprintf(stderr, "migratectl: %s: %s\n", name != NULL ? name : "error",
	        text);
	free(name);
	return rc;
}
