/*
 * Inside the plan loader; users of plans include plan.h. A plan file is
 * read (plan_read.c) into raw sections that keep the line of every key and
 * value line. Each section type is a row of plan.c's table with a builder
 * (plan_build.c: [plan], [check], [verify]; plan_step.c: [step]) that
 * checks its sections and compiles them into the struct plan, with the
 * value parsers of plan_value.c; plan_order.c sorts the steps. Every
 * problem goes to the loader with fail(): the first one is kept, and it
 * refuses the whole plan.
 */
#ifndef PLAN_READ_H
#define PLAN_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "plan.h"

#define PLAN_MSG_MAX 1024
#define PLAN_KEYS_MAX 14 /* most keys of one section type ([step]) */

struct plan_build;
struct section;

/* A kind of section, one row of plan.c's table, with its builder. */
struct section_type {
	const char *word; /* [word] or [word NAME] */
	bool named;
	const char *const *keys; /* NULL-ended; a key is its index here */
	/*
	 * A plan is built type by type: begin with the number of sections of
	 * the type (0 too), build for each of them in file order, then end.
	 * Each returns 0 or fail()'s -1; NULL: nothing to do.
	 */
	int (*begin)(struct plan_build *b, size_t n);
	int (*build)(struct plan_build *b, const struct section *sec);
	int (*end)(struct plan_build *b);
};

extern const struct section_type plan_section_plan, plan_section_check,
        plan_section_verify, plan_section_step;

/* --- the file as read (plan_read.c) ------------------------------------- */

/* A value as written: its lines joined with "\n", and where each came from. */
struct value {
	char *text; /* NULL when the key was not given */
	unsigned *lines;
	size_t nlines;
};

struct section {
	const struct section_type *type;
	char *name;                         /* NULL for a type without names */
	unsigned line;                      /* of the header */
	struct value values[PLAN_KEYS_MAX]; /* by key */
	int last_key; /* the key continuation lines extend, or -1 */
};

struct loader {
	const char *file;
	const struct section_type *const *types; /* what the file may hold */
	size_t ntypes;
	const char *usage;    /* the types for messages: "[a] or [b NAME]" */
	unsigned line;        /* the line being read */
	struct section *secs; /* in file order */
	size_t nsecs;
	bool failed;
	unsigned err_line; /* 0: about the whole file */
	char msg[PLAN_MSG_MAX];
};

/* Reads ld->file into ld->secs; a problem sets ld->failed. */
void plan_read(struct loader *ld);

/* Frees the sections read. */
void plan_read_free(struct loader *ld);

/* Keeps the first problem only; line 0 is about the whole file. */
void plan_fail(struct loader *ld, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/*
 * plan_fail(), as an expression worth -1. A macro so that the static
 * analyzer sees the -1: it does not follow calls of variadic functions.
 */
#define fail(ld, line, ...) (plan_fail((ld), (line), __VA_ARGS__), -1)

static inline int
oom(struct loader *ld)
{
	return fail(ld, ld->line, "out of memory");
}

/* The first section of type (called name, unless name is NULL), or NULL. */
const struct section *plan_section_find(const struct loader *ld,
                                        const struct section_type *type,
                                        const char *name);

/* "[word]" or "[word NAME]". */
void plan_section_label(const struct section *sec, char *buf, size_t len);

/* The file line of line k (from 1) of a value; k = 0: its first. */
unsigned plan_value_line(const struct value *v, unsigned k);

/* --- words (plan_read.c) ------------------------------------------------ */

bool plan_is_blank(char c);
const char *plan_skip_blank(const char *s);
bool plan_is_ident_char(char c, bool first);

/* An SQL identifier as plans write them: [A-Za-z_][A-Za-z0-9_]*, <= 63. */
bool plan_is_ident(const char *s, size_t n);

/* A plan, step or database name: 1..PLAN_NAME_MAX of [A-Za-z0-9_-]. */
bool plan_valid_name(const char *s, size_t n);

/* s (n bytes of it) made safe to quote in a one-line message, in buf. */
const char *plan_shown(const char *s, char *buf, size_t len);
const char *plan_shown_n(const char *s, size_t n, char *buf, size_t len);

/* Appends s to a list of strings; s NULL or no memory: -1 (s freed). */
int plan_push(char ***list, size_t *n, char *s);

/* --- building (plan_value.c, the builders) ------------------------------- */

/* A list of allowed parameter names. */
struct names {
	const char **v;
	size_t n;
};

/* What the builders of one plan share. */
struct plan_build {
	struct loader *ld;
	struct plan *plan;
	unsigned plan_line; /* of [plan] */
	/* the parameters of where, clear and checks: tenant, then the
	 * plan's own (params columns, parameters, pair); of apply: tenant,
	 * lo, hi, then the plan's own */
	struct names where, apply;
	size_t done;          /* sections of the type being built so far */
	unsigned *after_line; /* per step: its after key's line, or its
	                       * header's (for plan_order_steps) */
};

/* *out: the key's value, or NULL when not given. Refuses empty values. */
int plan_optional(struct loader *ld, const struct section *sec, int key,
                  const struct value **out);

/* Like plan_optional(), and refuses a key that is not given. */
int plan_required(struct loader *ld, const struct section *sec, int key,
                  const struct value **out);

/* Compiles the SQL of v, which may use the allowed parameters. */
int plan_compile(struct loader *ld, const struct value *v,
                 const struct names *allowed, struct plan_sql *out);

/* An SQL identifier (plan_is_ident) copied folded to lower case; -1 when
 * s is none or there is no memory. */
int plan_ident(const char *s, size_t n, char **out);

/* v is no or yes: *out tells which. key names it in the message. */
int plan_choice(struct loader *ld, const struct value *v, const char *key,
                const char *no, const char *yes, bool *out);

/*
 * "a, b,c" into *list: names (idents false: plan_valid_name) or SQL
 * identifiers (idents true: folded to lower case), each once. what names
 * the key, noun one item.
 */
int plan_list(struct loader *ld, const struct value *v, const char *what,
              const char *noun, bool idents, char ***list, size_t *n);

#endif
