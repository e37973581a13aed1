#include "watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "table.h"
#include "value.h"

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
		rc = progress_update(w->progress, job);
		if (rc == 0)
			rc = progress_draw(w->progress, !reply->continues);
	} else {
		rc = out_json_line(stdout, job);
	}
	if (rc < 0) {
		w->write_failed = true;
		return 1;
	}
	return 0;
}

int
watch_jobs(struct session *s, json_t *ids, struct watch *w)
{
	char err[512];
	int rc = session_connect(s);
	json_t *params = json_object();

	memset(w, 0, sizeof(*w));
	w->last = json_object();
	if (!s->global->json && isatty(STDOUT_FILENO))
		w->progress = progress_new(stdout);
	if (rc != CTL_EXIT_OK || params == NULL || w->last == NULL) {
		json_decref(ids);
		json_decref(params);
		return rc != CTL_EXIT_OK ? rc : CTL_EXIT_DAEMON;
	}
	if (ids != NULL)
		json_object_set_new(params, "ids", ids);
	rc = client_call(s->client, VL_METHOD_WATCH, params, true,
	                 on_watch_reply, w, err, sizeof(err));
	if (w->progress != NULL && progress_draw(w->progress, true) < 0)
		w->write_failed = true;
	if (rc < 0) {
		fprintf(stderr, "migratectl: %s\n", err);
		return CTL_EXIT_CONNECT;
	}
	if (w->bad != NULL)
		return session_malformed(VL_METHOD_WATCH, w->bad);
	if (w->error.error != NULL)
		return session_daemon_error(&w->error, NULL);
	if (w->write_failed)
		return session_output_failed();
	if (w->progress != NULL && json_object_size(w->last) == 0)
		puts("No job to watch.");
	return session_written();
}

void
watch_clear(struct watch *w)
{
	progress_free(w->progress);
	json_decref(w->last);
	vl_reply_clear(&w->error);
	memset(w, 0, sizeof(*w));
}

/* The latest state of job id: from the watch, or asked for if unfinished. */
static int
final_job(struct session *s, struct watch *w, json_int_t id, json_t **job)
{
	char key[32];
	struct vl_reply reply;
	const json_t *value;
	int rc;

	snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, id);
	*job = json_object_get(w->last, key);
	if (*job != NULL && out_state_ended(value_str(*job, "state")))
		return CTL_EXIT_OK;
	rc = session_call(s, VL_METHOD_SHOW_JOB, json_pack("{s:I}", "id", id),
	                  "job", JSON_OBJECT, &reply, &value);
	if (rc != CTL_EXIT_OK)
		return rc;
	json_object_set(w->last, key, (json_t *)value);
	*job = json_object_get(w->last, key);
	vl_reply_clear(&reply);
	return CTL_EXIT_OK;
}

/* "migratectl: job 4 (tenant acme) failed: REASON" */
static void
report_failure(const json_t *job, json_int_t id)
{
	char *tenant = value_field(job, "tenant");
	char *error = value_field(job, "error");
	const char *state = value_str(job, "state");

	if (tenant != NULL)
		table_sanitize(tenant);
	if (error != NULL)
		table_sanitize(error);
	fprintf(stderr,
	        "migratectl: job %" JSON_INTEGER_FORMAT " (tenant %s) %s%s%s\n",
	        id, tenant != NULL ? tenant : "?",
	        state != NULL ? state : "did not succeed",
	        value_get(job, "error") != NULL ? ": " : "",
	        value_get(job, "error") != NULL && error != NULL ? error : "");
	free(tenant);
	free(error);
}

int
watch_outcome(struct session *s, const json_t *ids, struct watch *w,
              json_t **jobs)
{
	int result = CTL_EXIT_OK;
	size_t i;
	const json_t *id;

	if (jobs != NULL && (*jobs = json_array()) == NULL)
		return session_output_failed();
	json_array_foreach(ids, i, id)
	{
		json_t *job;
		const char *state;
		int rc = final_job(s, w, json_integer_value(id), &job);

		if (rc != CTL_EXIT_OK)
			return rc;
		if (jobs != NULL)
			json_array_append(*jobs, job);
		state = value_str(job, "state");
		if (state != NULL && strcmp(state, "succeeded") == 0)
			continue;
		report_failure(job, json_integer_value(id));
		result = CTL_EXIT_FAILED;
	}
	return result;
}

int
watch_wait(struct session *s, const json_t *ids)
{
	struct watch w;
	json_t *jobs = NULL;
	int rc = watch_jobs(s, json_deep_copy(ids), &w);

	if (rc == CTL_EXIT_OK)
		rc = watch_outcome(s, ids, &w, &jobs);
	if ((rc == CTL_EXIT_OK || rc == CTL_EXIT_FAILED) && !s->global->json) {
		if (out_dry_run(stdout, jobs) < 0)
			rc = session_output_failed();
		else if (session_written() != CTL_EXIT_OK)
			rc = CTL_EXIT_DAEMON;
	}
	json_decref(jobs);
	watch_clear(&w);
	return rc;
}
