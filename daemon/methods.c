#include "methods.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "jobs.h"
#include "log.h"
#include "rollback.h"
#include "overview.h"
#include "audit.h"
#include "backups.h"
#include "rejects.h"
#include "catalog.h"
#include "databases.h"
#include "scheduler.h"
#include "schema_adopt.h"
#include "schema_jobs.h"
#include "nss_cache.h"
#include "schema_methods.h"
#include "schema_inspect.h"
#include "store.h"
#include "throttle_methods.h"
#include "validate.h"
#include "dbcall.h"
#include "vl_dispatch.h"
#include "vl_names.h"

#define SERVICE "org.varlink.service"

extern const char migrated_interface[];

/* args: the method's parameters, as its table filled them in */
typedef void (*method_fn)(struct control_req *req, struct daemon *d,
                          const void *args);

struct method {
	const char *name;
	method_fn fn;
	bool needs_admin;
	const struct vl_params *params; /* what it accepts, where it lands */
};

static const struct vl_field no_fields[] = {VL_FIELDS_END};
static const struct vl_params no_params = {.fields = no_fields, .size = 0};

static void
get_info(struct control_req *req, struct daemon *d, const void *args)
{
	(void)d;
	(void)args;
	control_reply(req, json_pack("{s:s, s:s, s:s, s:s, s:[s,s]}", "vendor",
	                             "migrated project", "product", "migrated",
	                             "version", MIGRATED_VERSION, "url",
	                             "https://example.invalid/migrated",
	                             "interfaces", SERVICE, VL_INTERFACE));
}

struct interface_args {
	const char *interface;
};

static const struct vl_field interface_fields[] = {
        VL_FIELD_STRING("interface", VL_REQUIRED, struct interface_args,
                        interface, 0, 0),
        VL_FIELDS_END,
};
static const struct vl_params interface_params =
        VL_PARAMS(struct interface_args, interface_fields);

static void
get_interface_description(struct control_req *req, struct daemon *d,
                          const void *args)
{
	const char *name = ((const struct interface_args *)args)->interface;

	(void)d;
	if (strcmp(name, VL_INTERFACE) == 0) {
		control_reply(req, json_pack("{s:s}", "description",
		                             migrated_interface));
		return;
	}
	if (strcmp(name, SERVICE) == 0) {
		control_reply(
		        req,
		        json_pack(
		                "{s:s}", "description",
		                "interface org.varlink.service\n"
		                "method GetInfo() -> (vendor: string, product: string, "
		                "version: string, url: string, interfaces: []string)\n"
		                "method GetInterfaceDescription(interface: string) -> "
		                "(description: string)\n"
		                "error InterfaceNotFound (interface: string)\n"
		                "error MethodNotFound (method: string)\n"
		                "error MethodNotImplemented (method: string)\n"
		                "error InvalidParameter (parameter: string)\n"
		                "error PermissionDenied ()\n"
		                "error ExpectedMore ()\n"));
		return;
	}
	control_error(req, VL_ERR_INTERFACE_NOT_FOUND,
	              json_pack("{s:s}", "interface", name));
}

/* type JobCounts: one member of struct job_counts per job state */
static json_t *
job_counts_json(const struct job_counts *c)
{
	json_t *jobs = json_object();

#define COUNT(state)                                                           \
	json_object_set_new(jobs, #state, json_integer((json_int_t)c->state));
	VL_JOB_STATES(COUNT)
#undef COUNT
	return jobs;
}

/* Every daemon's rows per second, from two samples; 0 until known. */
static double
status_rate(const struct daemon *d)
{
	double rate = overview_rate(d->overview);

	return rate > 0 ? rate : 0;
}

static void
get_status(struct control_req *req, struct daemon *d, const void *args)
{
	const struct job_counts *c = scheduler_counts(d->sched);
	const char *dberr =
	        store_ready(d->store) ? NULL : store_error(d->store);

	(void)args;
	control_reply(
	        req,
	        json_pack(
	                "{s:{s:s, s:I, s:I, s:s, s:s?, s:I, s:i, s:i, s:o, s:I, "
	                "s:f, s:o, s:o}}",
	                "status", "version", MIGRATED_VERSION, "pid",
	                (json_int_t)getpid(), "uptime_sec",
	                (json_int_t)(time(NULL) - d->started), "database",
	                store_db_state(d->store), "database_error", dberr,
	                "workers", (json_int_t)d->cfg.workers, "workers_busy",
	                scheduler_busy(d->sched), "plans",
	                catalog_count(d->plans), "jobs", job_counts_json(c),
	                "rows_done", (json_int_t)scheduler_rows_done(d->sched),
	                "rows_per_sec", status_rate(d), "databases",
	                databases_status(d->dbs, d->store), "throttle",
	                throttle_state_json(d->throttle,
	                                    d->cfg.max_rows_per_second)));
}

static void
list_plans(struct control_req *req, struct daemon *d, const void *args)
{
	json_t *list = json_array();

	(void)args;
	for (int i = 0; i < catalog_count(d->plans); i++)
		json_array_append_new(
		        list, catalog_plan_json(catalog_at(d->plans, i)));
	control_reply(req, json_pack("{s:o}", "plans", list));
}

struct plan_args {
	const char *name;
};

static const struct vl_field plan_fields[] = {
        VL_FIELD_STRING("name", VL_REQUIRED, struct plan_args, name, 0, 0),
        VL_FIELDS_END,
};
static const struct vl_params plan_params =
        VL_PARAMS(struct plan_args, plan_fields);

static void
show_plan(struct control_req *req, struct daemon *d, const void *args)
{
	const char *name = ((const struct plan_args *)args)->name;
	const struct plan *plan;

	plan = catalog_find(d->plans, name);
	if (plan == NULL) {
		control_error(req, VL_ERROR_NO_SUCH_PLAN,
		              json_pack("{s:s}", "name", name));
		return;
	}
	control_reply(req, json_pack("{s:o}", "plan", catalog_plan_json(plan)));
}

static void
reload(struct control_req *req, struct daemon *d, const void *args)
{
	char err[1024];

	(void)args;
	if (daemon_reload(d, err, sizeof(err)) < 0) {
		log_error(
		        "reload failed: %s; keeping the previous configuration",
		        err);
		control_error(req, VL_ERROR_RELOAD_FAILED,
		              json_pack("{s:s}", "message", err));
		return;
	}
	control_reply(req, NULL);
}

static const struct method methods[] = {
        {SERVICE ".GetInfo", get_info, false, &no_params},
        {SERVICE ".GetInterfaceDescription", get_interface_description, false,
         &interface_params},
        {VL_METHOD_GET_STATUS, get_status, false, &no_params},
        {VL_METHOD_GET_PLAN_PROGRESS, overview_method, false, &overview_params},
        {VL_METHOD_LIST_PLANS, list_plans, false, &no_params},
        {VL_METHOD_SHOW_PLAN, show_plan, false, &plan_params},
        {VL_METHOD_SUBMIT, jobs_submit, true, &jobs_submit_params},
        {VL_METHOD_LIST_JOBS, jobs_list, false, &jobs_list_params},
        {VL_METHOD_SHOW_JOB, jobs_show, false, &jobs_show_params},
        {VL_METHOD_PAUSE, jobs_pause, true, &jobs_select_params},
        {VL_METHOD_RESUME, jobs_resume, true, &jobs_select_params},
        {VL_METHOD_CANCEL, jobs_cancel, true, &jobs_select_params},
        {VL_METHOD_RETRY, jobs_retry, true, &jobs_select_params},
        {VL_METHOD_WATCH, jobs_watch, false, &jobs_watch_params},
        {VL_METHOD_RELOAD, reload, true, &no_params},
        {VL_METHOD_GET_LOG, audit_get_log, false, &audit_log_params},
        {VL_METHOD_VALIDATE, validate_method, false, &validate_params},
        {VL_METHOD_VERIFY, verify_method, false, &verify_params},
        {VL_METHOD_VERIFY_PLAN, verify_plan_method, false, &verify_plan_params},
        {VL_METHOD_ROLLBACK, rollback_method, true, &rollback_params},
        {VL_METHOD_ROLLBACK_PLAN, rollback_plan_method, true,
         &rollback_plan_params},
        {VL_METHOD_LIST_BACKUPS, backups_list, false, &backups_list_params},
        {VL_METHOD_DROP_BACKUPS, backups_drop, true, &backups_drop_params},
        {VL_METHOD_LIST_REJECTS, rejects_list, false, &rejects_list_params},
        {VL_METHOD_SCHEMA_APPLY, schema_jobs_apply, true, &schema_jobs_params},
        {VL_METHOD_SCHEMA_REVERT, schema_jobs_revert, true,
         &schema_jobs_params},
        {VL_METHOD_SCHEMA_STATUS, schema_status, false, &schema_status_params},
        {VL_METHOD_SCHEMA_BASELINE, schema_baseline, true,
         &schema_baseline_params},
        {VL_METHOD_SCHEMA_REPAIR, schema_repair, true, &schema_repair_params},
        {VL_METHOD_SCHEMA_DIFF, schema_diff_method, false, &schema_diff_params},
        {VL_METHOD_SCHEMA_DRIFT, schema_drift_method, false,
         &schema_drift_params},
        {VL_METHOD_SCHEMA_DUMP, schema_dump_method, false, &schema_dump_params},
        {VL_METHOD_SCHEMA_SQUASH, schema_squash_method, false,
         &schema_squash_params},
        {VL_METHOD_SCHEMA_ADOPT, schema_adopt, true, &schema_adopt_params},
        /* throttling and pacing */
        {VL_METHOD_GET_THROTTLE, throttle_get, false, &no_params},
        {VL_METHOD_THROTTLE_ON, throttle_on, true, &throttle_on_params},
        {VL_METHOD_THROTTLE_OFF, throttle_off, true, &throttle_off_params},
        {VL_METHOD_SET_JOB, throttle_set_job, true, &throttle_set_job_params},
};

/*
 * Checks the call's parameters against the method's table and hands the
 * filled struct to its handler; the first bad one gets InvalidParameter.
 */
static void
call_method(struct control_req *req, struct daemon *d, const struct method *m)
{
	const char *bad = NULL;
	/* calloc'd, so the handler may read it as its own struct */
	void *args = calloc(1, m->params->size > 0 ? m->params->size : 1);

	if (args == NULL) {
		dbcall_unavailable(req, "out of memory");
		return;
	}
	if (vl_dispatch(control_call(req)->parameters, m->params->fields, args,
	                &bad) < 0)
		control_invalid_param(req, bad);
	else
		m->fn(req, d, args);
	free(args);
}

/* Every mutating call is audited with its parameters and outcome. */
static void
on_mutating_end(struct control_req *req, const char *error, void *arg)
{
	const struct vl_call *call = control_call(req);

	audit_record(arg, control_peer_uid(req), call->method, call->parameters,
	             error != NULL ? error : "ok");
}

static bool
privileged(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* Root, the daemon's own user, or a member of admin_group (g: its entry,
 * NULL when admin_group is empty). */
static bool
authorized(const struct control_req *req, const struct nss_user *u,
           const struct nss_group *g)
{
	if (privileged(control_peer_uid(req)))
		return true;
	if (g == NULL || !g->found)
		return false;
	if (control_peer_gid(req) == g->gid)
		return true;
	return nss_user_in_group(u, g->gid);
}

/* A mutating call waiting for its caller's name and groups, or for the
 * admin group's entry. */
struct admin_call {
	struct control_req *req;
	struct daemon *d;
	const struct method *m;
};

static void admin_step(struct admin_call *a);

static void
on_caller_known(void *arg, const struct nss_user *u)
{
	struct admin_call *a = arg;

	if (u == NULL) { /* out of memory, or the daemon is stopping */
		dbcall_unavailable(a->req, "the caller's user could not be "
		                           "looked up");
		free(a);
		return;
	}
	admin_step(a);
}

static void
on_group_known(void *arg, const struct nss_group *g)
{
	struct admin_call *a = arg;

	if (g == NULL) {
		dbcall_unavailable(a->req, "admin_group could not be looked "
		                           "up");
		free(a);
		return;
	}
	admin_step(a);
}

/*
 * Decides once the caller (and, unless it is root or the daemon's user,
 * the current admin_group) are in the name-service cache; until then waits
 * for the lookup, off the loop, and comes back here. Frees a.
 */
static void
admin_step(struct admin_call *a)
{
	uid_t uid = control_peer_uid(a->req);
	const char *group = a->d->cfg.admin_group;
	bool need_group = group[0] != '\0' && !privileged(uid);
	const struct nss_user *u = nss_cache_peek(uid);
	const struct nss_group *g =
	        need_group ? nss_cache_peek_group(group) : NULL;
	int rc;

	if (u != NULL && (!need_group || g != NULL)) {
		if (authorized(a->req, u, g))
			call_method(a->req, a->d, a->m);
		else
			control_error(a->req, VL_ERR_PERMISSION_DENIED, NULL);
		free(a);
		return;
	}
	rc = u == NULL ? nss_cache_wait(uid, on_caller_known, a)
	               : nss_cache_wait_group(group, on_group_known, a);
	if (rc < 0) {
		dbcall_unavailable(a->req, "out of memory");
		free(a);
	}
}

/* The caller's name and groups come from the name-service cache (audit and
 * history record the name too). */
static void
dispatch_admin(struct control_req *req, struct daemon *d,
               const struct method *m)
{
	struct admin_call *a = calloc(1, sizeof(*a));

	control_on_end(req, on_mutating_end, d);
	if (a == NULL) {
		dbcall_unavailable(req, "out of memory");
		return;
	}
	*a = (struct admin_call){.req = req, .d = d, .m = m};
	admin_step(a);
}

void
methods_dispatch(struct control_req *req, void *arg)
{
	struct daemon *d = arg;
	const struct vl_call *call = control_call(req);
	size_t ilen = vl_method_interface_len(call->method);

	if (!((ilen == strlen(VL_INTERFACE) &&
	       strncmp(call->method, VL_INTERFACE, ilen) == 0) ||
	      (ilen == strlen(SERVICE) &&
	       strncmp(call->method, SERVICE, ilen) == 0))) {
		json_t *p = json_object();
		json_object_set_new(p, "interface",
		                    json_stringn(call->method, ilen));
		control_error(req, VL_ERR_INTERFACE_NOT_FOUND, p);
		return;
	}
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		const struct method *m = &methods[i];
		if (strcmp(m->name, call->method) != 0)
			continue;
		if (m->needs_admin)
			dispatch_admin(req, d, m);
		else
			call_method(req, d, m);
		return;
	}
	control_error(req, VL_ERR_METHOD_NOT_FOUND,
	              json_pack("{s:s}", "method", call->method));
}
