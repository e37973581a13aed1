/*
 * Plan files (migrated.plan(5)): read with inifile.h into raw sections that
 * remember the line of every key and value line, then checked and compiled
 * into a struct plan. Any problem refuses the whole plan.
 */
#include "plan.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "inifile.h"

#define PLAN_FILE_MAX ((size_t)1024 * 1024) /* bytes */
#define PLAN_SECTIONS_MAX 1000
#define MSG_MAX 1024

/* --- the file's vocabulary ------------------------------------------------ */

enum section_kind { SEC_PLAN, SEC_STEP, SEC_CHECK, SEC_VERIFY };
enum {
	K_DESCRIPTION,
	K_TENANTS,
	K_PARAMS,
	K_PSOURCE,
	K_PARAMETERS,
	K_PAIR,
	K_COMPARE
};
enum {
	K_TABLE,
	K_KEY,
	K_WHERE,
	K_APPLY,
	K_BATCH,
	K_AFTER,
	K_BACKUP,
	K_SOURCE,
	K_SELECT,
	K_INTO,
	K_UPSERT,
	K_DEFAULTS,
	K_CLEAR
};
enum { K_SQL, K_EXPECT, K_SEVERITY };
#define MAX_KEYS 13

static const char *const plan_keys[] = {"description", "tenants",    "params",
                                        "source",      "parameters", "pair",
                                        "compare",     NULL};
static const char *const step_keys[] = {
        "table",  "key",    "where", "apply",  "batch",    "after", "backup",
        "source", "select", "into",  "upsert", "defaults", "clear", NULL};
static const char *const check_keys[] = {"sql", "expect", "severity", NULL};

static const struct section_def {
	const char *word;
	bool named;
	const char *const *keys;
} section_defs[] = {
        [SEC_PLAN] = {"plan", false, plan_keys},
        [SEC_STEP] = {"step", true, step_keys},
        [SEC_CHECK] = {"check", true, check_keys},
        [SEC_VERIFY] = {"verify", true, check_keys},
};
#define NKINDS (sizeof section_defs / sizeof section_defs[0])

/* Built-in parameters. */
static const char *const builtin_params[] = {"tenant", "lo", "hi"};

/* --- raw file contents ---------------------------------------------------- */

/* A value as written: its lines joined with "\n", and where each came from. */
struct value {
	char *text; /* NULL when the key was not given */
	unsigned *lines;
	size_t nlines;
};

struct section {
	enum section_kind kind;
	char *name; /* NULL for [plan] */
	unsigned line;
	struct value values[MAX_KEYS];
	int last_key; /* the key continuation lines extend, or -1 */
};

struct loader {
	const char *file;
	unsigned line; /* the line being read */
	struct section *secs;
	size_t nsecs;
	bool failed;
	unsigned err_line; /* 0: about the whole file */
	char msg[MSG_MAX];
};

static int __attribute__((format(printf, 3, 4)))
fail(struct loader *ld, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (ld->failed)
		return -1;
	ld->failed = true;
	ld->err_line = line;
	va_start(ap, fmt);
	vsnprintf(ld->msg, sizeof ld->msg, fmt, ap);
	va_end(ap);
	return -1;
}

static int
oom(struct loader *ld)
{
	fail(ld, ld->line, "out of memory");
	return -1; /* spelled out: the analyzer does not follow fail() */
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static const char *
skip_blank(const char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

/* n bytes of s made safe to quote in a one-line message. */
static const char *
shown_n(const char *s, size_t n, char *buf, size_t len)
{
	size_t used = 0, i;

	for (i = 0; i < n && s[i] != '\0' && used + 4 < len; i++)
		buf[used++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
		                      ? '?'
		                      : s[i];
	if (i < n && s[i] != '\0')
		buf[used++] = '.', buf[used++] = '.', buf[used++] = '.';
	buf[used] = '\0';
	return buf;
}

static const char *
shown(const char *s, char *buf, size_t len)
{
	return shown_n(s, strlen(s), buf, len);
}

static bool
is_ident_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

/* An SQL identifier as plans write them: [A-Za-z_][A-Za-z0-9_]*, <= 63. */
static bool
is_ident(const char *s, size_t n)
{
	if (n == 0 || n > PLAN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_ident_char(s[i], i == 0))
			return false;
	return true;
}

/* 1..PLAN_NAME_MAX of [A-Za-z0-9_-]. */
static bool
valid_name(const char *s, size_t n)
{
	if (n == 0 || n > PLAN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Appends s (NULL: out of memory) to a list of strings. */
static int
push(char ***list, size_t *n, char *s)
{
	char **p;

	if (s == NULL)
		return -1;
	p = realloc(*list, (*n + 1) * sizeof *p);
	if (p == NULL) {
		free(s);
		return -1;
	}
	p[(*n)++] = s;
	*list = p;
	return 0;
}

static void
join(const char *const *names, size_t n, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		int w = snprintf(out + used, len - used, "%s%s", i ? ", " : "",
		                 names[i]);

		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static size_t
count(const char *const *list)
{
	size_t n = 0;

	while (list[n] != NULL)
		n++;
	return n;
}

static void
section_label(const struct section *sec, char *buf, size_t len)
{
	if (sec->name == NULL)
		snprintf(buf, len, "[%s]", section_defs[sec->kind].word);
	else
		snprintf(buf, len, "[%s %s]", section_defs[sec->kind].word,
		         sec->name);
}

static struct section *
current(struct loader *ld)
{
	return ld->nsecs > 0 ? &ld->secs[ld->nsecs - 1] : NULL;
}

static void
value_free(struct value *v)
{
	free(v->text);
	free(v->lines);
	*v = (struct value){0};
}

static void
sections_free(struct section *secs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(secs[i].name);
		for (size_t k = 0; k < MAX_KEYS; k++)
			value_free(&secs[i].values[k]);
	}
	free(secs);
}

/* The file line of line k (from 1) of a value. */
static unsigned
value_line(const struct value *v, unsigned k)
{
	if (k == 0)
		return v->lines[0];
	return v->lines[k > v->nlines ? v->nlines - 1 : k - 1];
}

/* --- reading: section headers, keys and values ---------------------------- */

static int
find_kind(const char *word, enum section_kind *kind)
{
	for (size_t i = 0; i < NKINDS; i++) {
		if (strcmp(section_defs[i].word, word) == 0) {
			*kind = (enum section_kind)i;
			return 0;
		}
	}
	return -1;
}

static const struct section *
find_section(const struct loader *ld, enum section_kind kind, const char *name)
{
	for (size_t i = 0; i < ld->nsecs; i++) {
		const struct section *s = &ld->secs[i];

		if (s->kind == kind &&
		    (name == NULL || strcmp(s->name, name) == 0))
			return s;
	}
	return NULL;
}

static int
add_section(struct loader *ld, enum section_kind kind, const char *name)
{
	const struct section *dup = find_section(ld, kind, name);
	struct section *secs;
	char label[128];

	if (dup != NULL) {
		section_label(dup, label, sizeof label);
		return fail(ld, ld->line,
		            "duplicate section %s (first at line %u)", label,
		            dup->line);
	}
	if (ld->nsecs == PLAN_SECTIONS_MAX)
		return fail(ld, ld->line, "too many sections (at most %d)",
		            PLAN_SECTIONS_MAX);
	secs = realloc(ld->secs, (ld->nsecs + 1) * sizeof *secs);
	if (secs == NULL)
		return oom(ld);
	ld->secs = secs;
	secs[ld->nsecs] = (struct section){
	        .kind = kind, .line = ld->line, .last_key = -1};
	if (name != NULL && (secs[ld->nsecs].name = strdup(name)) == NULL)
		return oom(ld);
	ld->nsecs++;
	return 0;
}

static const char section_usage[] =
        "[plan], [step NAME], [check NAME] or [verify NAME]";

/* The text of a header "[word name]" or "[plan]". */
static int
section_header(struct loader *ld, const char *text)
{
	char *inner, *word, *name, *save, whole[64], bad[64];
	enum section_kind kind;
	int r;

	shown(text, whole, sizeof whole);
	if ((inner = strdup(text)) == NULL)
		return oom(ld);
	word = strtok_r(inner, " \t", &save);
	name = word ? strtok_r(NULL, " \t", &save) : NULL;
	if (word == NULL || find_kind(word, &kind) == -1 ||
	    (name != NULL && strtok_r(NULL, " \t", &save) != NULL))
		r = fail(ld, ld->line, "unknown section [%s]; expected %s",
		         whole, section_usage);
	else if (!section_defs[kind].named && name != NULL)
		r = fail(ld, ld->line, "[%s] takes no name", word);
	else if (section_defs[kind].named && name == NULL)
		r = fail(ld, ld->line, "[%s] needs a name: [%s NAME]", word,
		         word);
	else if (name != NULL && !valid_name(name, strlen(name)))
		r = fail(
		        ld, ld->line,
		        "bad %s name \"%s\": use 1 to %d letters, digits, _ or -",
		        word, shown(name, bad, sizeof bad), PLAN_NAME_MAX);
	else
		r = add_section(ld, kind, name);
	free(inner);
	return r;
}

static int
value_push_line(struct loader *ld, struct value *v)
{
	unsigned *lines = realloc(v->lines, (v->nlines + 1) * sizeof *lines);

	if (lines == NULL)
		return oom(ld);
	lines[v->nlines++] = ld->line;
	v->lines = lines;
	return 0;
}

static int
add_key(struct loader *ld, const char *name, const char *value)
{
	struct section *sec = current(ld);
	const char *const *keys;
	char label[128], known[256], shown_buf[64];
	int k;

	if (sec == NULL)
		return fail(ld, ld->line,
		            "key %s outside a section; start with [plan]",
		            shown(name, shown_buf, sizeof shown_buf));
	keys = section_defs[sec->kind].keys;
	for (k = 0; keys[k] != NULL && strcmp(keys[k], name) != 0; k++)
		;
	if (keys[k] == NULL && strpbrk(name, " \t") != NULL)
		return fail(
		        ld, ld->line,
		        "\"%s\" is not a key; indent the continuation lines "
		        "of a value",
		        shown(name, shown_buf, sizeof shown_buf));
	if (keys[k] == NULL) {
		section_label(sec, label, sizeof label);
		join(keys, count(keys), known, sizeof known);
		return fail(ld, ld->line, "unknown key %s in %s (known: %s)",
		            shown(name, shown_buf, sizeof shown_buf), label,
		            known);
	}
	if (sec->values[k].text != NULL)
		return fail(ld, ld->line, "duplicate key %s (first at line %u)",
		            name, sec->values[k].lines[0]);
	sec->last_key = k;
	if ((sec->values[k].text = strdup(value)) == NULL)
		return oom(ld);
	return value_push_line(ld, &sec->values[k]);
}

/* A continuation line (inifile.c cut its comment) of the last key. */
static int
add_continuation(struct loader *ld, const char *value)
{
	struct section *sec = current(ld);
	struct value *v;
	size_t n = strlen(value), old;
	char *text;

	if (sec == NULL || sec->last_key < 0) /* inifile.c: after a key */
		return 0;
	v = &sec->values[sec->last_key];
	old = strlen(v->text);
	if (old == 0) {
		/* "key =" alone: the value starts on this line. */
		v->lines[0] = ld->line;
		free(v->text);
		v->text = strdup(value);
		return v->text == NULL ? oom(ld) : 0;
	}
	text = realloc(v->text, old + 1 + n + 1);
	if (text == NULL)
		return oom(ld);
	text[old] = '\n';
	memcpy(text + old + 1, value, n + 1);
	v->text = text;
	return value_push_line(ld, v);
}

static int
on_entry(void *user, struct inifile_pos *pos, const char *section,
         const char *name, const char *value, char *err, size_t errlen)
{
	struct loader *ld = user;
	int r;

	ld->line = (unsigned)pos->line;
	if (name == NULL)
		r = section_header(ld, section);
	else if (pos->continuation)
		r = add_continuation(ld, value);
	else
		r = add_key(ld, name, value); /* in current(ld), not section */
	if (r == 0)
		return 0;
	pos->error_line = (int)ld->err_line;
	snprintf(err, errlen, "%s", ld->msg);
	return -1;
}

static const struct inifile_options plan_ini = {
        .multiline = true,
        .max_bytes = PLAN_FILE_MAX,
        .sections = section_usage,
        .long_line_hint = "split SQL over several indented lines",
};

static void
read_file(struct loader *ld)
{
	struct inifile_error err;

	if (inifile_parse(ld->file, &plan_ini, on_entry, ld, &err) == -1) {
		ld->failed = false; /* inifile.c knows which came first */
		fail(ld, (unsigned)err.line, "%s", err.msg);
	}
}

/* --- checking and compiling ----------------------------------------------- */

/* A list of allowed parameter names. */
struct names {
	const char **v;
	size_t n;
};

/* first, then the plan's params columns, parameters and pair. */
static int
names_make(struct loader *ld, struct names *out, const char *const *first,
           size_t nfirst, const struct plan *plan)
{
	out->n = 0;
	out->v = malloc((nfirst + plan->nparam_names + plan->nargs + 2) *
	                sizeof *out->v);
	if (out->v == NULL)
		return oom(ld);
	for (size_t i = 0; i < nfirst; i++)
		out->v[out->n++] = first[i];
	for (size_t i = 0; i < plan->nparam_names; i++)
		out->v[out->n++] = plan->param_names[i];
	for (size_t i = 0; i < plan->nargs; i++)
		out->v[out->n++] = plan->args[i];
	if (plan->pair != NULL)
		out->v[out->n++] = plan->pair;
	return 0;
}

/* *out: the key's value, or NULL when not given. Refuses empty values. */
static int
optional(struct loader *ld, const struct section *sec, int key,
         const struct value **out)
{
	const struct value *v = &sec->values[key];

	*out = v->text != NULL ? v : NULL;
	if (v->text != NULL && v->text[0] == '\0')
		return fail(ld, v->lines[0], "empty value for %s",
		            section_defs[sec->kind].keys[key]);
	return 0;
}

/* Like optional(), and refuses a key that is not given. */
static int
required(struct loader *ld, const struct section *sec, int key,
         const struct value **out)
{
	char label[128];

	if (optional(ld, sec, key, out) == -1)
		return -1;
	if (*out == NULL) {
		section_label(sec, label, sizeof label);
		fail(ld, sec->line, "missing key %s in %s",
		     section_defs[sec->kind].keys[key], label);
		return -1; /* spelled out: the analyzer does not follow fail() */
	}
	return 0;
}

static int
compile(struct loader *ld, const struct value *v, const struct names *allowed,
        struct plan_sql *out)
{
	char msg[512];
	unsigned line = 0;

	if (sql_compile(v->text, allowed->v, allowed->n, &out->stmt, &line, msg,
	                sizeof msg) == -1)
		return fail(ld, value_line(v, line), "%s", msg);
	out->line = v->lines[0];
	return 0;
}

static int
check_param_names(struct loader *ld, unsigned line, char **names, size_t n)
{
	char shown_buf[64];

	for (size_t i = 0; i < n; i++) {
		const char *name = names[i];

		if (!is_ident(name, strlen(name)))
			return fail(
			        ld, line,
			        "params column \"%s\" cannot be a parameter "
			        "name; rename it with AS (letters, digits, _)",
			        shown(name, shown_buf, sizeof shown_buf));
		for (size_t b = 0; b < 3; b++)
			if (strcmp(name, builtin_params[b]) == 0)
				return fail(
				        ld, line,
				        "params column %s hides the built-in "
				        "parameter :%s; rename it with AS",
				        name, name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(name, names[j]) == 0)
				return fail(ld, line,
				            "params column %s appears twice",
				            name);
	}
	return 0;
}

static int
build_params(struct loader *ld, const struct value *v, struct plan *plan)
{
	static const char *tenant[] = {"tenant"};
	const struct names tenant_only = {tenant, 1};
	char msg[512];
	unsigned line = 0;

	if (compile(ld, v, &tenant_only, &plan->params) == -1)
		return -1;
	plan->has_params = true;
	if (sql_select_columns(v->text, &plan->param_names, &plan->nparam_names,
	                       &line, msg, sizeof msg) == -1)
		return fail(ld, value_line(v, line), "params: %s", msg);
	return check_param_names(ld, v->lines[0], plan->param_names,
	                         plan->nparam_names);
}

static int
build_header(struct loader *ld, struct plan *plan)
{
	const struct section *sec = find_section(ld, SEC_PLAN, NULL);
	const struct names none = {NULL, 0};
	const struct value *v;

	if (sec == NULL)
		return fail(ld, 1, "missing [plan] section");
	v = &sec->values[K_DESCRIPTION];
	plan->description = strdup(v->text ? v->text : "");
	if (plan->description == NULL)
		return oom(ld);
	if (required(ld, sec, K_TENANTS, &v) == -1 ||
	    compile(ld, v, &none, &plan->tenants) == -1 ||
	    optional(ld, sec, K_PARAMS, &v) == -1)
		return -1;
	return v != NULL ? build_params(ld, v, plan) : 0;
}

/* [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes; copied folded to lower case. */
static int
parse_ident(const char *s, size_t n, char **out)
{
	*out = NULL;
	if (!is_ident(s, n) || (*out = strndup(s, n)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((*out)[i] >= 'A' && (*out)[i] <= 'Z')
			(*out)[i] = (char)((*out)[i] - 'A' + 'a');
	return 0;
}

static int
build_relation(struct loader *ld, const struct value *v, struct plan_step *step)
{
	const char *dot = strchr(v->text, '.');
	char shown_buf[64];
	int r;

	if (dot == NULL)
		r = parse_ident(v->text, strlen(v->text), &step->table);
	else if ((r = parse_ident(v->text, (size_t)(dot - v->text),
	                          &step->schema)) == 0)
		r = parse_ident(dot + 1, strlen(dot + 1), &step->table);
	if (r == -1)
		return fail(ld, v->lines[0],
		            "bad table \"%s\": expected name or schema.name "
		            "(letters, digits, _; at most %d each)",
		            shown(v->text, shown_buf, sizeof shown_buf),
		            PLAN_NAME_MAX);
	return 0;
}

static int
build_key(struct loader *ld, const struct value *v, struct plan_step *step)
{
	char shown_buf[64];

	if (parse_ident(v->text, strlen(v->text), &step->key) == -1)
		return fail(
		        ld, v->lines[0],
		        "bad key \"%s\": expected one column name (letters, "
		        "digits, _)",
		        shown(v->text, shown_buf, sizeof shown_buf));
	return 0;
}

static int
build_batch(struct loader *ld, const struct value *v, struct plan_step *step)
{
	char shown_buf[64];
	long n = 0;
	size_t i;

	for (i = 0; v->text[i] >= '0' && v->text[i] <= '9' && i < 8; i++)
		n = n * 10 + (v->text[i] - '0');
	if (i == 0 || v->text[i] != '\0' || n < 1 || n > PLAN_BATCH_MAX)
		return fail(ld, v->lines[0],
		            "bad batch \"%s\": expected a number from 1 to %d",
		            shown(v->text, shown_buf, sizeof shown_buf),
		            PLAN_BATCH_MAX);
	step->batch = n;
	return 0;
}

static int
build_choice(struct loader *ld, const struct value *v, const char *key,
             const char *no, const char *yes, bool *out)
{
	char shown_buf[64];

	if (strcmp(v->text, yes) == 0 || strcmp(v->text, no) == 0) {
		*out = strcmp(v->text, yes) == 0;
		return 0;
	}
	return fail(ld, v->lines[0], "bad %s \"%s\": expected %s or %s", key,
	            shown(v->text, shown_buf, sizeof shown_buf), no, yes);
}

/*
 * "a, b,c" into *list: names of steps (idents false: [A-Za-z0-9_-]) or
 * SQL identifiers (idents true: folded to lower case). what names the key.
 */
static int
build_list(struct loader *ld, const struct value *v, const char *what,
           const char *noun, bool idents, char ***list, size_t *n)
{
	const char *s = v->text;
	char shown_buf[64];

	for (;;) {
		const char *item = skip_blank(s);
		size_t len = strcspn(item, ",");
		char *name = NULL;

		while (len > 0 && is_blank(item[len - 1]))
			len--;
		if (len == 0)
			return fail(ld, v->lines[0], "empty %s name in %s",
			            noun, what);
		if (idents ? parse_ident(item, len, &name) == -1
		           : !valid_name(item, len))
			return fail(
			        ld, v->lines[0], "bad %s name \"%s\" in %s",
			        noun,
			        shown_n(item, len, shown_buf, sizeof shown_buf),
			        what);
		if (name == NULL && (name = strndup(item, len)) == NULL)
			return oom(ld);
		for (size_t i = 0; i < *n; i++)
			if (strcmp((*list)[i], name) == 0) {
				fail(ld, v->lines[0],
				     "%s %s appears twice in %s", noun, name,
				     what);
				free(name);
				return -1;
			}
		if (push(list, n, name) == -1)
			return oom(ld);
		s = item + strcspn(item, ",");
		if (*s == '\0')
			return 0;
		s++;
	}
}

/* A plan-wide name (a parameter or the pair) that no other name hides. */
static int
check_new_name(struct loader *ld, unsigned line, const struct plan *plan,
               const char *name, const char *what)
{
	for (size_t b = 0; b < 3; b++)
		if (strcmp(name, builtin_params[b]) == 0)
			return fail(ld, line,
			            "%s %s hides the built-in parameter :%s",
			            what, name, name);
	for (size_t i = 0; i < plan->nparam_names; i++)
		if (strcmp(name, plan->param_names[i]) == 0)
			return fail(ld, line, "%s %s is also a params column",
			            what, name);
	for (size_t i = 0; plan->pair != NULL && i < plan->nargs; i++)
		if (strcmp(plan->pair, plan->args[i]) == 0)
			return fail(ld, line,
			            "pair %s is also one of the parameters",
			            plan->pair);
	return 0;
}

/* [plan] source, parameters, pair and compare. */
static int
build_header_import(struct loader *ld, struct plan *plan)
{
	const struct section *sec = find_section(ld, SEC_PLAN, NULL);
	const struct value *v;
	char shown_buf[64];

	if (sec == NULL) /* build_header() refused the plan already */
		return -1;
	if (optional(ld, sec, K_PSOURCE, &v) == -1)
		return -1;
	if (v != NULL && !valid_name(v->text, strlen(v->text)))
		return fail(ld, v->lines[0],
		            "bad source \"%s\": name a [database NAME]",
		            shown(v->text, shown_buf, sizeof shown_buf));
	if (v != NULL && (plan->source = strdup(v->text)) == NULL)
		return oom(ld);
	if (optional(ld, sec, K_PARAMETERS, &v) == -1 ||
	    (v != NULL && build_list(ld, v, "parameters", "parameter", true,
	                             &plan->args, &plan->nargs) == -1))
		return -1;
	for (size_t i = 0; i < plan->nargs; i++)
		if (check_new_name(ld, v->lines[0], plan, plan->args[i],
		                   "parameter") == -1)
			return -1;
	if (optional(ld, sec, K_PAIR, &v) == -1)
		return -1;
	if (v != NULL && parse_ident(v->text, strlen(v->text), &plan->pair) < 0)
		return fail(ld, v->lines[0],
		            "bad pair \"%s\": expected a parameter name "
		            "(letters, digits, _)",
		            shown(v->text, shown_buf, sizeof shown_buf));
	if (v != NULL &&
	    check_new_name(ld, v->lines[0], plan, plan->pair, "pair") == -1)
		return -1;
	if (optional(ld, sec, K_COMPARE, &v) == -1 ||
	    (v != NULL &&
	     build_choice(ld, v, "compare", "no", "yes", &plan->compare) == -1))
		return -1;
	return 0;
}

/* "a, b,c" into step->after; names are resolved later (order_steps). */
static int
build_after(struct loader *ld, const struct value *v, struct plan_step *step)
{
	return build_list(ld, v, "after", "step", false, &step->after,
	                  &step->nafter);
}

static bool
uses(const struct sql_stmt *stmt, const char *name)
{
	for (size_t i = 0; i < stmt->nparams; i++)
		if (strcmp(stmt->names[i], name) == 0)
			return true;
	return false;
}

static int
build_sql_keys(struct loader *ld, const struct section *sec,
               const struct names *where, const struct names *apply,
               struct plan_step *step)
{
	static char true_text[] = "true";
	unsigned line = sec->line;
	const struct value all = {true_text, &line, 1};
	const struct value *v;

	if (optional(ld, sec, K_WHERE, &v) == -1 ||
	    compile(ld, v ? v : &all, where, &step->where) == -1)
		return -1;
	if (required(ld, sec, K_APPLY, &v) == -1 ||
	    compile(ld, v, apply, &step->apply) == -1)
		return -1;
	if (!uses(&step->apply.stmt, "lo") || !uses(&step->apply.stmt, "hi"))
		return fail(ld, v->lines[0],
		            "apply must use :lo and :hi to stay within the "
		            "batch's key range (e.g. id > :lo AND id <= :hi)");
	return 0;
}

static bool
is_column(const struct plan_step *step, const char *name)
{
	for (size_t i = 0; i < step->ncolumns; i++)
		if (strcmp(step->columns[i], name) == 0)
			return true;
	for (size_t i = 0; i < step->ndefaults; i++)
		if (strcmp(step->default_cols[i], name) == 0)
			return true;
	return false;
}

/* "a, b" or "a, b nothing" into step->upsert. */
static int
build_upsert(struct loader *ld, const struct value *v, struct plan_step *step)
{
	char *text = strdup(v->text), *end;
	struct value cut = *v;
	int r;

	if (text == NULL)
		return oom(ld);
	end = text + strlen(text);
	while (end > text && is_blank(end[-1]))
		*--end = '\0';
	if (end - text > 7 && strcmp(end - 7, "nothing") == 0 &&
	    is_blank(end[-8])) {
		step->upsert_nothing = true;
		end[-8] = '\0';
	}
	cut.text = text;
	r = build_list(ld, &cut, "upsert", "column", true, &step->upsert,
	               &step->nupsert);
	free(text);
	return r;
}

/* One "column = expression" per line; expressions take no parameters. */
static int
build_defaults(struct loader *ld, const struct value *v, struct plan_step *step)
{
	const struct names none = {NULL, 0};
	const char *line = v->text;

	for (unsigned k = 0; *line != '\0'; k++) {
		size_t len = strcspn(line, "\n");
		const char *eq = memchr(line, '=', len);
		size_t nlen;
		char *name = NULL, *expr;
		struct plan_sql sql = {0};
		const char *p;

		if (eq == NULL)
			return fail(ld, value_line(v, k + 1),
			            "defaults: expected column = expression, "
			            "one per line");
		p = skip_blank(line);
		nlen = (size_t)(eq - p);
		while (nlen > 0 && is_blank(p[nlen - 1]))
			nlen--;
		if (parse_ident(p, nlen, &name) == -1)
			return fail(ld, value_line(v, k + 1),
			            "defaults: bad column name before =");
		if ((expr = strndup(eq + 1, len - (size_t)(eq + 1 - line))) ==
		            NULL ||
		    push(&step->default_cols, &step->ndefaults, name) == -1) {
			free(expr);
			return oom(ld);
		}
		step->ndefaults--;
		if (push(&step->default_exprs, &step->ndefaults, expr) == -1)
			return oom(ld);
		struct value one = {expr, v->lines, 1};
		unsigned here = value_line(v, k + 1);
		one.lines = &here;
		if (compile(ld, &one, &none, &sql) == -1)
			return -1;
		sql_stmt_free(&sql.stmt);
		line += len;
		if (*line == '\n')
			line++;
	}
	return 0;
}

/*
 * With backup = yes, clear must be "DELETE FROM <table> [[AS] alias] ..."
 * without RETURNING: the runner appends RETURNING alias to keep the rows.
 */
static int
build_clear_ref(struct loader *ld, const struct value *v,
                struct plan_step *step)
{
	const char *p = skip_blank(v->text), *w, *dot, *name;
	size_t n;

	if (strncasecmp(p, "delete", 6) != 0 || !is_blank(p[6]))
		goto bad;
	p = skip_blank(p + 6);
	if (strncasecmp(p, "from", 4) != 0 || !is_blank(p[4]))
		goto bad;
	p = skip_blank(p + 4);
	if (strncasecmp(p, "only", 4) == 0 && is_blank(p[4]))
		p = skip_blank(p + 4);
	for (n = 0; is_ident_char(p[n], n == 0) || (n > 0 && p[n] == '.'); n++)
		;
	w = p + n;
	dot = memchr(p, '.', n);
	name = dot != NULL ? dot + 1 : p;
	if (n == 0 || (size_t)(w - name) != strlen(step->table) ||
	    strncasecmp(name, step->table, strlen(step->table)) != 0)
		goto bad;
	p = skip_blank(w);
	if (strncasecmp(p, "as", 2) == 0 && is_blank(p[2]))
		p = skip_blank(p + 2);
	for (n = 0; is_ident_char(p[n], n == 0); n++)
		;
	if (n > 0 && !(n == 5 && strncasecmp(p, "using", 5) == 0) &&
	    !(n == 5 && strncasecmp(p, "where", 5) == 0))
		step->clear_ref = strndup(p, n);
	else
		step->clear_ref = strdup(step->table);
	if (step->clear_ref == NULL)
		return oom(ld);
	if (strcasestr(v->text, "returning") != NULL)
		return fail(ld, v->lines[0],
		            "clear: with backup = yes, leave RETURNING out "
		            "(the daemon adds it to back the rows up)");
	return 0;
bad:
	return fail(ld, v->lines[0],
	            "clear: with backup = yes, clear must be DELETE FROM %s "
	            "... so the deleted rows can be backed up",
	            step->table);
}

/* Keys only one kind of step takes, refused in the other kind. */
static int
refuse_keys(struct loader *ld, const struct section *sec, const int *keys,
            size_t n, const char *why)
{
	for (size_t i = 0; i < n; i++) {
		const struct value *v = &sec->values[keys[i]];

		if (v->text != NULL)
			return fail(ld, v->lines[0], "%s %s",
			            section_defs[SEC_STEP].keys[keys[i]], why);
	}
	return 0;
}

static int
build_inplace(struct loader *ld, const struct section *sec,
              const struct names *where, const struct names *apply,
              struct plan_step *step)
{
	static const int copy_only[] = {K_SELECT, K_INTO, K_UPSERT, K_DEFAULTS};
	const struct value *v;

	step->kind = PLAN_STEP_INPLACE;
	if (refuse_keys(ld, sec, copy_only, 4,
	                "is for copy steps (those with source = NAME)") == -1)
		return -1;
	if (required(ld, sec, K_TABLE, &v) == -1 ||
	    build_relation(ld, v, step) == -1)
		return -1;
	if (required(ld, sec, K_KEY, &v) == -1 || build_key(ld, v, step) == -1)
		return -1;
	return build_sql_keys(ld, sec, where, apply, step);
}

static int
build_copy(struct loader *ld, const struct section *sec,
           const struct names *names, struct plan_step *step)
{
	static const int inplace_only[] = {K_TABLE, K_WHERE};
	const struct value *v, *key, *upsert, *apply;
	char msg[512];
	unsigned line = 0;

	step->kind = PLAN_STEP_COPY;
	v = &sec->values[K_SOURCE];
	if (!valid_name(v->text, strlen(v->text)))
		return fail(ld, v->lines[0],
		            "bad source: name a [database NAME]");
	if ((step->source = strdup(v->text)) == NULL)
		return oom(ld);
	if (refuse_keys(ld, sec, inplace_only, 2,
	                "is for in-place steps: a copy step filters in "
	                "select and names its target table with into") == -1)
		return -1;
	if (required(ld, sec, K_SELECT, &v) == -1 ||
	    compile(ld, v, names, &step->select) == -1)
		return -1;
	if (sql_select_columns(v->text, &step->columns, &step->ncolumns, &line,
	                       msg, sizeof msg) == -1)
		return fail(ld, value_line(v, line), "select: %s", msg);
	if (required(ld, sec, K_KEY, &key) == -1 ||
	    build_key(ld, key, step) == -1)
		return -1;
	if (!is_column(step, step->key))
		return fail(ld, key->lines[0],
		            "key %s is not a column of select", step->key);
	if (required(ld, sec, K_INTO, &v) == -1 ||
	    build_relation(ld, v, step) == -1)
		return -1;
	if (optional(ld, sec, K_UPSERT, &upsert) == -1 ||
	    optional(ld, sec, K_APPLY, &apply) == -1)
		return -1;
	if ((upsert == NULL) == (apply == NULL))
		return fail(ld, sec->line,
		            "copy step %s needs either upsert = COLUMNS (merge "
		            "by natural key) or apply (SQL reading staged)",
		            step->name);
	if (apply != NULL) {
		if (compile(ld, apply, names, &step->apply) == -1)
			return -1;
		if (refuse_keys(ld, sec, (const int[]){K_DEFAULTS}, 1,
		                "goes with upsert; a free apply sets its own "
		                "columns") == -1)
			return -1;
		if (step->backup)
			return fail(
			        ld, sec->values[K_BACKUP].lines[0],
			        "backup = yes needs upsert: the daemon cannot "
			        "know which rows a free apply changes");
		return 0;
	}
	if (optional(ld, sec, K_DEFAULTS, &v) == -1 ||
	    (v != NULL && build_defaults(ld, v, step) == -1) ||
	    build_upsert(ld, upsert, step) == -1)
		return -1;
	for (size_t i = 0; i < step->nupsert; i++)
		if (!is_column(step, step->upsert[i]))
			return fail(ld, upsert->lines[0],
			            "upsert column %s is neither a column of "
			            "select nor one of defaults",
			            step->upsert[i]);
	return 0;
}

static int
build_step(struct loader *ld, const struct section *sec,
           const struct names *where, const struct names *apply,
           struct plan_step *step)
{
	const struct value *v;

	step->line = sec->line;
	if ((step->name = strdup(sec->name)) == NULL)
		return oom(ld);
	if (optional(ld, sec, K_BACKUP, &v) == -1 ||
	    (v != NULL &&
	     build_choice(ld, v, "backup", "no", "yes", &step->backup) == -1))
		return -1;
	if (optional(ld, sec, K_SOURCE, &v) == -1)
		return -1;
	if (v != NULL ? build_copy(ld, sec, where, step) == -1
	              : build_inplace(ld, sec, where, apply, step) == -1)
		return -1;
	if (optional(ld, sec, K_BATCH, &v) == -1 ||
	    (v != NULL && build_batch(ld, v, step) == -1))
		return -1;
	if (optional(ld, sec, K_AFTER, &v) == -1 ||
	    (v != NULL && build_after(ld, v, step) == -1))
		return -1;
	if (optional(ld, sec, K_CLEAR, &v) == -1)
		return -1;
	if (v != NULL) {
		step->has_clear = true;
		if (compile(ld, v, where, &step->clear) == -1 ||
		    (step->backup && build_clear_ref(ld, v, step) == -1))
			return -1;
	}
	return 0;
}

static int
build_check(struct loader *ld, const struct section *sec,
            const struct names *allowed, struct plan_check *check)
{
	const struct value *v;
	bool warning = false;

	check->line = sec->line;
	if ((check->name = strdup(sec->name)) == NULL)
		return oom(ld);
	if (required(ld, sec, K_SQL, &v) == -1 ||
	    compile(ld, v, allowed, &check->sql) == -1)
		return -1;
	if (required(ld, sec, K_EXPECT, &v) == -1)
		return -1;
	if ((check->expect = strdup(v->text)) == NULL)
		return oom(ld);
	if (optional(ld, sec, K_SEVERITY, &v) == -1 ||
	    (v != NULL && build_choice(ld, v, "severity", "error", "warning",
	                               &warning) == -1))
		return -1;
	check->severity = warning ? PLAN_SEVERITY_WARNING : PLAN_SEVERITY_ERROR;
	return 0;
}

static size_t
count_sections(const struct loader *ld, enum section_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < ld->nsecs; i++)
		n += ld->secs[i].kind == kind;
	return n;
}

/* --- step order ------------------------------------------------------------ */

struct graph {
	size_t n;
	size_t **deps; /* deps[i]: indices of the steps i runs after */
	const unsigned *after_line; /* per step, for messages */
	bool *done;
};

static size_t
step_index(const struct plan *plan, const char *name)
{
	for (size_t i = 0; i < plan->nsteps; i++)
		if (strcmp(plan->steps[i].name, name) == 0)
			return i;
	return (size_t)-1;
}

static int
resolve_after(struct loader *ld, const struct plan *plan, struct graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		const struct plan_step *s = &plan->steps[i];

		g->deps[i] = malloc((s->nafter + 1) * sizeof **g->deps);
		if (g->deps[i] == NULL)
			return oom(ld);
		for (size_t k = 0; k < s->nafter; k++) {
			size_t j = step_index(plan, s->after[k]);
			char known[512];
			const char **names;

			g->deps[i][k] = j;
			if (j != (size_t)-1)
				continue;
			names = malloc(plan->nsteps * sizeof *names);
			if (names == NULL)
				return oom(ld);
			for (size_t m = 0; m < plan->nsteps; m++)
				names[m] = plan->steps[m].name;
			join(names, plan->nsteps, known, sizeof known);
			free(names);
			fail(ld, g->after_line[i],
			     "unknown step %s in after (steps: %s)",
			     s->after[k], known);
			return -1; /* spelled out for the analyzer */
		}
	}
	return 0;
}

/* The first step not done that only runs after done steps, or -1. */
static size_t
next_ready(const struct plan *plan, const struct graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		bool ready = !g->done[i];

		for (size_t k = 0; ready && k < plan->steps[i].nafter; k++)
			ready = g->done[g->deps[i][k]];
		if (ready)
			return i;
	}
	return (size_t)-1;
}

/*
 * Every step left waits for another step left, so following those waits
 * from the first one must come back round: name that cycle.
 */
static int
report_cycle(struct loader *ld, const struct plan *plan, const struct graph *g)
{
	size_t *path = malloc(g->n * sizeof *path), len = 0, cur, from;
	char msg[MSG_MAX];
	size_t used = 0;

	if (path == NULL)
		return oom(ld);
	for (cur = 0; g->done[cur]; cur++)
		;
	for (;;) {
		size_t k = 0;

		for (from = 0; from < len && path[from] != cur; from++)
			;
		if (from < len)
			break;
		path[len++] = cur;
		/* next_ready() found no step ready, so a step not done runs
		 * after one not done: k stays below nafter. */
		/* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.ArraySubscript) */
		while (g->done[g->deps[cur][k]])
			k++;
		cur = g->deps[cur][k];
	}
	msg[0] = '\0';
	for (size_t i = from; i < len && used < sizeof msg; i++)
		used += (size_t)snprintf(msg + used, sizeof msg - used,
		                         "%s -> ", plan->steps[path[i]].name);
	if (used < sizeof msg)
		snprintf(msg + used, sizeof msg - used, "%s",
		         plan->steps[cur].name);
	cur = path[from];
	free(path);
	return fail(ld, g->after_line[cur], "dependency cycle in after: %s",
	            msg);
}

/* Sorts plan->steps so that every step comes after its `after` steps. */
static int
order_steps(struct loader *ld, struct plan *plan, const unsigned *after_line)
{
	struct graph g = {.n = plan->nsteps, .after_line = after_line};
	struct plan_step *sorted = NULL;
	size_t nsorted = 0;
	int r = -1;

	g.deps = calloc(g.n, sizeof *g.deps);
	g.done = calloc(g.n, sizeof *g.done);
	sorted = malloc(g.n * sizeof *sorted);
	if (g.deps == NULL || g.done == NULL || sorted == NULL) {
		oom(ld);
		goto out;
	}
	if (resolve_after(ld, plan, &g) == -1)
		goto out;
	while (nsorted < g.n) {
		size_t i = next_ready(plan, &g);

		if (i == (size_t)-1) {
			report_cycle(ld, plan, &g);
			goto out;
		}
		g.done[i] = true;
		sorted[nsorted++] = plan->steps[i];
	}
	free(plan->steps);
	plan->steps = sorted;
	sorted = NULL;
	r = 0;
out:
	for (size_t i = 0; g.deps != NULL && i < g.n; i++)
		free(g.deps[i]);
	free(g.deps);
	free(g.done);
	free(sorted);
	return r;
}

/* --- the whole plan --------------------------------------------------------- */

static int
build_steps(struct loader *ld, struct plan *plan, const struct names *where,
            const struct names *apply)
{
	const struct section *header = find_section(ld, SEC_PLAN, NULL);
	unsigned *after_line;
	size_t n = 0;
	int r = 0;

	plan->nsteps = count_sections(ld, SEC_STEP);
	if (plan->nsteps == 0)
		return fail(ld, header->line,
		            "plan has no steps; add a [step NAME] section");
	plan->steps = calloc(plan->nsteps, sizeof *plan->steps);
	after_line = calloc(plan->nsteps, sizeof *after_line);
	if (plan->steps == NULL || after_line == NULL) {
		free(after_line);
		plan->nsteps = plan->steps ? plan->nsteps : 0;
		return oom(ld);
	}
	for (size_t i = 0; i < ld->nsecs && r == 0; i++) {
		const struct section *sec = &ld->secs[i];

		if (sec->kind != SEC_STEP)
			continue;
		after_line[n] = sec->values[K_AFTER].text
		                        ? sec->values[K_AFTER].lines[0]
		                        : sec->line;
		r = build_step(ld, sec, where, apply, &plan->steps[n++]);
	}
	if (r == 0)
		r = order_steps(ld, plan, after_line);
	free(after_line);
	return r;
}

static int
build_checks(struct loader *ld, enum section_kind kind,
             const struct names *allowed, struct plan_check **out, size_t *n)
{
	size_t k = 0;

	*n = count_sections(ld, kind);
	if (*n == 0)
		return 0;
	if ((*out = calloc(*n, sizeof **out)) == NULL) {
		*n = 0;
		return oom(ld);
	}
	for (size_t i = 0; i < ld->nsecs; i++)
		if (ld->secs[i].kind == kind &&
		    build_check(ld, &ld->secs[i], allowed, &(*out)[k++]) == -1)
			return -1;
	return 0;
}

static void
plan_sql_free(struct plan_sql *sql)
{
	sql_stmt_free(&sql->stmt);
}

static void
checks_free(struct plan_check *checks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(checks[i].name);
		plan_sql_free(&checks[i].sql);
		free(checks[i].expect);
	}
	free(checks);
}

void
plan_free(struct plan *plan)
{
	if (plan == NULL)
		return;
	free(plan->name);
	free(plan->file);
	free(plan->description);
	plan_sql_free(&plan->tenants);
	plan_sql_free(&plan->params);
	sql_names_free(plan->param_names, plan->nparam_names);
	for (size_t i = 0; i < plan->nsteps; i++) {
		struct plan_step *s = &plan->steps[i];

		free(s->name);
		free(s->schema);
		free(s->table);
		free(s->key);
		plan_sql_free(&s->where);
		plan_sql_free(&s->apply);
		sql_names_free(s->after, s->nafter);
		free(s->source);
		plan_sql_free(&s->select);
		sql_names_free(s->columns, s->ncolumns);
		sql_names_free(s->upsert, s->nupsert);
		sql_names_free(s->default_cols, s->ndefaults);
		sql_names_free(s->default_exprs, s->ndefaults);
		plan_sql_free(&s->clear);
		free(s->clear_ref);
	}
	free(plan->steps);
	free(plan->source);
	sql_names_free(plan->args, plan->nargs);
	free(plan->pair);
	checks_free(plan->checks, plan->nchecks);
	checks_free(plan->verifies, plan->nverifies);
	free(plan);
}

static struct plan *
build_plan(struct loader *ld, const char *name)
{
	struct plan *plan = calloc(1, sizeof *plan);
	struct names where = {0}, apply = {0};

	if (plan == NULL) {
		oom(ld);
		return NULL;
	}
	plan->name = strdup(name);
	plan->file = strdup(ld->file);
	if (plan->name == NULL || plan->file == NULL)
		oom(ld);
	else if (build_header(ld, plan) == 0 &&
	         build_header_import(ld, plan) == 0 &&
	         names_make(ld, &where, builtin_params, 1, plan) == 0 &&
	         names_make(ld, &apply, builtin_params, 3, plan) == 0 &&
	         build_checks(ld, SEC_CHECK, &where, &plan->checks,
	                      &plan->nchecks) == 0 &&
	         build_steps(ld, plan, &where, &apply) == 0)
		build_checks(ld, SEC_VERIFY, &where, &plan->verifies,
		             &plan->nverifies);
	free(where.v);
	free(apply.v);
	if (ld->failed) {
		plan_free(plan);
		return NULL;
	}
	return plan;
}

/* NAME of ".../NAME.plan", checked. */
static int
plan_name(struct loader *ld, const char *path, char *name, size_t len)
{
	const char *base = strrchr(path, '/');
	char shown_buf[64];
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n < 5 || strcmp(base + n - 5, ".plan") != 0)
		return fail(ld, 0, "plan file names end in .plan");
	n -= 5;
	if (!valid_name(base, n) || n >= len)
		return fail(
		        ld, 0,
		        "bad plan name \"%s\": use 1 to %d letters, digits, "
		        "_ or -",
		        shown_n(base, n, shown_buf, sizeof shown_buf),
		        PLAN_NAME_MAX);
	memcpy(name, base, n);
	name[n] = '\0';
	return 0;
}

/*
 * A plan directory holds plan files: a directory, device or FIFO called
 * NAME.plan is refused before it is opened (a FIFO would block the reader).
 * A file that cannot be opened is left to inifile_parse() to report.
 */
static int
check_regular(struct loader *ld)
{
	struct stat st;

	if (stat(ld->file, &st) == 0 && !S_ISREG(st.st_mode))
		return fail(ld, 0, "not a regular file");
	return 0;
}

struct plan *
plan_load(const char *path, char *err, size_t errlen)
{
	struct loader ld = {.file = path};
	struct plan *plan = NULL;
	char name[PLAN_NAME_MAX + 1];

	if (plan_name(&ld, path, name, sizeof name) == 0 &&
	    check_regular(&ld) == 0) {
		read_file(&ld);
		if (!ld.failed)
			plan = build_plan(&ld, name);
	}
	sections_free(ld.secs, ld.nsecs);
	if (ld.failed) {
		if (ld.err_line > 0)
			snprintf(err, errlen, "%s:%u: %s", path, ld.err_line,
			         ld.msg);
		else
			snprintf(err, errlen, "%s: %s", path, ld.msg);
		return NULL;
	}
	return plan;
}

const struct plan_step *
plan_step_find(const struct plan *plan, const char *name)
{
	size_t i = step_index(plan, name);

	return i == (size_t)-1 ? NULL : &plan->steps[i];
}

int
plan_select_steps(const struct plan *plan, const char *const *names,
                  size_t nnames, bool *selected, char *err, size_t errlen)
{
	char shown_buf[64];

	for (size_t i = 0; i < plan->nsteps; i++)
		selected[i] = nnames == 0;
	for (size_t k = 0; k < nnames; k++) {
		size_t i = step_index(plan, names[k]);

		if (i == (size_t)-1) {
			snprintf(err, errlen, "plan %s has no step %s",
			         plan->name,
			         shown(names[k], shown_buf, sizeof shown_buf));
			return -1;
		}
		selected[i] = true;
	}
	return 0;
}

/* --- plan directories ------------------------------------------------------ */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the *.plan entries of dir, dot files left out. */
static int
list_plan_files(const char *dir, char ***files, size_t *n, char *err,
                size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	*files = NULL;
	*n = 0;
	if (d == NULL) {
		snprintf(err, errlen, "cannot open plan directory %s: %s", dir,
		         strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.' || len < 5 ||
		    strcmp(e->d_name + len - 5, ".plan") != 0)
			continue;
		if (push(files, n, strdup(e->d_name)) == -1) {
			closedir(d);
			sql_names_free(*files, *n);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	closedir(d);
	if (*n > 1)
		qsort(*files, *n, sizeof **files, cmp_str);
	return 0;
}

static int
add_plan(struct plan_set *set, struct plan *plan)
{
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	struct plan **p = realloc(set->plans, (set->nplans + 1) * sizeof *p);

	if (p == NULL)
		return -1;
	p[set->nplans++] = plan;
	set->plans = p;
	return 0;
}

/* Loads dir/file into set, as a plan or as an error. */
static int
load_into(struct plan_set *set, const char *dir, const char *file)
{
	size_t dlen = strlen(dir);
	char *path, msg[MSG_MAX];
	struct plan *plan;

	if (asprintf(&path, "%s%s%s", dir,
	             dlen > 0 && dir[dlen - 1] == '/' ? "" : "/", file) < 0)
		return -1;
	plan = plan_load(path, msg, sizeof msg);
	free(path);
	if (plan == NULL)
		return push(&set->errors, &set->nerrors, strdup(msg));
	if (add_plan(set, plan) == -1) {
		plan_free(plan);
		return -1;
	}
	return 0;
}

struct plan_set *
plan_dir_load(const char *dir, char *err, size_t errlen)
{
	struct plan_set *set;
	char **files;
	size_t n;
	int r = 0;

	if (list_plan_files(dir, &files, &n, err, errlen) == -1)
		return NULL;
	set = calloc(1, sizeof *set);
	for (size_t i = 0; set != NULL && i < n && r == 0; i++)
		r = load_into(set, dir, files[i]);
	sql_names_free(files, n);
	if (set == NULL || r == -1) {
		plan_set_free(set);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return set;
}

const struct plan *
plan_set_find(const struct plan_set *set, const char *name)
{
	for (size_t i = 0; i < set->nplans; i++)
		if (strcmp(set->plans[i]->name, name) == 0)
			return set->plans[i];
	return NULL;
}

void
plan_set_free(struct plan_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->nplans; i++)
		plan_free(set->plans[i]);
	free(set->plans);
	sql_names_free(set->errors, set->nerrors);
	free(set);
}
