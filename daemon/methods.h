/* The Varlink methods: one dispatch table, authorization, replies. */
#ifndef METHODS_H
#define METHODS_H

#include "control.h"

/* control_dispatch_fn for struct daemon *. */
void methods_dispatch(struct control_req *req, void *daemon);

#endif
