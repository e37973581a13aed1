#include "vl_dispatch.h"

#include <string.h>

/* One type: whether a (non-null) value has it, and how it is stored. */
struct vl_kind {
	bool (*ok)(json_t *v, const struct vl_field *f);
	/* v is NULL when the field is absent */
	void (*store)(void *dest, json_t *v, const struct vl_field *f);
};

static bool
string_ok(json_t *v, const struct vl_field *f)
{
	size_t len;

	if (!json_is_string(v))
		return false;
	len = json_string_length(v);
	if (strlen(json_string_value(v)) != len)
		return false; /* a NUL inside: possible when built in C */
	if (f->min > 0 && len < (size_t)f->min)
		return false;
	return f->max <= 0 || len <= (size_t)f->max;
}

static bool
int_ok(json_t *v, const struct vl_field *f)
{
	return json_is_integer(v) && json_integer_value(v) >= f->min &&
	       json_integer_value(v) <= f->max;
}

static bool
bool_ok(json_t *v, const struct vl_field *f)
{
	(void)f;
	return json_is_boolean(v);
}

static bool
strings_ok(json_t *v, const struct vl_field *f)
{
	json_t *item;
	size_t i;

	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, item)
	{
		if (!string_ok(item, f))
			return false;
	}
	return true;
}

static bool
ints_ok(json_t *v, const struct vl_field *f)
{
	json_t *item;
	size_t i;

	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, item)
	{
		if (!int_ok(item, f))
			return false;
	}
	return true;
}

static bool
string_map_ok(json_t *v, const struct vl_field *f)
{
	const char *key;
	json_t *item;

	if (!json_is_object(v))
		return false;
	json_object_foreach(v, key, item)
	{
		if (!string_ok(item, f))
			return false;
	}
	return true;
}

static bool
objects_ok(json_t *v, const struct vl_field *f)
{
	const char *inner = NULL;
	json_t *item;
	size_t i;

	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, item)
	{
		if (!json_is_object(item) ||
		    vl_dispatch(item, f->fields, NULL, &inner) < 0)
			return false;
	}
	return true;
}

static void
store_string(void *dest, json_t *v, const struct vl_field *f)
{
	const char *s = v != NULL ? json_string_value(v) : NULL;

	(void)f;
	memcpy(dest, &s, sizeof(s));
}

static void
store_int(void *dest, json_t *v, const struct vl_field *f)
{
	long long n = v != NULL ? (long long)json_integer_value(v) : f->def;

	memcpy(dest, &n, sizeof(n));
}

static void
store_bool(void *dest, json_t *v, const struct vl_field *f)
{
	bool b = json_is_true(v);

	(void)f;
	memcpy(dest, &b, sizeof(b));
}

static void
store_json(void *dest, json_t *v, const struct vl_field *f)
{
	(void)f;
	memcpy(dest, &v, sizeof(json_t *));
}

static const struct vl_kind kinds[] = {
        [VL_STRING] = {string_ok, store_string},
        [VL_INT] = {int_ok, store_int},
        [VL_BOOL] = {bool_ok, store_bool},
        [VL_STRINGS] = {strings_ok, store_json},
        [VL_INTS] = {ints_ok, store_json},
        [VL_STRING_MAP] = {string_map_ok, store_json},
        [VL_OBJECTS] = {objects_ok, store_json},
};

static const struct vl_field *
field_find(const struct vl_field *fields, const char *name)
{
	for (const struct vl_field *f = fields; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

int
vl_dispatch(json_t *params, const struct vl_field *fields, void *out,
            const char **bad)
{
	const char *key;
	json_t *v;

	json_object_foreach(params, key, v)
	{
		if (field_find(fields, key) == NULL) {
			*bad = key;
			return -1;
		}
	}
	for (const struct vl_field *f = fields; f->name != NULL; f++) {
		const struct vl_kind *k = &kinds[f->type];

		v = json_object_get(params, f->name);
		if (json_is_null(v))
			v = NULL;
		if ((v == NULL && (f->flags & VL_REQUIRED)) ||
		    (v != NULL && !k->ok(v, f))) {
			*bad = f->name;
			return -1;
		}
		if (out != NULL)
			k->store((char *)out + f->offset, v, f);
	}
	return 0;
}
