/*
 * Values of the daemon's replies, read leniently: a missing or null field,
 * or one of an unexpected type, gives the default instead of failing.
 */
#ifndef VALUE_H
#define VALUE_H

#include <jansson.h>

/* obj[key], or NULL when it is missing or null. */
const json_t *value_get(const json_t *obj, const char *key);
/* obj[key] as a string, or NULL. */
const char *value_str(const json_t *obj, const char *key);
/* obj[key] as an integer, or def. */
long long value_int(const json_t *obj, const char *key, long long def);

/*
 * v as text for people (malloc'd; NULL only when out of memory): strings
 * as they are, numbers in decimal, booleans as "yes"/"no", arrays as
 * "a, b" ("-" when empty), objects as compact JSON, null as "-".
 */
char *value_text(const json_t *v) __attribute__((warn_unused_result));
/* obj[key] as value_text shows it; "-" when missing. */
char *value_field(const json_t *obj, const char *key)
        __attribute__((warn_unused_result));

/*
 * "a=1 b=x": the members of obj that are not null as NAME=VALUE, joined by
 * sep, ordered by compare (given pointers to two const char * names;
 * NULL: by name), each value as text shows it (malloc'd; "" when there is
 * none; NULL only when out of memory).
 */
char *value_assignments(const json_t *obj, const char *sep,
                        int (*compare)(const void *, const void *),
                        char *(*text)(const json_t *v))
        __attribute__((warn_unused_result));

#endif
