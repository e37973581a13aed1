/* Verify with compare = true: the compare of one job, as a reply. */
#include "compare.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "checks.h"
#include "compare_rows.h"
#include "daemon.h"
#include "dbcall.h"
#include "log.h"
#include "pg.h"
#include "vl_names.h"

struct verify {
	struct control_req *req;
	struct catalog *cat;
	json_t *reply;
	struct compare *compare;
};

static void
verify_free(struct verify *v)
{
	catalog_unref(v->cat);
	json_decref(v->reply);
	free(v);
}

static void
on_verify_cancel(struct control_req *req, void *arg)
{
	struct verify *v = arg;

	compare_cancel(v->compare);
	dbcall_unavailable(req, "compare stopped: the client went away or "
	                        "the daemon is stopping");
	verify_free(v);
}

static void
on_verify_done(void *arg, const struct compare_outcome *out)
{
	struct verify *v = arg;

	if (out->error != NULL && out->unavailable) {
		dbcall_unavailable(v->req, out->error);
	} else if (out->error != NULL) {
		control_error(v->req, VL_ERROR_DATABASE_ERROR,
		              json_pack("{s:s, s:s}", "message", out->error,
		                        "sqlstate", out->sqlstate));
	} else {
		json_object_set(v->reply, "compare", out->steps);
		if (!out->ok)
			json_object_set_new(v->reply, "ok", json_false());
		control_reply(v->req, v->reply);
		v->reply = NULL;
	}
	verify_free(v);
}

void
compare_verify(struct control_req *req, struct daemon *d, struct catalog *cat,
               const struct plan *plan, json_t *job, json_t *reply)
{
	struct verify *v = calloc(1, sizeof(*v));
	struct compare_job cj = {
	        .id = json_integer_value(json_object_get(job, "id")),
	        .plan = plan,
	        .tenant = json_string_value(json_object_get(job, "tenant")),
	        .pair = json_string_value(json_object_get(job, "pair")),
	        .params = json_object_get(job, "params"),
	        .args = json_object_get(job, "args"),
	        .steps = json_object_get(job, "steps"),
	};

	if (v == NULL || cj.tenant == NULL) {
		free(v);
		json_decref(reply);
		dbcall_unavailable(req, "out of memory");
		return;
	}
	v->req = req;
	v->cat = catalog_ref(cat);
	v->reply = reply;
	v->compare = compare_job(d->base, &d->cfg, &cj, on_verify_done, v);
	if (v->compare == NULL) {
		verify_free(v);
		dbcall_unavailable(req, "out of memory");
		return;
	}
	control_on_cancel(req, on_verify_cancel, v);
}
