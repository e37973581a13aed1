/*
 * Reading a plan file (plan_read.h): inifile.h's callbacks become raw
 * sections of the types the loader allows, each value with the line of its
 * key and of every continuation line. Nothing is interpreted here beyond
 * which sections and keys exist: the builders check the values.
 */
#include "plan_read.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inifile.h"
#include "sql_params.h"

#define PLAN_FILE_MAX ((size_t)1024 * 1024) /* bytes */
#define PLAN_SECTIONS_MAX 1000

void
plan_fail(struct loader *ld, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (ld->failed)
		return;
	ld->failed = true;
	ld->err_line = line;
	va_start(ap, fmt);
	vsnprintf(ld->msg, sizeof ld->msg, fmt, ap);
	va_end(ap);
}

/* --- words ---------------------------------------------------------------- */

bool
plan_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

const char *
plan_skip_blank(const char *s)
{
	while (plan_is_blank(*s))
		s++;
	return s;
}

const char *
plan_shown_n(const char *s, size_t n, char *buf, size_t len)
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

const char *
plan_shown(const char *s, char *buf, size_t len)
{
	return plan_shown_n(s, strlen(s), buf, len);
}

bool
plan_is_ident_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

bool
plan_is_ident(const char *s, size_t n)
{
	if (n == 0 || n > PLAN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!plan_is_ident_char(s[i], i == 0))
			return false;
	return true;
}

bool
plan_valid_name(const char *s, size_t n)
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

int
plan_push(char ***list, size_t *n, char *s)
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

static size_t
count(const char *const *list)
{
	size_t n = 0;

	while (list[n] != NULL)
		n++;
	return n;
}

/* --- sections and values -------------------------------------------------- */

void
plan_section_label(const struct section *sec, char *buf, size_t len)
{
	if (sec->name == NULL)
		snprintf(buf, len, "[%s]", sec->type->word);
	else
		snprintf(buf, len, "[%s %s]", sec->type->word, sec->name);
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

void
plan_read_free(struct loader *ld)
{
	for (size_t i = 0; i < ld->nsecs; i++) {
		free(ld->secs[i].name);
		for (size_t k = 0; k < PLAN_KEYS_MAX; k++)
			value_free(&ld->secs[i].values[k]);
	}
	free(ld->secs);
	ld->secs = NULL;
	ld->nsecs = 0;
}

unsigned
plan_value_line(const struct value *v, unsigned k)
{
	if (k == 0)
		return v->lines[0];
	return v->lines[k > v->nlines ? v->nlines - 1 : k - 1];
}

const struct section *
plan_section_find(const struct loader *ld, const struct section_type *type,
                  const char *name)
{
	for (size_t i = 0; i < ld->nsecs; i++) {
		const struct section *s = &ld->secs[i];

		if (s->type == type &&
		    (name == NULL || strcmp(s->name, name) == 0))
			return s;
	}
	return NULL;
}

/* --- reading: section headers, keys and values ---------------------------- */

static const struct section_type *
find_type(const struct loader *ld, const char *word)
{
	for (size_t i = 0; i < ld->ntypes; i++)
		if (strcmp(ld->types[i]->word, word) == 0)
			return ld->types[i];
	return NULL;
}

static int
add_section(struct loader *ld, const struct section_type *type,
            const char *name)
{
	const struct section *dup = plan_section_find(ld, type, name);
	struct section *secs;
	char label[128];

	if (dup != NULL) {
		plan_section_label(dup, label, sizeof label);
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
	        .type = type, .line = ld->line, .last_key = -1};
	if (name != NULL && (secs[ld->nsecs].name = strdup(name)) == NULL)
		return oom(ld);
	ld->nsecs++;
	return 0;
}

/* The text of a header "[word name]" or "[plan]". */
static int
section_header(struct loader *ld, const char *text)
{
	char *inner, *word, *name, *save, whole[64], bad[64];
	const struct section_type *type = NULL;
	int r;

	plan_shown(text, whole, sizeof whole);
	if ((inner = strdup(text)) == NULL)
		return oom(ld);
	word = strtok_r(inner, " \t", &save);
	name = word ? strtok_r(NULL, " \t", &save) : NULL;
	if (word == NULL || (type = find_type(ld, word)) == NULL ||
	    (name != NULL && strtok_r(NULL, " \t", &save) != NULL))
		r = fail(ld, ld->line, "unknown section [%s]; expected %s",
		         whole, ld->usage);
	else if (!type->named && name != NULL)
		r = fail(ld, ld->line, "[%s] takes no name", word);
	else if (type->named && name == NULL)
		r = fail(ld, ld->line, "[%s] needs a name: [%s NAME]", word,
		         word);
	else if (name != NULL && !plan_valid_name(name, strlen(name)))
		r = fail(
		        ld, ld->line,
		        "bad %s name \"%s\": use 1 to %d letters, digits, _ or -",
		        word, plan_shown(name, bad, sizeof bad), PLAN_NAME_MAX);
	else
		r = add_section(ld, type, name);
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
		            plan_shown(name, shown_buf, sizeof shown_buf));
	keys = sec->type->keys;
	for (k = 0; keys[k] != NULL && strcmp(keys[k], name) != 0; k++)
		;
	if (keys[k] == NULL && strpbrk(name, " \t") != NULL)
		return fail(
		        ld, ld->line,
		        "\"%s\" is not a key; indent the continuation lines "
		        "of a value",
		        plan_shown(name, shown_buf, sizeof shown_buf));
	if (keys[k] == NULL) {
		plan_section_label(sec, label, sizeof label);
		sql_join_names(keys, count(keys), known, sizeof known);
		return fail(ld, ld->line, "unknown key %s in %s (known: %s)",
		            plan_shown(name, shown_buf, sizeof shown_buf),
		            label, known);
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

void
plan_read(struct loader *ld)
{
	const struct inifile_options options = {
	        .multiline = true,
	        .max_bytes = PLAN_FILE_MAX,
	        .sections = ld->usage,
	        .long_line_hint = "split SQL over several indented lines",
	};
	struct inifile_error err;

	if (inifile_parse(ld->file, &options, on_entry, ld, &err) == -1) {
		ld->failed = false; /* inifile.c knows which came first */
		plan_fail(ld, (unsigned)err.line, "%s", err.msg);
	}
}
