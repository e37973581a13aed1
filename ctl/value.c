#include "value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const json_t *
value_get(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

const char *
value_str(const json_t *obj, const char *key)
{
	return json_string_value(value_get(obj, key));
}

long long
value_int(const json_t *obj, const char *key, long long def)
{
	const json_t *v = value_get(obj, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

/* "a, b, c"; "-" for an empty array. */
static char *
list_text(const json_t *array)
{
	char *joined = strdup(json_array_size(array) == 0 ? "-" : "");
	size_t i;
	const json_t *item;

	json_array_foreach(array, i, item)
	{
		char *part = value_text(item);
		char *next = NULL;

		if (joined == NULL || part == NULL ||
		    asprintf(&next, "%s%s%s", joined, i > 0 ? ", " : "", part) <
		            0)
			next = NULL;
		free(part);
		free(joined);
		joined = next;
	}
	return joined;
}

char *
value_text(const json_t *v)
{
	char *text = NULL;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_INTEGER:
		if (asprintf(&text, "%" JSON_INTEGER_FORMAT,
		             json_integer_value(v)) < 0)
			return NULL;
		return text;
	case JSON_REAL:
		if (asprintf(&text, "%.1f", json_real_value(v)) < 0)
			return NULL;
		return text;
	case JSON_TRUE:
		return strdup("yes");
	case JSON_FALSE:
		return strdup("no");
	case JSON_ARRAY:
		return list_text(v);
	case JSON_OBJECT:
		return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	case JSON_NULL:
	default:
		return strdup("-");
	}
}

char *
value_field(const json_t *obj, const char *key)
{
	const json_t *v = value_get(obj, key);

	return v == NULL ? strdup("-") : value_text(v);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *
value_assignments(const json_t *obj, const char *sep,
                  int (*compare)(const void *, const void *),
                  char *(*text)(const json_t *v))
{
	char *line = NULL;
	size_t len = 0;
	size_t n = 0;
	const char **keys;
	const char *key;
	json_t *v;
	FILE *mem;

	keys = calloc(json_object_size(obj) + 1, sizeof(*keys));
	mem = keys != NULL ? open_memstream(&line, &len) : NULL;
	if (mem == NULL) {
		free(keys);
		return NULL;
	}
	json_object_foreach((json_t *)obj, key, v) keys[n++] = key;
	qsort(keys, n, sizeof(*keys), compare != NULL ? compare : by_name);
	for (size_t i = 0; i < n; i++) {
		const json_t *member = json_object_get(obj, keys[i]);
		char *value;

		if (json_is_null(member))
			continue;
		value = text(member);
		fprintf(mem, "%s%s=%s", ftell(mem) > 0 ? sep : "", keys[i],
		        value != NULL ? value : "?");
		free(value);
	}
	free(keys);
	if (fclose(mem) != 0) {
		free(line);
		return NULL;
	}
	return line;
}
