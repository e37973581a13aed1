/*
 * Rates from counters: a counter (rows done of a plan's step, of a plan,
 * of everything) is sampled at times t; its rate is the difference of two
 * samples over the time between them, never a guess. Pure: the caller
 * gives the times.
 */
#ifndef RATES_H
#define RATES_H

#define RATES_SAMPLES 32   /* kept per counter */
#define RATES_KEEP_SEC 120 /* samples older than this are dropped */

struct rates;

struct rates *rates_new(void) __attribute__((warn_unused_result));
void rates_free(struct rates *r);

/*
 * Records that counter key was value at time t (seconds, non-decreasing).
 * A value below the last one (the counter was reset: a tenant started
 * afresh) drops the older samples. -1 on out of memory.
 */
int rates_add(struct rates *r, const char *key, double t, long long value)
        __attribute__((warn_unused_result));

/*
 * Units per second between key's newest sample and the oldest one at most
 * window seconds before it; -1 when there are not two samples at least
 * one second apart, or the newest is more than window seconds before now
 * (nobody samples a counter that stopped).
 */
double rates_get(const struct rates *r, const char *key, double now,
                 double window);

#endif
