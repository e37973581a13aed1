/*
 * SchemaAdopt's matching, pure: each row of a foreign tool's history
 * (as its query in schema_adopt_tools.c reads it) finds its local file by
 * version, by name, by the sha256 of the file's raw text, or as "every file
 * up to" a current version; the set's own history then says whether the
 * file is to be recorded (adopted), was recorded before (already) or
 * conflicts. The report is one row per outcome, the versions to record and
 * a note saying what happened and what the operator does next.
 */
#ifndef SCHEMA_ADOPT_MATCH_H
#define SCHEMA_ADOPT_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "schema_adopt_tools.h"
#include "schema_files.h"

/* One row of a foreign tool's history; NULL where the query gave NULL. */
struct adopt_foreign {
	const char *foreign; /* the row as the tool names it */
	const char *version; /* digits */
	const char *name;
	const char *hash;
	const char *state;   /* "ok", "dirty", "failed", "ignored", ... */
	const char *message; /* why, when state is not "ok" */
};

/* What the set's history says of one version. */
struct adopt_recorded {
	long long version;
	const char *kind;     /* of its newest succeeded row; NULL when none */
	const char *checksum; /* of that row */
	bool failed;          /* its newest row failed */
};

/* The sha256 (hex) of a file's raw text, as a foreign tool may keep it. */
struct adopt_sha256 {
	char hex[SCHEMA_CHECKSUM_LEN + 1];
};

/* What a matching reads; nothing is kept. */
struct adopt_match_in {
	const struct adopt_tool *tool;
	const char *set;
	const char *label; /* "Drizzle (drizzle.__drizzle_migrations)" */
	const struct schema_dir *dir;
	const struct adopt_sha256 *raw; /* one per file of dir */
	const struct adopt_recorded *rec;
	size_t nrec;
};

/* What it fills: rows and insert are arrays of the caller's. */
struct adopt_report {
	json_t *rows;   /* []AdoptedRow: foreign, version, outcome, message */
	json_t *insert; /* [{version, name, checksum}] to record */
	int blocked;    /* rows that stop the adopt */
	int already;    /* rows recorded before */
};

/* Matches n foreign rows, in order, adding to *out. */
void schema_adopt_match(const struct adopt_match_in *in,
                        const struct adopt_foreign *rows, size_t n,
                        struct adopt_report *out);

/* The report's note for nforeign rows (malloc'd), or NULL. */
char *schema_adopt_note(const struct adopt_match_in *in,
                        const struct adopt_report *rep, size_t nforeign)
        __attribute__((warn_unused_result));

/* The raw sha256 of each file of dir (free()), or NULL. */
struct adopt_sha256 *schema_adopt_raw_checksums(const struct schema_dir *dir)
        __attribute__((warn_unused_result));

#endif
