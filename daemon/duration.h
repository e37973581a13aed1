/* Durations as written in migrated.conf and plans: 250ms, 2s, 5m, 1h. */
#ifndef DURATION_H
#define DURATION_H

/*
 * Reads text (a whole number with unit ms, s, m or h; a bare 0 is 0) into
 * *ms; -1 when it is not a duration.
 */
int duration_parse(const char *text, long long *ms)
        __attribute__((warn_unused_result));

/* Writes ms the way duration_parse reads it back ("1500ms", "2s"). */
void duration_format(long long ms, char *buf, unsigned long len);

/* Longest duration accepted: a day. */
#define DURATION_MAX_MS (24LL * 3600 * 1000)

#endif
