/*
 * The checksums of schema files already read, by path, so that a status,
 * baseline or repair of a set whose files have not changed only lists the
 * directory and stats each file instead of reading and hashing it again.
 * An entry holds while the file's size, mtime, ctime, inode and device are
 * the ones it was read with; a file changed less than a second before it
 * was read is not kept (it may change again within the same timestamp).
 * A map only: schema_files.c stats, reads and hashes. Pure, on the loop's
 * thread only.
 */
#ifndef SCHEMA_SUMS_H
#define SCHEMA_SUMS_H

#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

#include "schema_files.h"

/* Entries kept at most; the map starts over empty beyond it. */
#define SCHEMA_SUMS_MAX 262144

struct schema_sums;

struct schema_sum {
	char checksum[SCHEMA_CHECKSUM_LEN + 1];
	bool no_transaction;
};

struct schema_sums *schema_sums_new(void) __attribute__((warn_unused_result));
void schema_sums_free(struct schema_sums *s);

/* The entry of path when st is the stat it was read with, else NULL. */
const struct schema_sum *schema_sums_find(const struct schema_sums *s,
                                          const char *path,
                                          const struct stat *st);

/*
 * Keeps sum for path as read with stat st at time now (not kept when st
 * says the file changed within the second before now). Out of memory
 * only means no entry.
 */
void schema_sums_put(struct schema_sums *s, const char *path,
                     const struct stat *st, const struct schema_sum *sum,
                     const struct timespec *now);

/* Entries held (for tests and the bound). */
size_t schema_sums_count(const struct schema_sums *s);

#endif
