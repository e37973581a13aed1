/* The daemon's long-lived state, owned by main.c. */
#ifndef DAEMON_H
#define DAEMON_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include <event2/event.h>

#include "config.h"

struct schema_sums;
struct schema_scratch_sweep;

struct daemon {
	struct event_base *base;
	struct config cfg;
	struct catalog *plans; /* replaced on reload */
	struct store *store;
	struct databases *dbs; /* [database NAME] sections */
	struct scheduler *sched;
	struct throttle *throttle;       /* throttles and rows/s budgets */
	struct jobends *ends;            /* LISTENs for job ends, for Watch */
	struct overview *overview;       /* GetPlanProgress and the rates */
	struct schema_sums *sums;        /* the schema sets' file checksums */
	struct audit_spool *audit_spool; /* NULL when audit_spool is empty */
	struct schema_scratch_sweep *sweep; /* leftovers dropped at start */
	time_t started;
	bool ready; /* READY=1 sent */
	bool debug; /* -d: debug messages whatever log_level says */
};

/*
 * Re-reads the configuration file and the plans. On failure keeps the old
 * ones, returns -1 and fills err with "file:line: message".
 */
int daemon_reload(struct daemon *d, char *err, size_t errlen)
        __attribute__((warn_unused_result));

#endif
