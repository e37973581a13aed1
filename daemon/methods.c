#include "methods.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "jobs.h"
#include "log.h"
#include "audit.h"
#include "backups.h"
#include "catalog.h"
#include "databases.h"
#include "scheduler.h"
#include "store.h"
#include "validate.h"

#define IFACE "io.migrated"
#define SERVICE "org.varlink.service"

extern const char migrated_interface[];

typedef void (*method_fn)(struct control_req *req, struct daemon *d,
                          json_t *params);

struct method {
	const char *name;
	method_fn fn;
	bool needs_admin;
	const char *const *params; /* the parameters it accepts */
};

static const char *const no_params[] = {NULL};

static void
get_info(struct control_req *req, struct daemon *d, json_t *params)
{
	(void)d;
	(void)params;
	control_reply(req, json_pack("{s:s, s:s, s:s, s:s, s:[s,s]}", "vendor",
	                             "migrated project", "product", "migrated",
	                             "version", MIGRATED_VERSION, "url",
	                             "https://example.invalid/migrated",
	                             "interfaces", SERVICE, IFACE));
}

static void
get_interface_description(struct control_req *req, struct daemon *d,
                          json_t *params)
{
	const char *name = NULL, *bad = NULL;

	(void)d;
	if (vl_param_string(params, "interface", true, &name, &bad) < 0) {
		control_invalid_param(req, bad);
		return;
	}
	if (strcmp(name, IFACE) == 0) {
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

static void
get_status(struct control_req *req, struct daemon *d, json_t *params)
{
	const struct job_counts *c = scheduler_counts(d->sched);
	const char *dberr =
	        store_ready(d->store) ? NULL : store_error(d->store);

	(void)params;
	control_reply(
	        req,
	        json_pack(
	                "{s:{s:s, s:I, s:I, s:s, s:s?, s:I, s:i, s:i, s:{s:I, s:I, s:I, "
	                "s:I, s:I, s:I, s:I}, s:I, s:f, s:o}}",
	                "status", "version", MIGRATED_VERSION, "pid",
	                (json_int_t)getpid(), "uptime_sec",
	                (json_int_t)(time(NULL) - d->started), "database",
	                store_db_state(d->store), "database_error", dberr,
	                "workers", (json_int_t)d->cfg.workers, "workers_busy",
	                scheduler_busy(d->sched), "plans",
	                catalog_count(d->plans), "jobs", "queued",
	                (json_int_t)c->queued, "running",
	                (json_int_t)c->running, "paused", (json_int_t)c->paused,
	                "succeeded", (json_int_t)c->succeeded, "failed",
	                (json_int_t)c->failed, "cancelled",
	                (json_int_t)c->cancelled, "rolled_back",
	                (json_int_t)c->rolled_back, "rows_done",
	                (json_int_t)scheduler_rows_done(d->sched),
	                "rows_per_sec", scheduler_rate(d->sched), "databases",
	                databases_status(d->dbs, d->store)));
}

static void
list_plans(struct control_req *req, struct daemon *d, json_t *params)
{
	json_t *list = json_array();

	(void)params;
	for (int i = 0; i < catalog_count(d->plans); i++)
		json_array_append_new(
		        list, catalog_plan_json(catalog_at(d->plans, i)));
	control_reply(req, json_pack("{s:o}", "plans", list));
}

static void
show_plan(struct control_req *req, struct daemon *d, json_t *params)
{
	const char *name = NULL, *bad = NULL;
	const struct plan *plan;

	if (vl_param_string(params, "name", true, &name, &bad) < 0) {
		control_invalid_param(req, bad);
		return;
	}
	plan = catalog_find(d->plans, name);
	if (plan == NULL) {
		control_error(req, IFACE ".NoSuchPlan",
		              json_pack("{s:s}", "name", name));
		return;
	}
	control_reply(req, json_pack("{s:o}", "plan", catalog_plan_json(plan)));
}

static void
reload(struct control_req *req, struct daemon *d, json_t *params)
{
	char err[1024];

	(void)params;
	if (daemon_reload(d, err, sizeof(err)) < 0) {
		log_error(
		        "reload failed: %s; keeping the previous configuration",
		        err);
		control_error(req, IFACE ".ReloadFailed",
		              json_pack("{s:s}", "message", err));
		return;
	}
	control_reply(req, NULL);
}

static const char *const status_params[] = {NULL};
static const char *const interface_params[] = {"interface", NULL};
static const char *const plan_params[] = {"name", NULL};

static const struct method methods[] = {
        {SERVICE ".GetInfo", get_info, false, no_params},
        {SERVICE ".GetInterfaceDescription", get_interface_description, false,
         interface_params},
        {IFACE ".GetStatus", get_status, false, status_params},
        {IFACE ".ListPlans", list_plans, false, no_params},
        {IFACE ".ShowPlan", show_plan, false, plan_params},
        {IFACE ".Submit", jobs_submit, true, jobs_submit_params},
        {IFACE ".ListJobs", jobs_list, false, jobs_list_params},
        {IFACE ".ShowJob", jobs_show, false, jobs_show_params},
        {IFACE ".Pause", jobs_pause, true, jobs_select_params},
        {IFACE ".Resume", jobs_resume, true, jobs_select_params},
        {IFACE ".Cancel", jobs_cancel, true, jobs_select_params},
        {IFACE ".Retry", jobs_retry, true, jobs_select_params},
        {IFACE ".Watch", jobs_watch, false, jobs_watch_params},
        {IFACE ".Reload", reload, true, no_params},
        {IFACE ".GetLog", audit_get_log, false, audit_log_params},
        {IFACE ".Validate", validate_method, false, validate_params},
        {IFACE ".Verify", verify_method, false, verify_params},
        {IFACE ".Rollback", backups_rollback, true, backups_rollback_params},
        {IFACE ".ListBackups", backups_list, false, backups_list_params},
        {IFACE ".DropBackups", backups_drop, true, backups_drop_params},
};

/* Every mutating call is audited with its parameters and outcome. */
static void
on_mutating_end(struct control_req *req, const char *error, void *arg)
{
	const struct vl_call *call = control_call(req);

	audit_record(arg, control_peer_uid(req), call->method, call->parameters,
	             error != NULL ? error : "ok");
}

/* Root, the daemon's own user, or a member of admin_group. */
static bool
authorized(const struct control_req *req, const struct daemon *d)
{
	uid_t uid = control_peer_uid(req);
	struct passwd *pw;
	gid_t groups[256];
	int n = 256;

	if (uid == 0 || uid == geteuid())
		return true;
	if (d->admin_gid == (gid_t)-1)
		return false;
	if (control_peer_gid(req) == d->admin_gid)
		return true;
	pw = getpwuid(uid);
	if (pw == NULL || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == d->admin_gid)
			return true;
	return false;
}

void
methods_dispatch(struct control_req *req, void *arg)
{
	struct daemon *d = arg;
	const struct vl_call *call = control_call(req);
	size_t ilen = vl_method_interface_len(call->method);
	const char *bad = NULL;

	if (!((ilen == strlen(IFACE) &&
	       strncmp(call->method, IFACE, ilen) == 0) ||
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
			control_on_end(req, on_mutating_end, d);
		if (m->needs_admin && !authorized(req, d)) {
			control_error(req, VL_ERR_PERMISSION_DENIED, NULL);
			return;
		}
		if (vl_params_only(call->parameters, m->params, &bad) < 0) {
			control_invalid_param(req, bad);
			return;
		}
		m->fn(req, d, call->parameters);
		return;
	}
	control_error(req, VL_ERR_METHOD_NOT_FOUND,
	              json_pack("{s:s}", "method", call->method));
}
