/*
 * Pacing, pure: the batch size that makes batches take about a target
 * duration, and the wait a rows-per-second cap asks for. No clock and no
 * I/O here: callers pass the times (docs/DECISIONS.md, "Adaptive batch
 * size", says where the rules come from).
 */
#ifndef PACING_H
#define PACING_H

#include <stdbool.h>

/* Growth per batch is capped at this factor (20%). */
#define PACING_MAX_GROWTH 1.2
/* Weight of the past in the weighted rate (pt-online-schema-change's). */
#define PACING_WEIGHT 0.75

struct pacing {
	long long target_ms; /* 0: fixed size */
	long long min, max;  /* bounds of the size */
	long long size;      /* the size of the next batch, never 0 */
	/* the decayed sums of the weighted rate: rows and milliseconds */
	double rows, ms;
};

/*
 * Starts at size (clamped into [min, max]; min 0 means 1, max 0 means no
 * upper bound); target_ms 0 keeps the size fixed.
 */
void pacing_init(struct pacing *p, long long size, long long target_ms,
                 long long min, long long max);

/*
 * A batch of rows rows took ms milliseconds: the next size. Grows by at
 * most PACING_MAX_GROWTH a batch; a batch that ran long (ms above the
 * target) shrinks the size at once, to what the batch's own rate fits in
 * the target. Returns the new size.
 */
long long pacing_batch_done(struct pacing *p, long long rows, long long ms);

/* Sets the size now (an operator's --batch-size), within the bounds. */
void pacing_set_size(struct pacing *p, long long size);

/*
 * A rows-per-second budget: a bucket that drains at cap rows a second.
 * next_ms is when the next batch may start.
 */
struct pacing_budget {
	long long next_ms;
};

/*
 * rows were done at now_ms under cap rows/s (0: no cap): how long to wait,
 * in ms, before the next batch (0: at once).
 */
long long pacing_budget_spend(struct pacing_budget *b, long long now_ms,
                              long long rows, long long cap);

/* How long until the budget allows a batch again, in ms (0: now). */
long long pacing_budget_wait(const struct pacing_budget *b, long long now_ms);

#endif
