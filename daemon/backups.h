/* Backups of pre-images: ListBackups, DropBackups (rollback.c restores them). */
#ifndef BACKUPS_H
#define BACKUPS_H

#include <jansson.h>

#include "control.h"
#include "vl_dispatch.h"

struct daemon;

extern const struct vl_params backups_list_params;
extern const struct vl_params backups_drop_params;

void backups_list(struct control_req *req, struct daemon *d, const void *args);
void backups_drop(struct control_req *req, struct daemon *d, const void *args);

#endif
