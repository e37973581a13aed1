/*
 * What a schema run (schema_apply.c) will do, decided before it runs
 * anything: the set's history (its applied versions) against the directory
 * as it is now. An apply runs every file not applied yet, up to a version
 * if asked, and is refused while an applied file was edited or is missing;
 * a revert runs the down files of the newest applied versions (above a
 * version, or the newest only), newest first, and is refused while one of
 * them has no down file or its down file changed since the apply. Pure:
 * unit-testable.
 */
#ifndef SCHEMA_APPLY_PLAN_H
#define SCHEMA_APPLY_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "schema_files.h"

/* An applied row's adopted_from, when the version had a down file. */
#define SCHEMA_DOWN_PREFIX "down:"

/* One file to run: the version's file, or its down file for a revert. */
struct schema_item {
	const struct schema_file *f;
	const char *sql, *path, *checksum;
	bool no_tx;
	char step[256]; /* NNN_name, as the file is called */
};

/* One applied version, as the set's history says (its newest row). */
struct schema_applied {
	long long version;
	const char *kind, *checksum, *name;
	const char
	        *down; /* adopted_from: SCHEMA_DOWN_PREFIX "sha256", or NULL */
};

/* What the plan reads; nothing is kept. */
struct schema_plan_in {
	const struct schema_dir *dir;
	const struct schema_applied *applied; /* by version, ascending */
	size_t napplied;
	const char *set, *dbname, *dir_path; /* for the messages */
	bool revert;
	long long to; /* -1: none */
};

struct schema_plan {
	struct schema_item *items; /* the caller's, room for dir->n */
	size_t nitems;
	char err[4096]; /* why it was refused */
	char note[512]; /* a warning for the job ("" when none) */
};

/* Fills p->items in the order they run; -1 (and p->err) when refused. */
int schema_apply_plan(const struct schema_plan_in *in, struct schema_plan *p)
        __attribute__((warn_unused_result));

#endif
