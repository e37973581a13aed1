/* systemd service notifications: READY, STATUS, STOPPING, watchdog. */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <event2/event.h>

/* Starts watchdog pings at half WATCHDOG_USEC when systemd asks for them. */
int notify_init(struct event_base *base) __attribute__((warn_unused_result));
void notify_finish(void);

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
/* A one-line STATUS=; sent only when it changed. */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
