/*
 * Following jobs with io.migrated.Watch until they end: live progress
 * lines on a terminal, JSON lines otherwise; and the outcome of the jobs
 * a command waited for (submit --wait, rollback --wait).
 */
#ifndef WATCH_H
#define WATCH_H

#include <stdbool.h>

#include <jansson.h>

#include "progress.h"
#include "session.h"

struct watch {
	struct progress *progress; /* NULL: one JSON line per update */
	json_t *last;              /* job id (as text) -> latest Job */
	struct vl_reply error;     /* the daemon's error reply, if any */
	const char *bad;           /* why a reply is malformed */
	bool write_failed;
};

/*
 * Streams the jobs in ids (stolen; NULL: every unfinished job) until they
 * have ended. On success, w->last holds each job's latest state. The
 * caller clears w with watch_clear in any case.
 */
int watch_jobs(struct session *s, json_t *ids, struct watch *w);
void watch_clear(struct watch *w);

/*
 * After watch_jobs: reports on stderr every job of ids that did not
 * succeed and returns CTL_EXIT_FAILED if there was one. *jobs (when not
 * NULL) gets the final state of each job, in the order of ids.
 */
int watch_outcome(struct session *s, const json_t *ids, struct watch *w,
                  json_t **jobs);

/*
 * --wait: follows the jobs in ids (borrowed) until they have ended, then
 * reports those that did not succeed (CTL_EXIT_FAILED) and, without
 * --json, what dry runs would change.
 */
int watch_wait(struct session *s, const json_t *ids);

#endif
