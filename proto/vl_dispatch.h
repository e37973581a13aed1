/*
 * Varlink call parameters through one table per method, as systemd's
 * sd_json_dispatch_field does: each field names its JSON type, whether it
 * is required, where its value lands (an offset into the method's own
 * struct) and, for integers and strings, its bounds. vl_dispatch checks a
 * call's parameters against the table and fills the struct; the first
 * problem is reported by the field's name, for
 * org.varlink.service.InvalidParameter.
 *
 * As varlink.org says, null for an optional field is the same as absent.
 */
#ifndef VL_DISPATCH_H
#define VL_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The JSON shapes a field may have; the C type its value lands in. */
enum vl_type {
	VL_STRING,     /* const char *: a string without NUL */
	VL_INT,        /* long long: an integer in [min, max] */
	VL_BOOL,       /* bool */
	VL_STRINGS,    /* json_t *: []string, each as VL_STRING */
	VL_INTS,       /* json_t *: []int, each in [min, max] */
	VL_STRING_MAP, /* json_t *: [string]string, each value as VL_STRING */
	VL_OBJECTS,    /* json_t *: []Type, each object checked by fields */
};

#define VL_REQUIRED 1u /* absent or null is refused */

struct vl_field {
	const char *name; /* NULL ends a table */
	enum vl_type type;
	unsigned flags;
	size_t offset; /* of the value in the struct */
	/*
	 * VL_INT, VL_INTS: the bounds of each value. VL_STRING, VL_STRINGS,
	 * VL_STRING_MAP: each string's length in bytes (max 0: no limit).
	 */
	long long min, max;
	long long def;                 /* VL_INT: the value when absent */
	const struct vl_field *fields; /* VL_OBJECTS: each element's */
};

/*
 * Checks params (an object) against fields: a key that no field names, a
 * required field that is absent or null, a value of another type or out
 * of its bounds fail, with *bad naming the field (or the unknown key; it
 * points into params). Unknown keys are looked for first, then the fields
 * in table order. On success every field's value is stored at its offset
 * in out: the value given, or its default (NULL, false, def). JSON values
 * are borrowed from params. out may be NULL to check only.
 */
int vl_dispatch(json_t *params, const struct vl_field *fields, void *out,
                const char **bad) __attribute__((warn_unused_result));

/* The parameters of one method: its fields and the struct they fill. */
struct vl_params {
	const struct vl_field *fields;
	size_t size;
};

#define VL_PARAMS(st, table)                                                   \
	{                                                                      \
		.fields = (table), .size = sizeof(st)                          \
	}

/*
 * Table rows. The member's C type must be the one its enum vl_type says,
 * or the table does not compile.
 */
#define VL_AS_STRING_(st, m)                                                   \
	_Generic(((st *)0)->m, const char * : offsetof(st, m))
#define VL_AS_INT_(st, m) _Generic(((st *)0)->m, long long : offsetof(st, m))
#define VL_AS_BOOL_(st, m) _Generic(((st *)0)->m, bool : offsetof(st, m))
#define VL_AS_JSON_(st, m) _Generic(((st *)0)->m, json_t * : offsetof(st, m))

#define VL_FIELD_STRING(name_, flags_, st, member, minlen, maxlen)             \
	{                                                                      \
		.name = (name_), .type = VL_STRING, .flags = (flags_),         \
		.offset = VL_AS_STRING_(st, member), .min = (minlen),          \
		.max = (maxlen)                                                \
	}
#define VL_FIELD_INT(name_, flags_, st, member, min_, max_, def_)              \
	{                                                                      \
		.name = (name_), .type = VL_INT, .flags = (flags_),            \
		.offset = VL_AS_INT_(st, member), .min = (min_),               \
		.max = (max_), .def = (def_)                                   \
	}
#define VL_FIELD_BOOL(name_, flags_, st, member)                               \
	{                                                                      \
		.name = (name_), .type = VL_BOOL, .flags = (flags_),           \
		.offset = VL_AS_BOOL_(st, member)                              \
	}
#define VL_FIELD_STRINGS(name_, flags_, st, member, minlen, maxlen)            \
	{                                                                      \
		.name = (name_), .type = VL_STRINGS, .flags = (flags_),        \
		.offset = VL_AS_JSON_(st, member), .min = (minlen),            \
		.max = (maxlen)                                                \
	}
#define VL_FIELD_INTS(name_, flags_, st, member, min_, max_)                   \
	{                                                                      \
		.name = (name_), .type = VL_INTS, .flags = (flags_),           \
		.offset = VL_AS_JSON_(st, member), .min = (min_),              \
		.max = (max_)                                                  \
	}
#define VL_FIELD_STRING_MAP(name_, flags_, st, member, minlen, maxlen)         \
	{                                                                      \
		.name = (name_), .type = VL_STRING_MAP, .flags = (flags_),     \
		.offset = VL_AS_JSON_(st, member), .min = (minlen),            \
		.max = (maxlen)                                                \
	}
#define VL_FIELD_OBJECTS(name_, flags_, st, member, table)                     \
	{                                                                      \
		.name = (name_), .type = VL_OBJECTS, .flags = (flags_),        \
		.offset = VL_AS_JSON_(st, member), .fields = (table)           \
	}
#define VL_FIELDS_END                                                          \
	{                                                                      \
		.name = NULL                                                   \
	}

#endif
