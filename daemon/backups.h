/* Backups of pre-images: Rollback, ListBackups, DropBackups. */
#ifndef BACKUPS_H
#define BACKUPS_H

#include <jansson.h>

#include "control.h"

struct daemon;

extern const char *const backups_rollback_params[];
extern const char *const backups_list_params[];
extern const char *const backups_drop_params[];

void backups_rollback(struct control_req *req, struct daemon *d,
                      json_t *params);
void backups_list(struct control_req *req, struct daemon *d, json_t *params);
void backups_drop(struct control_req *req, struct daemon *d, json_t *params);

#endif
