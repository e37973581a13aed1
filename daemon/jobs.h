/*
 * Job operations for the control socket: submit, list, show, pause,
 * resume, cancel, retry, watch. Each is one SQL statement on the store's
 * connection, so several daemons sharing one database agree.
 */
#ifndef JOBS_H
#define JOBS_H

#include <jansson.h>

#include "control.h"
#include "vl_dispatch.h"

struct daemon;

/*
 * Each method's parameters, and its handler, which gets them as that
 * table filled them in (see methods.c). Pause, Resume, Cancel and Retry
 * share theirs.
 */
extern const struct vl_params jobs_submit_params;
extern const struct vl_params jobs_list_params;
extern const struct vl_params jobs_show_params;
extern const struct vl_params jobs_select_params;
extern const struct vl_params jobs_watch_params;

void jobs_submit(struct control_req *req, struct daemon *d, const void *args);
void jobs_list(struct control_req *req, struct daemon *d, const void *args);
void jobs_show(struct control_req *req, struct daemon *d, const void *args);
void jobs_pause(struct control_req *req, struct daemon *d, const void *args);
void jobs_resume(struct control_req *req, struct daemon *d, const void *args);
void jobs_cancel(struct control_req *req, struct daemon *d, const void *args);
void jobs_retry(struct control_req *req, struct daemon *d, const void *args);
void jobs_watch(struct control_req *req, struct daemon *d, const void *args);

#endif
