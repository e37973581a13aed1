/*
 * Aligned text tables for people, and the text helpers they use: display
 * widths of UTF-8 text, durations and sizes.
 */
#ifndef TABLE_H
#define TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

struct table_column {
	const char *header; /* NULL: the table has no header line */
	bool right;         /* right-aligned (numbers) */
};

/* Cells fill rows left to right; a failed allocation sticks in failed. */
struct table {
	const struct table_column *cols;
	size_t ncols;
	char **cells;
	size_t ncells;
	size_t cap;
	bool failed;
};

#define TABLE_MAX_COLS 16

/* Key: value summaries are tables of two columns without a header. */
extern const struct table_column table_summary[2];

void table_init(struct table *t, const struct table_column *cols, size_t ncols);
void table_clear(struct table *t);
/* Appends text (taken over; NULL means allocation failed) as a cell. */
void table_put(struct table *t, char *text);
void table_cell(struct table *t, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/*
 * Appends text (taken over, like table_put) as a line of its own between
 * rows: it is not aligned and does not widen the columns.
 */
void table_line(struct table *t, char *text);
/* obj[key] as a cell, as value_field() shows it. */
void table_field(struct table *t, const json_t *obj, const char *key);
/* A row "Label:" obj[key] of a summary. */
void table_summary_field(struct table *t, const char *label, const json_t *obj,
                         const char *key);
/*
 * Prints and clears t. Empty cells at the end of a row print nothing.
 * Returns 0, or -1 if an allocation failed.
 */
int table_done(struct table *t, FILE *f) __attribute__((warn_unused_result));

/*
 * Bytes of s that fit in max columns, and in *width the columns they take.
 * Invalid UTF-8 counts one column a byte.
 */
size_t table_fit(const char *s, size_t max, size_t *width);
/* Columns s takes on a terminal. */
size_t table_width(const char *s);
/*
 * Control characters from the daemon must not reach the terminal: line
 * breaks and tabs become blanks, others '?'.
 */
void table_sanitize(char *s);
/*
 * s cut to at most max columns, ending in "..." when it was cut
 * (malloc'd; NULL only when out of memory).
 */
char *table_shorten(const char *s, size_t max)
        __attribute__((warn_unused_result));

/* "3d 4h", "4h 12m", "12m 5s", "5s": the largest unit and the next. */
void table_duration(char *buf, size_t len, double sec);
/* "512 B", "1.5 KiB", "20 MiB", ...: bytes in binary units. */
void table_size(char *buf, size_t len, long long bytes);

#endif
