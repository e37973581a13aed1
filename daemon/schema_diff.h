/*
 * Comparison of two schema snapshots (schema_snapshot.h): pure, no I/O.
 *
 * A snapshot is a JSON object {kind: {name: definition}} where kind is one
 * of SCHEMA_DIFF_KINDS and name the object's qualified name (for
 * constraints, indexes and triggers the normalised definition itself, so
 * that their names never count). Definitions are compared after
 * schema_diff_squeeze(): runs of white space are one space, none at the
 * ends, so re-indented function bodies and view texts are equal.
 */
#ifndef SCHEMA_DIFF_H
#define SCHEMA_DIFF_H

#include <jansson.h>

/* The kinds, in the order differences are reported. */
#define SCHEMA_DIFF_KINDS                                                      \
	"extension", "enum", "sequence", "table", "column", "constraint",      \
	        "index", "view", "function", "trigger", "policy"

/*
 * The differences between snapshots a and b, as []SchemaDifference of
 * io.migrated.varlink ({kind, name, change, a, b}, change being
 * "only_in_a", "only_in_b" or "differs"), by kind in SCHEMA_DIFF_KINDS
 * order, then by name. Kinds not in the list are compared too, after
 * those. A missing or non-object kind counts as empty. A new reference;
 * NULL when out of memory.
 */
json_t *schema_diff(const json_t *a, const json_t *b)
        __attribute__((warn_unused_result));

/* s with white space squeezed (malloc'd), or NULL when out of memory. */
char *schema_diff_squeeze(const char *s) __attribute__((warn_unused_result));

#endif
