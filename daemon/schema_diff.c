#include "schema_diff.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *const kinds[] = {SCHEMA_DIFF_KINDS};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

char *
schema_diff_squeeze(const char *s)
{
	char *out = malloc(strlen(s) + 1);
	size_t n = 0;
	bool space = false;

	if (out == NULL)
		return NULL;
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' ||
		    *s == '\f' || *s == '\v') {
			space = n > 0;
			continue;
		}
		if (space)
			out[n++] = ' ';
		space = false;
		out[n++] = *s;
	}
	out[n] = '\0';
	return out;
}

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The definition of a member as text: strings as they are, else JSON. */
static char *
definition(const json_t *v)
{
	char *text;
	char *out;

	if (json_is_string(v))
		return schema_diff_squeeze(json_string_value(v));
	text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (text == NULL)
		return NULL;
	out = schema_diff_squeeze(text);
	free(text);
	return out;
}

static int
add(json_t *out, const char *kind, const char *name, const char *change,
    const char *a, const char *b)
{
	json_t *row = json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "kind", kind,
	                        "name", name, "change", change, "a", a, "b", b);

	if (row == NULL)
		return -1;
	return json_array_append_new(out, row);
}

/* Compares one kind's members of a and b into out. */
static int
diff_kind(json_t *out, const char *kind, const json_t *ma, const json_t *mb)
{
	size_t na = json_is_object(ma) ? json_object_size(ma) : 0;
	size_t nb = json_is_object(mb) ? json_object_size(mb) : 0;
	const char **names = malloc((na + nb + 1) * sizeof(*names));
	size_t n = 0;
	const char *key;
	json_t *v;
	int rc = 0;

	if (names == NULL)
		return -1;
	if (na > 0)
		json_object_foreach((json_t *)ma, key, v) names[n++] = key;
	if (nb > 0)
		json_object_foreach((json_t *)mb, key, v)
		{
			if (na == 0 || json_object_get(ma, key) == NULL)
				names[n++] = key;
		}
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const json_t *va =
		        na > 0 ? json_object_get(ma, names[i]) : NULL;
		const json_t *vb =
		        nb > 0 ? json_object_get(mb, names[i]) : NULL;
		char *da = va != NULL ? definition(va) : NULL;
		char *db = vb != NULL ? definition(vb) : NULL;

		if ((va != NULL && da == NULL) || (vb != NULL && db == NULL))
			rc = -1;
		else if (va == NULL)
			rc = add(out, kind, names[i], "only_in_b", NULL, db);
		else if (vb == NULL)
			rc = add(out, kind, names[i], "only_in_a", da, NULL);
		else if (strcmp(da, db) != 0)
			rc = add(out, kind, names[i], "differs", da, db);
		free(da);
		free(db);
	}
	free(names);
	return rc;
}

static bool
known_kind(const char *kind)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (strcmp(kinds[i], kind) == 0)
			return true;
	return false;
}

/* The kinds of s not in kinds[], appended to list (sorted later). */
static void
other_kinds(const json_t *s, const char **list, size_t *n)
{
	const char *key;
	json_t *v;

	if (!json_is_object(s))
		return;
	json_object_foreach((json_t *)s, key, v)
	{
		bool seen = known_kind(key);
		for (size_t i = 0; i < *n && !seen; i++)
			seen = strcmp(list[i], key) == 0;
		if (!seen)
			list[(*n)++] = key;
	}
}

json_t *
schema_diff(const json_t *a, const json_t *b)
{
	json_t *out = json_array();
	size_t nother = 0;
	size_t room = (json_is_object(a) ? json_object_size(a) : 0) +
	              (json_is_object(b) ? json_object_size(b) : 0) + 1;
	const char **other = malloc(room * sizeof(*other));

	if (out == NULL || other == NULL)
		goto fail;
	for (size_t i = 0; i < NKINDS; i++)
		if (diff_kind(out, kinds[i],
		              json_is_object(a) ? json_object_get(a, kinds[i])
		                                : NULL,
		              json_is_object(b) ? json_object_get(b, kinds[i])
		                                : NULL) < 0)
			goto fail;
	other_kinds(a, other, &nother);
	other_kinds(b, other, &nother);
	qsort(other, nother, sizeof(*other), cmp_str);
	for (size_t i = 0; i < nother; i++)
		if (diff_kind(out, other[i],
		              json_is_object(a) ? json_object_get(a, other[i])
		                                : NULL,
		              json_is_object(b) ? json_object_get(b, other[i])
		                                : NULL) < 0)
			goto fail;
	free(other);
	return out;
fail:
	free(other);
	json_decref(out);
	return NULL;
}
