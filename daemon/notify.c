#include "notify.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "log.h"

static struct event *watchdog;
static char last_status[512];

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

int
notify_init(struct event_base *base)
{
	uint64_t usec = 0;
	struct timeval tv;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	watchdog = event_new(base, -1, EV_PERSIST, on_watchdog, NULL);
	if (watchdog == NULL || event_add(watchdog, &tv) < 0) {
		log_error("cannot start the watchdog timer");
		return -1;
	}
	sd_notify(0, "WATCHDOG=1");
	log_debug("watchdog ping every %llu ms",
	          (unsigned long long)(usec / 1000));
	return 0;
}

void
notify_finish(void)
{
	if (watchdog != NULL)
		event_free(watchdog);
	watchdog = NULL;
}

void
notify_ready(void)
{
	sd_notify(0, "READY=1");
}

void
notify_reloading(void)
{
	struct timespec ts;

	/* MONOTONIC_USEC lets systemd (Type=notify-reload) tell this reload
	 * from an older one */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%lld",
	           (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000);
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void
notify_status(const char *fmt, ...)
{
	char status[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(status, sizeof(status), fmt, ap);
	va_end(ap);
	if (strcmp(status, last_status) == 0)
		return;
	memcpy(last_status, status, sizeof(last_status));
	sd_notifyf(0, "STATUS=%s", status);
}
