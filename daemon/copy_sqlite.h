/*
 * A copy step's reads from a SQLite source, as sqlite_worker requests (they
 * run on the source's worker thread; step_copy.c queues them and takes the
 * results on the loop).
 *
 * The probe learns select's columns, the key's storage class (integer or
 * text: batches walk one of the two) and the row estimate. A batch reads
 * the rows after lo, in key order, at most batch of them, in one read
 * transaction (BEGIN ... COMMIT: one snapshot, so a file the legacy
 * application writes meanwhile is read consistently), converts each value
 * to its target column's class (sqlite_convert.h) and appends the rows in
 * the COPY text format to data. A value that does not convert fails the
 * batch naming table, key, column and value; with keep_rejects the row is
 * left out of data and described in rejects instead.
 */
#ifndef COPY_SQLITE_H
#define COPY_SQLITE_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <sqlite3.h>

#include "sqlite_convert.h"

struct copy_sqlite_req {
	void *owner; /* the caller's; untouched */
	/* in */
	const char *select;        /* $n parameters */
	const char *const *values; /* $1..$nvalues, NULL for NULL */
	int nvalues;
	const char *key;   /* a column of select */
	const char *table; /* for messages: the target table */
	/* batch only */
	const char *lo;
	long long batch;
	bool key_int;
	const enum sqlite_conv_class *classes; /* one per column */
	bool keep_rejects;
	/* out */
	json_t *cols;       /* probe: [name, ...] of select */
	long long estimate; /* probe: rows */
	char *hi;           /* batch: the last key read (malloc'd) or NULL */
	long long rows;     /* batch: rows read, rejects included */
	struct evbuffer *data;
	json_t *rejects; /* batch: [{key, column, value, error}, ...] */
};

/* Probe (a sqlite_work_fn): cols, estimate, key_int. */
int copy_sqlite_probe(sqlite3 *db, void *req, char *err, size_t errlen);

/* One batch (a sqlite_work_fn): hi, rows, data, rejects. */
int copy_sqlite_batch(sqlite3 *db, void *req, char *err, size_t errlen);

/*
 * select's columns cols [[name, type], ...] take the types of the target
 * table's columns target [[name, generated, type], ...] (text where the
 * target has no such column): staged holds converted values. Returns the
 * conversion class of each column, also stored in *classes (freed first;
 * the caller frees it), or NULL on out of memory.
 */
const enum sqlite_conv_class *
copy_sqlite_types(json_t *cols, json_t *target,
                  enum sqlite_conv_class **classes);

/* The lowest value keys of that class are walked after. */
const char *copy_sqlite_lowest(bool key_int);

#endif
