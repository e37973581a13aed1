#include "output.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "vl_message.h"

#define BAR_WIDTH 20
#define BAR_MIN_WIDTH 8
#define RATE_TAU_SEC 10.0      /* smoothing of the progress rate */
#define REDRAW_SEC 0.1
#define TABLE_MAX_COLS 16

/* ---- JSON values as text ---------------------------------------------- */

static const json_t *
get(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

static const char *
get_str(const json_t *obj, const char *key)
{
	return json_string_value(get(obj, key));
}

/* An integer field, or def when it is missing or not an integer. */
static long long
get_int(const json_t *obj, const char *key, long long def)
{
	const json_t *v = get(obj, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

static char *value_text(const json_t *v);

/* "a, b, c"; "-" for an empty array. */
static char *
list_text(const json_t *array)
{
	char *joined = strdup(json_array_size(array) == 0 ? "-" : "");
	size_t i;
	const json_t *item;

	json_array_foreach(array, i, item) {
		char *part = value_text(item);
		char *next = NULL;

		if (joined == NULL || part == NULL ||
		    asprintf(&next, "%s%s%s", joined, i > 0 ? ", " : "", part) < 0)
			next = NULL;
		free(part);
		free(joined);
		joined = next;
	}
	return joined;
}

/* Renders a value for people; NULL only when out of memory. */
static char *
value_text(const json_t *v)
{
	char *text = NULL;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_INTEGER:
		if (asprintf(&text, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0)
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

static char *
field_text(const json_t *obj, const char *key)
{
	const json_t *v = get(obj, key);

	return v == NULL ? strdup("-") : value_text(v);
}

/* ---- display width ---------------------------------------------------- */

/*
 * Bytes of s that fit in max columns, and in *width the columns they take.
 * Invalid UTF-8 counts one column a byte.
 */
static size_t
fit_prefix(const char *s, size_t max, size_t *width)
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

static size_t
text_width(const char *s)
{
	size_t width;

	(void)fit_prefix(s, SIZE_MAX, &width);
	return width;
}

/*
 * Control characters from the daemon must not reach the terminal; line
 * breaks and tabs become blanks so that a cell stays on its line.
 */
static void
sanitize(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n' || *s == '\t')
			*s = ' ';
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	}
}

/* ---- tables ----------------------------------------------------------- */

struct column {
	const char *header;    /* NULL: the table has no header line */
	bool right;            /* right-aligned (numbers) */
};

/* Cells fill rows left to right; a failed allocation sticks in failed. */
struct table {
	const struct column *cols;
	size_t ncols;
	char **cells;
	size_t ncells;
	size_t cap;
	bool failed;
};

static void
table_init(struct table *t, const struct column *cols, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->ncols = ncols;
}

static void
table_clear(struct table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* Appends text (taken over; NULL means allocation failed) as a cell. */
static void
table_put(struct table *t, char *text)
{
	if (text == NULL || t->failed) {
		t->failed = true;
		free(text);
		return;
	}
	if (t->ncells == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;
		char **cells = realloc(t->cells, cap * sizeof(*cells));

		if (cells == NULL) {
			t->failed = true;
			free(text);
			return;
		}
		t->cells = cells;
		t->cap = cap;
	}
	sanitize(text);
	t->cells[t->ncells++] = text;
}

__attribute__((format(printf, 2, 3))) static void
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

static void
table_field(struct table *t, const json_t *obj, const char *key)
{
	table_put(t, field_text(obj, key));
}

static void
print_cell(FILE *f, const char *text, size_t width, bool right, bool last)
{
	size_t pad = width - text_width(text);

	if (right)
		fprintf(f, "%*s", (int)pad, "");
	fputs(text, f);
	if (!right && !last)
		fprintf(f, "%*s", (int)pad, "");
	fputs(last ? "\n" : "  ", f);
}

static int
table_print(struct table *t, FILE *f)
{
	size_t width[TABLE_MAX_COLS] = {0};
	bool header = t->cols[0].header != NULL;

	if (t->failed || t->ncols > TABLE_MAX_COLS)
		return -1;
	for (size_t c = 0; c < t->ncols && header; c++)
		width[c] = text_width(t->cols[c].header);
	for (size_t i = 0; i < t->ncells; i++) {
		size_t w = text_width(t->cells[i]);
		if (w > width[i % t->ncols])
			width[i % t->ncols] = w;
	}
	for (size_t c = 0; c < t->ncols && header; c++)
		print_cell(f, t->cols[c].header, width[c], t->cols[c].right,
		           c + 1 == t->ncols);
	for (size_t i = 0; i < t->ncells; i++) {
		size_t c = i % t->ncols;
		print_cell(f, t->cells[i], width[c], t->cols[c].right,
		           c + 1 == t->ncols);
	}
	return 0;
}

/* Prints and frees t. */
static int
table_done(struct table *t, FILE *f)
{
	int rc = table_print(t, f);

	table_clear(t);
	return rc;
}

/* Key: value summaries are tables of two columns without a header. */
static const struct column summary_cols[] = {{NULL, false}, {NULL, false}};

static void
summary_field(struct table *t, const char *label, const json_t *obj,
              const char *key)
{
	table_cell(t, "%s:", label);
	table_field(t, obj, key);
}

/* ---- human formats ---------------------------------------------------- */

/* "3d 4h", "4h 12m", "12m 5s", "5s": the largest unit and the next. */
static void
human_duration(char *buf, size_t len, double sec)
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

/* "45000/100000" (or "45000/?" when nothing is estimated). */
static char *
rows_text(const json_t *obj)
{
	long long done = get_int(obj, "rows_done", 0);
	long long est = get_int(obj, "rows_estimated", 0);
	char *text;
	int rc;

	if (est > 0)
		rc = asprintf(&text, "%lld/%lld", done, est);
	else
		rc = asprintf(&text, "%lld/?", done);
	return rc < 0 ? NULL : text;
}

/* Percent done, or -1 when nothing is estimated. */
static int
percent(const json_t *job)
{
	long long done = get_int(job, "rows_done", 0);
	long long est = get_int(job, "rows_estimated", 0);

	if (est <= 0)
		return -1;
	if (done >= est)
		return 100;
	return (int)(done * 100 / est);
}

static char *
percent_text(const json_t *job)
{
	int pct = percent(job);
	char *text;

	if (pct < 0)
		return strdup("-");
	if (asprintf(&text, "%d%%", pct) < 0)
		return NULL;
	return text;
}

/* The job states of io.migrated.varlink, in their natural order. */
static const char *const job_states[] = {"queued",    "running", "paused",
                                         "succeeded", "failed",  "cancelled"};
#define NJOB_STATES (sizeof(job_states) / sizeof(job_states[0]))

const char *
out_job_state(size_t i)
{
	return i < NJOB_STATES ? job_states[i] : NULL;
}

bool
out_state_ended(const char *state)
{
	static const char *const ended[] = {"succeeded", "failed", "cancelled"};

	for (size_t i = 0; state != NULL && i < 3; i++)
		if (strcmp(state, ended[i]) == 0)
			return true;
	return false;
}

/* ---- JSON ------------------------------------------------------------- */

static int
dump(FILE *f, const json_t *v, size_t flags)
{
	if (json_dumpf(v, f, flags | JSON_SORT_KEYS) < 0 || fputc('\n', f) == EOF)
		return -1;
	return fflush(f) == EOF ? -1 : 0;
}

int
out_json(FILE *f, const json_t *v)
{
	return dump(f, v, JSON_INDENT(2));
}

int
out_json_line(FILE *f, const json_t *v)
{
	return dump(f, v, JSON_COMPACT);
}

/* ---- errors ----------------------------------------------------------- */

static const struct {
	const char *error;
	const char *text;      /* {name} stands for a parameter */
} error_texts[] = {
	{"io.migrated.NoSuchJob", "no job {id}"},
	{"io.migrated.NoSuchPlan", "no plan '{name}'"},
	{"io.migrated.InvalidPlan", "{file}:{line}: {message}"},
	{"io.migrated.NoSuchStep", "plan '{plan}' has no step '{step}'"},
	{"io.migrated.InvalidJobState",
	 "job {id} is {state}, which does not allow this"},
	{"io.migrated.DatabaseUnavailable",
	 "the database cannot be reached now, try again later: {message}"},
	{"io.migrated.DatabaseError",
	 "the database refused the request: {message} (SQLSTATE {sqlstate})"},
	{"io.migrated.ReloadFailed",
	 "reload failed, the previous configuration stays: {message}"},
	{VL_ERR_INVALID_PARAMETER, "invalid parameter '{parameter}'"},
	{VL_ERR_PERMISSION_DENIED,
	 "permission denied: this needs root or membership in the daemon's "
	 "admin_group"},
	{VL_ERR_METHOD_NOT_FOUND,
	 "migrated does not know the method '{method}' (is it older than "
	 "migratectl?)"},
	{VL_ERR_INTERFACE_NOT_FOUND,
	 "migrated does not offer the interface '{interface}'"},
	{VL_ERR_EXPECTED_MORE, "migrated expected a call with \"more\""},
};

/* Expands {name} in text from parameters into buf. */
static void
expand(const char *text, const json_t *parameters, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	while (*text != '\0' && used + 1 < len) {
		const char *close = *text == '{' ? strchr(text, '}') : NULL;

		if (close == NULL) {
			buf[used++] = *text++;
			buf[used] = '\0';
			continue;
		}
		char key[64];
		snprintf(key, sizeof(key), "%.*s", (int)(close - text - 1), text + 1);
		const json_t *v = get(parameters, key);
		char *value = v != NULL ? value_text(v) : NULL;
		used += (size_t)snprintf(buf + used, len - used, "%s",
		                         value != NULL ? value : "?");
		free(value);
		text = close + 1;
	}
	if (used >= len)
		buf[len - 1] = '\0';
}

void
out_error_text(const char *error, const json_t *parameters, char *buf,
               size_t len)
{
	for (size_t i = 0; i < sizeof(error_texts) / sizeof(error_texts[0]); i++) {
		if (strcmp(error, error_texts[i].error) == 0) {
			expand(error_texts[i].text, parameters, buf, len);
			sanitize(buf);
			return;
		}
	}
	char *params = NULL;
	if (json_object_size(parameters) > 0)
		params = json_dumps(parameters, JSON_COMPACT | JSON_SORT_KEYS);
	snprintf(buf, len, "%s", params != NULL ? params : "no details given");
	free(params);
	sanitize(buf);
}

/* ---- status ----------------------------------------------------------- */

static char *
counts_text(const json_t *counts)
{
	char text[512];
	size_t used = 0;
	const char *key;
	json_t *v;

	text[0] = '\0';
	for (size_t i = 0; i < NJOB_STATES; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
		                         "%s%lld %s", i ? ", " : "",
		                         get_int(counts, job_states[i], 0),
		                         job_states[i]);
	/* states added after this client was built */
	json_object_foreach((json_t *)counts, key, v) {
		bool known = false;
		for (size_t i = 0; i < NJOB_STATES; i++)
			known = known || strcmp(key, job_states[i]) == 0;
		if (!known && json_is_integer(v) && used < sizeof(text))
			used += (size_t)snprintf(text + used, sizeof(text) - used,
			                         ", %lld %s", json_integer_value(v), key);
	}
	return strdup(text);
}

int
out_status(FILE *f, const json_t *status)
{
	struct table t;
	char uptime[64];
	const char *db = get_str(status, "database");
	const char *db_error = get_str(status, "database_error");
	const json_t *rate = get(status, "rows_per_sec");

	human_duration(uptime, sizeof(uptime),
	               (double)get_int(status, "uptime_sec", 0));
	table_init(&t, summary_cols, 2);
	summary_field(&t, "Version", status, "version");
	summary_field(&t, "PID", status, "pid");
	table_cell(&t, "Uptime:");
	table_cell(&t, "%s", uptime);
	table_cell(&t, "Database:");
	table_cell(&t, "%s%s%s", db != NULL ? db : "-",
	           db_error != NULL ? ": " : "", db_error != NULL ? db_error : "");
	table_cell(&t, "Workers:");
	table_cell(&t, "%lld of %lld busy", get_int(status, "workers_busy", 0),
	           get_int(status, "workers", 0));
	summary_field(&t, "Plans", status, "plans");
	table_cell(&t, "Jobs:");
	table_put(&t, counts_text(get(status, "jobs")));
	summary_field(&t, "Rows done", status, "rows_done");
	table_cell(&t, "Rate:");
	table_cell(&t, "%.1f rows/s",
	           json_is_number(rate) ? json_number_value(rate) : 0.0);
	return table_done(&t, f);
}

/* ---- plans ------------------------------------------------------------ */

int
out_plans(FILE *f, const json_t *plans)
{
	static const struct column cols[] = {
	    {"NAME", false}, {"STEPS", true}, {"DESCRIPTION", false}};
	struct table t;
	size_t i;
	const json_t *plan;

	if (json_array_size(plans) == 0) {
		fputs("No plans loaded.\n", f);
		return 0;
	}
	table_init(&t, cols, 3);
	json_array_foreach((json_t *)plans, i, plan) {
		const char *desc = get_str(plan, "description");
		size_t line = desc != NULL ? strcspn(desc, "\n") : 0;

		table_field(&t, plan, "name");
		table_cell(&t, "%zu", json_array_size(get(plan, "steps")));
		table_cell(&t, "%.*s", (int)line, desc != NULL ? desc : "");
	}
	return table_done(&t, f);
}

int
out_plan(FILE *f, const json_t *plan)
{
	static const struct column cols[] = {
	    {"STEP", false}, {"TABLE", false}, {"KEY", false},
	    {"BATCH", true}, {"AFTER", false}};
	static const char *const keys[] = {"name", "table", "key", "batch",
	                                   "after"};
	struct table t;
	size_t i;
	const json_t *step;

	table_init(&t, summary_cols, 2);
	summary_field(&t, "Plan", plan, "name");
	summary_field(&t, "Description", plan, "description");
	summary_field(&t, "File", plan, "file");
	summary_field(&t, "Parameters", plan, "params");
	summary_field(&t, "Checks", plan, "checks");
	summary_field(&t, "Verifies", plan, "verifies");
	if (table_done(&t, f) < 0)
		return -1;
	if (json_array_size(get(plan, "steps")) == 0)
		return 0;
	fputc('\n', f);
	table_init(&t, cols, 5);
	json_array_foreach(get(plan, "steps"), i, step)
		for (size_t k = 0; k < 5; k++)
			table_field(&t, step, keys[k]);
	return table_done(&t, f);
}

/* ---- jobs ------------------------------------------------------------- */

int
out_jobs(FILE *f, const json_t *jobs)
{
	static const struct column cols[] = {
	    {"ID", true},       {"PLAN", false},    {"TENANT", false},
	    {"STATE", false},   {"PRIORITY", true}, {"ROWS", true},
	    {"DONE", true},     {"CREATED", false}};
	struct table t;
	size_t i;
	const json_t *job;

	if (json_array_size(jobs) == 0) {
		fputs("No jobs.\n", f);
		return 0;
	}
	table_init(&t, cols, 8);
	json_array_foreach((json_t *)jobs, i, job) {
		table_field(&t, job, "id");
		table_field(&t, job, "plan");
		table_field(&t, job, "tenant");
		table_field(&t, job, "state");
		table_field(&t, job, "priority");
		table_put(&t, rows_text(job));
		table_put(&t, percent_text(job));
		table_field(&t, job, "created");
	}
	return table_done(&t, f);
}

int
out_job(FILE *f, const json_t *job)
{
	static const struct column cols[] = {
	    {"STEP", false}, {"STATE", false},   {"ROWS", true},
	    {"ESTIMATED", true}, {"BATCHES", true}, {"CHECKPOINT", false}};
	static const char *const keys[] = {"name",           "state",
	                                   "rows_done",      "rows_estimated",
	                                   "batches",        "checkpoint"};
	struct table t;
	char *pct = percent_text(job);
	size_t i;
	const json_t *step;

	table_init(&t, summary_cols, 2);
	summary_field(&t, "Job", job, "id");
	summary_field(&t, "Plan", job, "plan");
	summary_field(&t, "Tenant", job, "tenant");
	summary_field(&t, "State", job, "state");
	if (get(job, "error") != NULL)
		summary_field(&t, "Error", job, "error");
	summary_field(&t, "Priority", job, "priority");
	summary_field(&t, "Batch size", job, "batch_size");
	table_cell(&t, "Rows:");
	table_put(&t, rows_text(job));
	table_cell(&t, "Done:");
	table_put(&t, pct);
	summary_field(&t, "Created", job, "created");
	summary_field(&t, "Started", job, "started");
	summary_field(&t, "Finished", job, "finished");
	if (table_done(&t, f) < 0)
		return -1;
	if (json_array_size(get(job, "steps")) == 0)
		return 0;
	fputc('\n', f);
	table_init(&t, cols, 6);
	json_array_foreach(get(job, "steps"), i, step)
		for (size_t k = 0; k < 6; k++)
			table_field(&t, step, keys[k]);
	return table_done(&t, f);
}

void
out_job_ids(FILE *f, const char *verb, const json_t *ids)
{
	size_t n = json_array_size(ids);
	size_t i;
	const json_t *id;

	if (n == 0) {
		fprintf(f, "No job %s.\n", verb);
		return;
	}
	fprintf(f, "%c%s %zu job%s: ", toupper((unsigned char)verb[0]), verb + 1,
	        n, n == 1 ? "" : "s");
	json_array_foreach((json_t *)ids, i, id)
		fprintf(f, "%s%" JSON_INTEGER_FORMAT, i ? ", " : "",
		        json_integer_value(id));
	fputs(".\n", f);
}

/* ---- progress --------------------------------------------------------- */

struct progress_job {
	long long id;
	json_t *job;           /* latest state */
	double sample_at;      /* when rows_done was last sampled */
	long long sample_rows;
	double rate;           /* rows per second, smoothed; < 0 unknown */
};

struct out_progress {
	FILE *f;
	struct progress_job *jobs;
	size_t njobs;
	size_t cap;
	int lines;             /* lines drawn last time */
	double drawn_at;
	bool dirty;
};

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct out_progress *
out_progress_new(FILE *f)
{
	struct out_progress *p = calloc(1, sizeof(*p));

	if (p != NULL)
		p->f = f;
	return p;
}

void
out_progress_free(struct out_progress *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->njobs; i++)
		json_decref(p->jobs[i].job);
	free(p->jobs);
	free(p);
}

static struct progress_job *
progress_find(struct out_progress *p, long long id)
{
	for (size_t i = 0; i < p->njobs; i++)
		if (p->jobs[i].id == id)
			return &p->jobs[i];
	if (p->njobs == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 8;
		struct progress_job *jobs = realloc(p->jobs, cap * sizeof(*jobs));

		if (jobs == NULL)
			return NULL;
		p->jobs = jobs;
		p->cap = cap;
	}
	struct progress_job *pj = &p->jobs[p->njobs++];
	memset(pj, 0, sizeof(*pj));
	pj->id = id;
	pj->rate = -1;
	return pj;
}

/* Smooths the rows/s rate; it restarts whenever the job (re)starts running. */
static void
progress_sample(struct progress_job *pj, const json_t *job, double now)
{
	const char *was = get_str(pj->job, "state");
	long long rows = get_int(job, "rows_done", 0);
	double dt = now - pj->sample_at;

	if (pj->job == NULL || was == NULL || strcmp(was, "running") != 0 ||
	    rows < pj->sample_rows) {
		pj->rate = -1;
		pj->sample_at = now;
		pj->sample_rows = rows;
		return;
	}
	if (dt < 0.001)
		return;
	double inst = (double)(rows - pj->sample_rows) / dt;
	if (pj->rate < 0)
		pj->rate = inst;
	else
		pj->rate += dt / (dt + RATE_TAU_SEC) * (inst - pj->rate);
	pj->sample_at = now;
	pj->sample_rows = rows;
}

int
out_progress_update(struct out_progress *p, const json_t *job)
{
	struct progress_job *pj = progress_find(p, get_int(job, "id", 0));
	json_t *copy = json_deep_copy(job);

	if (pj == NULL || copy == NULL) {
		json_decref(copy);
		return -1;
	}
	progress_sample(pj, job, now_sec());
	json_decref(pj->job);
	pj->job = copy;
	p->dirty = true;
	return 0;
}

/* "[#####---------------]  25%" with a bar of width columns. */
static char *
bar_text(const json_t *job, int width)
{
	int pct = percent(job);
	char bar[BAR_WIDTH + 1];
	char *text;

	memset(bar, pct < 0 ? '?' : '-', (size_t)width);
	if (pct > 0)
		memset(bar, '#', (size_t)(pct * width / 100));
	bar[width] = '\0';
	if (pct < 0 ? asprintf(&text, "[%s]    -", bar) < 0
	            : asprintf(&text, "[%s] %3d%%", bar, pct) < 0)
		return NULL;
	return text;
}

static void
progress_row(struct table *t, const struct progress_job *pj, int bar_width)
{
	const json_t *job = pj->job;
	const char *state = get_str(job, "state");
	bool running = state != NULL && strcmp(state, "running") == 0;
	long long left = get_int(job, "rows_estimated", 0) -
	                 get_int(job, "rows_done", 0);
	char eta[64] = "-";

	table_cell(t, "%lld", pj->id);
	table_field(t, job, "tenant");
	table_field(t, job, "state");
	table_put(t, bar_text(job, bar_width));
	table_put(t, rows_text(job));
	if (running && pj->rate >= 0)
		table_cell(t, "%.0f/s", pj->rate);
	else
		table_cell(t, "-");
	if (get_str(job, "error") != NULL) {
		table_field(t, job, "error");
		return;
	}
	if (running && pj->rate > 0 && left > 0)
		human_duration(eta, sizeof(eta),
		               (double)left / pj->rate < 1 ? 1
		                                          : (double)left / pj->rate);
	table_cell(t, "%s", eta);
}

/* The lines for every job with bars of bar_width, as one malloc'd text. */
static char *
progress_render(const struct out_progress *p, int bar_width)
{
	static const struct column cols[] = {
	    {"JOB", true},       {"TENANT", false}, {"STATE", false},
	    {"PROGRESS", false}, {"ROWS", true},    {"RATE", true},
	    {"ETA", false}};
	struct table t;
	char *text = NULL;
	size_t len = 0;
	FILE *mem;

	table_init(&t, cols, 7);
	for (size_t i = 0; i < p->njobs; i++)
		progress_row(&t, &p->jobs[i], bar_width);
	mem = open_memstream(&text, &len);
	if (mem == NULL) {
		table_clear(&t);
		return NULL;
	}
	int rc = table_done(&t, mem);
	if (fclose(mem) != 0 || rc < 0) {
		free(text);
		return NULL;
	}
	return text;
}

static size_t
widest_line(const char *text)
{
	size_t widest = 0;

	while (*text != '\0') {
		size_t len = strcspn(text, "\n");
		char *line = strndup(text, len);
		size_t w = line != NULL ? text_width(line) : len;

		free(line);
		if (w > widest)
			widest = w;
		text += len + (text[len] == '\n');
	}
	return widest;
}

static int
terminal_columns(FILE *f)
{
	struct winsize ws;

	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		return ws.ws_col;
	return 80;
}

/* Writes text's lines over the previous ones, each cut to cols. */
static void
progress_paint(struct out_progress *p, char *text, size_t cols)
{
	int lines = 0;

	if (p->lines > 0)
		fprintf(p->f, "\033[%dA", p->lines);
	for (char *line = strtok(text, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		size_t width;
		size_t bytes = fit_prefix(line, cols, &width);

		fprintf(p->f, "\r%.*s\033[K\n", (int)bytes, line);
		lines++;
	}
	fflush(p->f);
	p->lines = lines;
}

int
out_progress_draw(struct out_progress *p, bool force)
{
	double now = now_sec();
	/* the last column stays free: writing there may wrap the line */
	size_t cols = (size_t)terminal_columns(p->f) - 1;
	char *text;
	size_t wide;

	if (!p->dirty || (!force && now - p->drawn_at < REDRAW_SEC))
		return 0;
	text = progress_render(p, BAR_WIDTH);
	if (text == NULL)
		return -1;
	/* Narrow the bars before anything has to be cut off. */
	wide = widest_line(text);
	if (wide > cols) {
		size_t excess = wide - cols;
		int bar = excess >= BAR_WIDTH - BAR_MIN_WIDTH
		              ? BAR_MIN_WIDTH
		              : BAR_WIDTH - (int)excess;

		free(text);
		text = progress_render(p, bar);
		if (text == NULL)
			return -1;
	}
	progress_paint(p, text, cols);
	free(text);
	p->drawn_at = now;
	p->dirty = false;
	return 0;
}
