/*
 * Job operations for the control socket: submit, list, show, pause,
 * resume, cancel, retry, watch. Each is one SQL statement on the store's
 * connection, so several daemons sharing one database agree.
 */
#ifndef JOBS_H
#define JOBS_H

#include <jansson.h>

#include "control.h"

struct daemon;

extern const char *const jobs_submit_params[];
extern const char *const jobs_list_params[];
extern const char *const jobs_show_params[];
extern const char *const jobs_select_params[];
extern const char *const jobs_watch_params[];

void jobs_submit(struct control_req *req, struct daemon *d, json_t *params);
void jobs_list(struct control_req *req, struct daemon *d, json_t *params);
void jobs_show(struct control_req *req, struct daemon *d, json_t *params);
void jobs_pause(struct control_req *req, struct daemon *d, json_t *params);
void jobs_resume(struct control_req *req, struct daemon *d, json_t *params);
void jobs_cancel(struct control_req *req, struct daemon *d, json_t *params);
void jobs_retry(struct control_req *req, struct daemon *d, json_t *params);
void jobs_watch(struct control_req *req, struct daemon *d, json_t *params);

#endif
