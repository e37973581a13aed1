#include "table.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "value.h"

const struct table_column table_summary[2] = {{NULL, false}, {NULL, false}};

/* ---- display width ----------------------------------------------------- */

size_t
table_fit(const char *s, size_t max, size_t *width)
{
	mbstate_t st;
	size_t len = strlen(s);
	size_t pos = 0;
	size_t w = 0;

	memset(&st, 0, sizeof(st));
	while (pos < len) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, s + pos, len - pos, &st);
		int cw = 1;

		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof(st));
			n = 1;
		} else {
			cw = wcwidth(wc);
			if (cw < 0)
				cw = 1;
		}
		if (w + (size_t)cw > max)
			break;
		w += (size_t)cw;
		pos += n;
	}
	*width = w;
	return pos;
}

size_t
table_width(const char *s)
{
	size_t width;

	(void)table_fit(s, SIZE_MAX, &width);
	return width;
}

void
table_sanitize(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n' || *s == '\t')
			*s = ' ';
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	}
}

char *
table_shorten(const char *s, size_t max)
{
	size_t width;
	size_t bytes;
	char *text;

	if (table_width(s) <= max)
		return strdup(s);
	bytes = table_fit(s, max > 3 ? max - 3 : 0, &width);
	if (asprintf(&text, "%.*s...", (int)bytes, s) < 0)
		return NULL;
	return text;
}

/* ---- tables ------------------------------------------------------------ */

void
table_init(struct table *t, const struct table_column *cols, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->ncols = ncols;
}

void
table_clear(struct table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* Appends a cell (NULL: the rest of a table_line); false when out of memory. */
static bool
push(struct table *t, char *text)
{
	if (t->ncells == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;
		char **cells = realloc(t->cells, cap * sizeof(*cells));

		if (cells == NULL)
			return false;
		t->cells = cells;
		t->cap = cap;
	}
	t->cells[t->ncells++] = text;
	return true;
}

void
table_put(struct table *t, char *text)
{
	if (text == NULL || t->failed || !push(t, text)) {
		t->failed = true;
		free(text);
		return;
	}
	table_sanitize(text);
}

void
table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	table_put(t, text);
}

void
table_line(struct table *t, char *text)
{
	if (t->ncells % t->ncols != 0)
		t->failed = true;
	table_put(t, text);
	for (size_t c = 1; c < t->ncols && !t->failed; c++)
		t->failed = !push(t, NULL);
}

void
table_field(struct table *t, const json_t *obj, const char *key)
{
	table_put(t, value_field(obj, key));
}

void
table_summary_field(struct table *t, const char *label, const json_t *obj,
                    const char *key)
{
	table_cell(t, "%s:", label);
	table_field(t, obj, key);
}

static void
print_cell(FILE *f, const char *text, size_t width, bool right, bool last)
{
	size_t pad = width - table_width(text);

	if (right)
		fprintf(f, "%*s", (int)pad, "");
	fputs(text, f);
	if (!right && !last)
		fprintf(f, "%*s", (int)pad, "");
	fputs(last ? "\n" : "  ", f);
}

/* A line of its own (table_line): the row's other cells are NULL. */
static bool
is_line(const struct table *t, size_t row)
{
	return t->ncols > 1 && t->cells[row * t->ncols + 1] == NULL;
}

/* Prints one row; empty cells at its end print nothing, not blanks. */
static void
print_row(FILE *f, const struct table *t, char *const *cells,
          const size_t *width)
{
	size_t n = t->ncols;

	while (n > 1 && (cells[n - 1] == NULL || cells[n - 1][0] == '\0'))
		n--;
	for (size_t c = 0; c < n; c++)
		print_cell(f, cells[c] != NULL ? cells[c] : "", width[c],
		           t->cols[c].right, c + 1 == n);
}

static int
table_print(struct table *t, FILE *f)
{
	size_t width[TABLE_MAX_COLS] = {0};
	const char *headers[TABLE_MAX_COLS];
	size_t rows = t->ncols ? t->ncells / t->ncols : 0;

	if (t->failed || t->ncols == 0 || t->ncols > TABLE_MAX_COLS ||
	    t->ncells % t->ncols != 0)
		return -1;
	for (size_t c = 0; c < t->ncols; c++) {
		headers[c] = t->cols[c].header;
		if (headers[c] != NULL)
			width[c] = table_width(headers[c]);
	}
	for (size_t r = 0; r < rows; r++) {
		for (size_t c = 0; c < t->ncols && !is_line(t, r); c++) {
			size_t w = table_width(t->cells[r * t->ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	}
	if (headers[0] != NULL)
		print_row(f, t, (char *const *)headers, width);
	for (size_t r = 0; r < rows; r++) {
		if (is_line(t, r))
			fprintf(f, "%s\n", t->cells[r * t->ncols]);
		else
			print_row(f, t, t->cells + r * t->ncols, width);
	}
	return 0;
}

int
table_done(struct table *t, FILE *f)
{
	int rc = table_print(t, f);

	table_clear(t);
	return rc;
}

/* ---- human formats ----------------------------------------------------- */

void
table_duration(char *buf, size_t len, double sec)
{
	static const struct {
		const char *unit;
		long long sec;
	} units[] = {{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}};
	long long left = sec < 0 ? 0 : (long long)(sec + 0.5);
	size_t i = 0;

	while (i < 3 && left < units[i].sec)
		i++;
	if (i == 3) {
		snprintf(buf, len, "%llds", left);
		return;
	}
	snprintf(buf, len, "%lld%s %lld%s", left / units[i].sec, units[i].unit,
	         left % units[i].sec / units[i + 1].sec, units[i + 1].unit);
}

void
table_size(char *buf, size_t len, long long bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	size_t i = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%lld B", bytes < 0 ? 0 : bytes);
		return;
	}
	v /= 1024;
	while (v >= 1023.5 && i + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		i++;
	}
	/* one decimal below 10, none above: "1.5 KiB", "20 MiB" */
	if (v < 9.95)
		snprintf(buf, len, "%.1f %s", v, units[i]);
	else
		snprintf(buf, len, "%.0f %s", v, units[i]);
}
