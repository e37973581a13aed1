#include "sqlite_convert.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sqlite3.h>

enum sqlite_conv_class
sqlite_conv_class_of(const char *t)
{
	size_t n = strlen(t);

	if (n >= 2 && strcmp(t + n - 2, "[]") == 0)
		return SQLITE_CONV_TEXT;
	if (strcmp(t, "smallint") == 0 || strcmp(t, "integer") == 0 ||
	    strcmp(t, "bigint") == 0)
		return SQLITE_CONV_INT;
	if (strncmp(t, "numeric", 7) == 0 || strcmp(t, "real") == 0 ||
	    strcmp(t, "double precision") == 0)
		return SQLITE_CONV_NUMERIC;
	if (strcmp(t, "boolean") == 0)
		return SQLITE_CONV_BOOL;
	if (strcmp(t, "bytea") == 0)
		return SQLITE_CONV_BYTEA;
	if (strcmp(t, "date") == 0)
		return SQLITE_CONV_DATE;
	if (strncmp(t, "timestamp", 9) == 0)
		return strstr(t, "with time zone") != NULL &&
		                       strstr(t, "without") == NULL
		               ? SQLITE_CONV_TIMESTAMPTZ
		               : SQLITE_CONV_TIMESTAMP;
	if (strcmp(t, "json") == 0 || strcmp(t, "jsonb") == 0)
		return SQLITE_CONV_JSON;
	return SQLITE_CONV_TEXT;
}

/* ---- text helpers ---- */

static bool
valid_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t len;
		unsigned int cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			len = 2, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			len = 3, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* Text in COPY text format: backslash, tab, newline, return escaped. */
static void
put_text(struct evbuffer *out, const unsigned char *p, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		const char *esc = NULL;

		switch (p[i]) {
		case '\\':
			esc = "\\\\";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		default:
			continue;
		}
		evbuffer_add(out, p + start, i - start);
		evbuffer_add(out, esc, 2);
		start = i + 1;
	}
	evbuffer_add(out, p + start, n - start);
}

/* The shortest %g that reads back as r. */
static void
format_real(double r, char *buf, size_t len)
{
	if (isnan(r)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(r)) {
		snprintf(buf, len, r > 0 ? "Infinity" : "-Infinity");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, r);
		if (strtod(buf, NULL) == r)
			return;
	}
}

/* The text without surrounding white space, in [*b, *e). */
static void
trim(const unsigned char *p, size_t n, const unsigned char **b,
     const unsigned char **e)
{
	*b = p;
	*e = p + n;
	while (*b < *e && isspace(**b))
		(*b)++;
	while (*e > *b && isspace((*e)[-1]))
		(*e)--;
}

static bool
text_is_int(const unsigned char *p, size_t n, long long *v)
{
	const unsigned char *b, *e;
	char buf[32];
	char *end;

	trim(p, n, &b, &e);
	if (e == b || (size_t)(e - b) >= sizeof(buf))
		return false;
	memcpy(buf, b, (size_t)(e - b));
	buf[e - b] = '\0';
	if (!isdigit((unsigned char)buf[buf[0] == '-' || buf[0] == '+']))
		return false;
	errno = 0;
	*v = strtoll(buf, &end, 10);
	return *end == '\0' && errno == 0;
}

static bool
text_is_number(const unsigned char *p, size_t n, const unsigned char **b,
               const unsigned char **e)
{
	bool digit = false, dot = false, exp = false;
	const unsigned char *s;

	trim(p, n, b, e);
	s = *b;
	if (s < *e && (*s == '+' || *s == '-'))
		s++;
	for (; s < *e; s++) {
		if (isdigit(*s)) {
			digit = true;
		} else if (*s == '.' && !dot && !exp) {
			dot = true;
		} else if ((*s == 'e' || *s == 'E') && digit && !exp) {
			exp = true;
			digit = false;
			if (s + 1 < *e && (s[1] == '+' || s[1] == '-'))
				s++;
		} else {
			return false;
		}
	}
	return digit;
}

static int
conv_bool(const struct sqlite_cell *c, struct evbuffer *out)
{
	static const char *const yes[] = {"1", "true", "t", "yes", "y", "on"};
	static const char *const no[] = {"0", "false", "f", "no", "n", "off"};
	const unsigned char *b, *e;
	char buf[8];

	if (c->type == SQLITE_INTEGER && (c->i == 0 || c->i == 1)) {
		evbuffer_add(out, c->i ? "t" : "f", 1);
		return 0;
	}
	if (c->type != SQLITE_TEXT)
		return -1;
	trim(c->p, c->n, &b, &e);
	if (e - b >= (long)sizeof(buf))
		return -1;
	memcpy(buf, b, (size_t)(e - b));
	buf[e - b] = '\0';
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(buf, yes[i]) == 0) {
			evbuffer_add(out, "t", 1);
			return 0;
		}
		if (strcasecmp(buf, no[i]) == 0) {
			evbuffer_add(out, "f", 1);
			return 0;
		}
	}
	return -1;
}

/* ---- dates ---- */

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static void
civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

static unsigned
days_in_month(long long y, unsigned m)
{
	static const unsigned dm[] = {31, 28, 31, 30, 31, 30,
	                              31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

/* n digits at *s into *v; advances *s. */
static bool
digits(const unsigned char **s, const unsigned char *e, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (*s >= e || !isdigit(**s))
			return false;
		*v = *v * 10 + (unsigned)(**s - '0');
	}
	return true;
}

/* A point in time: UTC seconds since the epoch and microseconds. */
struct instant {
	long long secs;
	long usec;
};

/*
 * ISO 8601 text: date, optional time, optional offset. date_only: a time
 * must be absent or midnight and no offset.
 */
static bool
parse_iso(const unsigned char *p, size_t n, bool date_only, struct instant *t)
{
	const unsigned char *s, *e;
	unsigned y, mo, d, h = 0, mi = 0, sec = 0;
	long usec = 0;
	long off = 0;

	trim(p, n, &s, &e);
	if (!digits(&s, e, 4, &y) || s >= e || *s++ != '-' ||
	    !digits(&s, e, 2, &mo) || s >= e || *s++ != '-' ||
	    !digits(&s, e, 2, &d))
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return false;
	if (s < e && (*s == 'T' || *s == ' ')) {
		s++;
		if (!digits(&s, e, 2, &h) || s >= e || *s++ != ':' ||
		    !digits(&s, e, 2, &mi))
			return false;
		if (s < e && *s == ':') {
			s++;
			if (!digits(&s, e, 2, &sec))
				return false;
			if (s < e && (*s == '.' || *s == ',')) {
				long scale = 100000;
				s++;
				if (s >= e || !isdigit(*s))
					return false;
				for (; s < e && isdigit(*s); s++, scale /= 10)
					usec += scale * (*s - '0');
			}
		}
		if (h > 23 || mi > 59 || sec > 59)
			return false;
		if (s < e && (*s == 'Z' || *s == 'z')) {
			s++;
			if (date_only)
				return false;
		} else if (s < e && (*s == '+' || *s == '-')) {
			int sign = *s++ == '-' ? -1 : 1;
			unsigned oh, om = 0;
			if (date_only || !digits(&s, e, 2, &oh))
				return false;
			if (s < e && *s == ':')
				s++;
			if (s < e && !digits(&s, e, 2, &om))
				return false;
			if (oh > 15 || om > 59)
				return false;
			off = sign * (long)(oh * 3600 + om * 60);
		}
		if (date_only && (h || mi || sec || usec))
			return false;
	}
	if (s != e)
		return false;
	t->secs = days_from_civil(y, mo, d) * 86400 + (long long)h * 3600 +
	          (long long)mi * 60 + sec - off;
	t->usec = usec;
	return true;
}

/* Unix epoch seconds (INTEGER or REAL) as an instant in years 1..9999. */
static bool
epoch_instant(const struct sqlite_cell *c, struct instant *t)
{
	/* 0001-01-01 and 10000-01-01 */
	const double lo = -62135596800.0, hi = 253402300800.0;

	if (c->type == SQLITE_INTEGER) {
		if ((double)c->i < lo || (double)c->i >= hi)
			return false;
		t->secs = c->i;
		t->usec = 0;
		return true;
	}
	if (!isfinite(c->r) || c->r < lo || c->r >= hi)
		return false;
	double us = round(c->r * 1e6);
	t->secs = (long long)floor(us / 1e6);
	t->usec = (long)(us - (double)t->secs * 1e6);
	return true;
}

static int
put_instant(struct evbuffer *out, const struct instant *t, bool date, bool tz)
{
	long long days =
	        t->secs >= 0 ? t->secs / 86400 : -((-t->secs + 86399) / 86400);
	long long rem = t->secs - days * 86400, y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	if (y < 1 || y > 9999)
		return -1;
	if (date)
		return evbuffer_add_printf(out, "%04lld-%02u-%02u", y, m, d) < 0
		               ? -1
		               : 0;
	evbuffer_add_printf(out, "%04lld-%02u-%02u %02lld:%02lld:%02lld", y, m,
	                    d, rem / 3600, rem / 60 % 60, rem % 60);
	if (t->usec)
		evbuffer_add_printf(out, ".%06ld", t->usec);
	if (tz)
		evbuffer_add(out, "+00", 3);
	return 0;
}

static int
conv_time(const struct sqlite_cell *c, enum sqlite_conv_class cls,
          struct evbuffer *out)
{
	struct instant t;
	bool date = cls == SQLITE_CONV_DATE;

	if (c->type == SQLITE_TEXT) {
		if (!parse_iso(c->p, c->n, date, &t))
			return -1;
	} else if (c->type == SQLITE_INTEGER || c->type == SQLITE_FLOAT) {
		if (!epoch_instant(c, &t))
			return -1;
		if (date && (t.secs % 86400 != 0 || t.usec))
			return -1; /* not midnight UTC: not a date */
	} else {
		return -1;
	}
	return put_instant(out, &t, date, cls == SQLITE_CONV_TIMESTAMPTZ);
}

/* ---- the rules ---- */

static const char *
expected(enum sqlite_conv_class cls)
{
	switch (cls) {
	case SQLITE_CONV_INT:
		return "not an integer";
	case SQLITE_CONV_NUMERIC:
		return "not a number";
	case SQLITE_CONV_BOOL:
		return "not a boolean (0/1, true/false, t/f, yes/no, on/off)";
	case SQLITE_CONV_BYTEA:
		return "not bytes";
	case SQLITE_CONV_DATE:
		return "not a date (YYYY-MM-DD or unix epoch seconds at "
		       "midnight UTC)";
	case SQLITE_CONV_TIMESTAMP:
	case SQLITE_CONV_TIMESTAMPTZ:
		return "not a timestamp (ISO 8601 or unix epoch seconds)";
	case SQLITE_CONV_JSON:
		return "not JSON";
	case SQLITE_CONV_TEXT:
		break;
	}
	return "not valid UTF-8 text";
}

static int
conv(const struct sqlite_cell *c, enum sqlite_conv_class cls,
     struct evbuffer *out)
{
	char buf[64];
	long long v;
	const unsigned char *b, *e;

	switch (cls) {
	case SQLITE_CONV_INT:
		if (c->type == SQLITE_INTEGER)
			return evbuffer_add_printf(out, "%lld",
			                           (long long)c->i) < 0
			               ? -1
			               : 0;
		if (c->type == SQLITE_FLOAT) {
			if (!isfinite(c->r) || c->r != floor(c->r) ||
			    fabs(c->r) >= 9.2e18)
				return -1;
			return evbuffer_add_printf(out, "%lld",
			                           (long long)c->r) < 0
			               ? -1
			               : 0;
		}
		if (c->type == SQLITE_TEXT && text_is_int(c->p, c->n, &v))
			return evbuffer_add_printf(out, "%lld", v) < 0 ? -1 : 0;
		return -1;
	case SQLITE_CONV_NUMERIC:
		if (c->type == SQLITE_INTEGER)
			return evbuffer_add_printf(out, "%lld",
			                           (long long)c->i) < 0
			               ? -1
			               : 0;
		if (c->type == SQLITE_FLOAT) {
			format_real(c->r, buf, sizeof(buf));
			return evbuffer_add(out, buf, strlen(buf));
		}
		if (c->type == SQLITE_TEXT &&
		    text_is_number(c->p, c->n, &b, &e))
			return evbuffer_add(out, b, (size_t)(e - b));
		return -1;
	case SQLITE_CONV_BOOL:
		return conv_bool(c, out);
	case SQLITE_CONV_BYTEA:
		if (c->type != SQLITE_BLOB && c->type != SQLITE_TEXT)
			return -1;
		evbuffer_add(out, "\\\\x", 3);
		for (size_t i = 0; i < c->n; i++)
			evbuffer_add_printf(out, "%02x", c->p[i]);
		return 0;
	case SQLITE_CONV_DATE:
	case SQLITE_CONV_TIMESTAMP:
	case SQLITE_CONV_TIMESTAMPTZ:
		return conv_time(c, cls, out);
	case SQLITE_CONV_JSON: {
		json_t *j;
		if (c->type == SQLITE_INTEGER || c->type == SQLITE_FLOAT)
			return conv(c, SQLITE_CONV_NUMERIC, out);
		if (c->type != SQLITE_TEXT || !valid_utf8(c->p, c->n))
			return -1;
		j = json_loadb((const char *)c->p, c->n, JSON_DECODE_ANY, NULL);
		if (j == NULL)
			return -1;
		json_decref(j);
		put_text(out, c->p, c->n);
		return 0;
	}
	case SQLITE_CONV_TEXT:
		break;
	}
	if (c->type == SQLITE_INTEGER)
		return evbuffer_add_printf(out, "%lld", (long long)c->i) < 0
		               ? -1
		               : 0;
	if (c->type == SQLITE_FLOAT) {
		format_real(c->r, buf, sizeof(buf));
		return evbuffer_add(out, buf, strlen(buf));
	}
	if (!valid_utf8(c->p, c->n))
		return -1;
	put_text(out, c->p, c->n);
	return 0;
}

int
sqlite_convert(const struct sqlite_cell *c, enum sqlite_conv_class cls,
               struct evbuffer *out, char *why, size_t whylen)
{
	struct evbuffer *tmp;

	if (c->type == SQLITE_NULL)
		return evbuffer_add(out, "\\N", 2);
	tmp = evbuffer_new();
	if (tmp == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (conv(c, cls, tmp) < 0) {
		evbuffer_free(tmp);
		snprintf(why, whylen, "%s", expected(cls));
		return -1;
	}
	evbuffer_add_buffer(out, tmp);
	evbuffer_free(tmp);
	return 0;
}

const char *
sqlite_cell_show(const struct sqlite_cell *c, char *buf, size_t len)
{
	size_t n, used;

	switch (c->type) {
	case SQLITE_NULL:
		snprintf(buf, len, "NULL");
		return buf;
	case SQLITE_INTEGER:
		snprintf(buf, len, "%lld", (long long)c->i);
		return buf;
	case SQLITE_FLOAT:
		format_real(c->r, buf, len);
		return buf;
	case SQLITE_BLOB:
		used = (size_t)snprintf(buf, len, "x'");
		for (size_t i = 0; i < c->n && used + 8 < len && i < 64; i++)
			used += (size_t)snprintf(buf + used, len - used, "%02x",
			                         c->p[i]);
		snprintf(buf + used, len - used, "%s'", c->n > 64 ? "..." : "");
		return buf;
	default:
		break;
	}
	/* text: quoted, cut at 200 bytes on a character boundary */
	n = c->n < 200 ? c->n : 200;
	while (n < c->n && n > 0 && (c->p[n] & 0xc0) == 0x80)
		n--;
	if (n + 8 > len)
		n = len > 8 ? len - 8 : 0;
	while (n > 0 && n < c->n && (c->p[n] & 0xc0) == 0x80)
		n--;
	snprintf(buf, len, "'%.*s%s'", (int)n, (const char *)c->p,
	         n < c->n ? "..." : "");
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return buf;
}
