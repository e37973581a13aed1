/*
 * A schema set's directory: versioned files NNN_name.sql, applied in
 * numeric order (gaps allowed), each with an optional NNN_name.down.sql
 * that undoes it. A duplicate version is refused ("file: message").
 * Checksums are sha256 (hex) of the text with CRLF and CR line ends made
 * LF, so a checkout on Windows does not count as an edit.
 */
#ifndef SCHEMA_FILES_H
#define SCHEMA_FILES_H

#include <stdbool.h>
#include <stddef.h>

#define SCHEMA_CHECKSUM_LEN 64 /* hex digits of a sha256 */

struct schema_file {
	long long version; /* NNN (leading zeros dropped) */
	char *name;        /* after NNN_, without .sql */
	char *path;
	char *sql; /* the file's text, as read (NULL from schema_dir_scan) */
	char checksum[SCHEMA_CHECKSUM_LEN + 1];
	bool no_transaction; /* first line "-- migrated: no-transaction" */
	char *down_path;     /* NULL when there is no down file */
	char *down_sql;
	char down_checksum[SCHEMA_CHECKSUM_LEN + 1];
};

struct schema_dir {
	char *dir;
	struct schema_file *files; /* by version, ascending */
	size_t n;
};

/* Reads dir. NULL with "file: message" (or "dir: message") in err. */
struct schema_dir *schema_dir_load(const char *dir, char *err, size_t errlen)
        __attribute__((warn_unused_result));
void schema_dir_free(struct schema_dir *d);

struct schema_sums;
/*
 * Like schema_dir_load, for the checksums only: sql and down_sql stay
 * NULL, and a file unchanged since sums last saw it is not read again
 * (schema_sums.h).
 */
struct schema_dir *schema_dir_scan(const char *dir, struct schema_sums *sums,
                                   char *err, size_t errlen)
        __attribute__((warn_unused_result));

const struct schema_file *schema_dir_find(const struct schema_dir *d,
                                          long long version);

/* sha256 hex of text with line ends normalised; out has 65 bytes. */
void schema_checksum(const char *text, size_t len, char *out);

#endif
