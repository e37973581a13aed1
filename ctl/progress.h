/*
 * Progress of jobs for people: rows done of rows estimated, percentages,
 * and live lines (one per job, with a bar, rate and time left) redrawn in
 * place on a terminal.
 */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/*
 * "45000/100000" of a Job or StepProgress ("45000/?" when nothing is
 * estimated); malloc'd, NULL only when out of memory.
 */
char *progress_rows_text(const json_t *obj) __attribute__((warn_unused_result));
/*
 * The TENANT column of list and watch: the tenant, or "NEW (from OLD)" of
 * a pair's job; malloc'd like the above.
 */
char *progress_tenant_text(const json_t *job)
        __attribute__((warn_unused_result));
/* "45%", or "-" when nothing is estimated; malloc'd like the above. */
char *progress_percent_text(const json_t *job)
        __attribute__((warn_unused_result));

/*
 * "[#####---------------]  25%" of obj's rows done of estimated, with a
 * bar of width (at most PROGRESS_BAR_WIDTH) columns; malloc'd.
 */
#define PROGRESS_BAR_WIDTH 20
char *progress_bar_text(const json_t *obj, int width)
        __attribute__((warn_unused_result));

struct progress;

struct progress *progress_new(FILE *f) __attribute__((warn_unused_result));
/* Records a new state of a job (a Job object). Returns 0, or -1. */
int progress_update(struct progress *p, const json_t *job)
        __attribute__((warn_unused_result));
/*
 * Redraws the lines; unless force, at most ten times a second. Returns 0,
 * or -1 if out of memory.
 */
int progress_draw(struct progress *p, bool force)
        __attribute__((warn_unused_result));
void progress_free(struct progress *p);

#endif
