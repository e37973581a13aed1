/*
 * SQLite values converted to PostgreSQL column types, as text in the COPY
 * text format (escaped, \N for NULL). Pure: the rules of man 5
 * migrated.plan ("SQLite sources") in one place, unit-tested.
 *
 * The target type (as format_type names it) picks a class; the class and
 * the SQLite storage class of the value decide:
 *
 *   integer types   INTEGER; REAL with no fraction; TEXT of an integer
 *   numeric, float  INTEGER, REAL; TEXT of a number
 *   boolean         INTEGER 0/1; TEXT 0/1, true/false, t/f, yes/no, y/n,
 *                   on/off (any case)
 *   bytea           BLOB and TEXT as their bytes
 *   date            TEXT YYYY-MM-DD (a time of 00:00:00 may follow);
 *                   INTEGER/REAL unix epoch seconds (UTC)
 *   timestamp,      TEXT ISO 8601 YYYY-MM-DD[T| ]HH:MM[:SS[.frac]] with an
 *   timestamptz     optional Z or +HH[:MM]/-HH[:MM] (timestamptz: no offset
 *                   is UTC); INTEGER/REAL unix epoch seconds (UTC)
 *   json, jsonb     TEXT that parses as JSON
 *   text and others INTEGER, REAL and TEXT as text (REAL shortest round
 *                   trip); BLOB only when valid UTF-8. Other types' input
 *                   functions (uuid, inet, enums...) judge the text.
 *   any             NULL is NULL
 *
 * Anything else does not convert: the caller fails the job or keeps the
 * row as a reject, with the reason written here.
 */
#ifndef SQLITE_CONVERT_H
#define SQLITE_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

enum sqlite_conv_class {
	SQLITE_CONV_TEXT, /* and every type not named below */
	SQLITE_CONV_INT,
	SQLITE_CONV_NUMERIC,
	SQLITE_CONV_BOOL,
	SQLITE_CONV_BYTEA,
	SQLITE_CONV_DATE,
	SQLITE_CONV_TIMESTAMP,
	SQLITE_CONV_TIMESTAMPTZ,
	SQLITE_CONV_JSON,
};

/* One SQLite value (the fields sqlite3_column_* give). */
struct sqlite_cell {
	int type;  /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB,
	              SQLITE_NULL */
	int64_t i; /* INTEGER */
	double r;  /* FLOAT */
	const unsigned char *p; /* TEXT, BLOB */
	size_t n;
};

/* The class of a PostgreSQL type name (format_type's spelling). */
enum sqlite_conv_class sqlite_conv_class_of(const char *pgtype);

/*
 * Appends cell converted for class to out in COPY text format. -1 when it
 * does not convert, with the reason in why (e.g. "not an integer").
 */
int sqlite_convert(const struct sqlite_cell *cell, enum sqlite_conv_class cls,
                   struct evbuffer *out, char *why, size_t whylen)
        __attribute__((warn_unused_result));

/* The cell as a person reads it (for errors and rejects), in buf. */
const char *sqlite_cell_show(const struct sqlite_cell *cell, char *buf,
                             size_t len);

#endif
