/*
 * Rejects: the rows of SQLite sources whose values did not convert, kept
 * in migrated.rejects by copy steps with rejects = keep (ListRejects).
 */
#ifndef REJECTS_H
#define REJECTS_H

#include "control.h"
#include "vl_dispatch.h"

struct daemon;

extern const struct vl_params rejects_list_params;

void rejects_list(struct control_req *req, struct daemon *d, const void *args);

#endif
