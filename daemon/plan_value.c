/*
 * One value of a plan file into what a builder keeps (plan_read.h): given
 * or not, an identifier, a list of names, a choice of two words, compiled
 * SQL; a problem is reported at the value's own line.
 */
#include "plan_read.h"

#include <stdlib.h>
#include <string.h>

int
plan_optional(struct loader *ld, const struct section *sec, int key,
              const struct value **out)
{
	const struct value *v = &sec->values[key];

	*out = v->text != NULL ? v : NULL;
	if (v->text != NULL && v->text[0] == '\0')
		return fail(ld, v->lines[0], "empty value for %s",
		            sec->type->keys[key]);
	return 0;
}

int
plan_required(struct loader *ld, const struct section *sec, int key,
              const struct value **out)
{
	char label[128];

	if (plan_optional(ld, sec, key, out) == -1)
		return -1;
	if (*out == NULL) {
		plan_section_label(sec, label, sizeof label);
		return fail(ld, sec->line, "missing key %s in %s",
		            sec->type->keys[key], label);
	}
	return 0;
}

int
plan_compile(struct loader *ld, const struct value *v,
             const struct names *allowed, struct plan_sql *out)
{
	char msg[512];
	unsigned line = 0;

	if (sql_compile(v->text, allowed->v, allowed->n, &out->stmt, &line, msg,
	                sizeof msg) == -1)
		return fail(ld, plan_value_line(v, line), "%s", msg);
	out->line = v->lines[0];
	return 0;
}

int
plan_ident(const char *s, size_t n, char **out)
{
	*out = NULL;
	if (!plan_is_ident(s, n) || (*out = strndup(s, n)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((*out)[i] >= 'A' && (*out)[i] <= 'Z')
			(*out)[i] = (char)((*out)[i] - 'A' + 'a');
	return 0;
}

int
plan_choice(struct loader *ld, const struct value *v, const char *key,
            const char *no, const char *yes, bool *out)
{
	char shown_buf[64];

	if (strcmp(v->text, yes) == 0 || strcmp(v->text, no) == 0) {
		*out = strcmp(v->text, yes) == 0;
		return 0;
	}
	return fail(ld, v->lines[0], "bad %s \"%s\": expected %s or %s", key,
	            plan_shown(v->text, shown_buf, sizeof shown_buf), no, yes);
}

/* Refuses name when the list holds it already. */
static int
refuse_twice(struct loader *ld, const struct value *v, const char *what,
             const char *noun, char **list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return fail(ld, v->lines[0],
			            "%s %s appears twice in %s", noun, name,
			            what);
	return 0;
}

int
plan_list(struct loader *ld, const struct value *v, const char *what,
          const char *noun, bool idents, char ***list, size_t *n)
{
	const char *s = v->text;
	char shown_buf[64];

	for (;;) {
		const char *item = plan_skip_blank(s);
		size_t len = strcspn(item, ",");
		char *name = NULL;

		while (len > 0 && plan_is_blank(item[len - 1]))
			len--;
		if (len == 0)
			return fail(ld, v->lines[0], "empty %s name in %s",
			            noun, what);
		if (idents ? plan_ident(item, len, &name) == -1
		           : !plan_valid_name(item, len))
			return fail(ld, v->lines[0], "bad %s name \"%s\" in %s",
			            noun,
			            plan_shown_n(item, len, shown_buf,
			                         sizeof shown_buf),
			            what);
		if (name == NULL && (name = strndup(item, len)) == NULL)
			return oom(ld);
		if (refuse_twice(ld, v, what, noun, *list, *n, name) == -1) {
			free(name);
			return -1;
		}
		if (plan_push(list, n, name) == -1)
			return oom(ld);
		s = item + strcspn(item, ",");
		if (*s == '\0')
			return 0;
		s++;
	}
}
