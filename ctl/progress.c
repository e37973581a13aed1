#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "table.h"
#include "value.h"

#define BAR_WIDTH PROGRESS_BAR_WIDTH
#define BAR_MIN_WIDTH 8
#define RATE_TAU_SEC 10.0 /* smoothing of the progress rate */
#define REDRAW_SEC 0.1

/* ---- rows and percentages ---------------------------------------------- */

char *
progress_rows_text(const json_t *obj)
{
	long long done = value_int(obj, "rows_done", 0);
	long long est = value_int(obj, "rows_estimated", 0);
	char *text;
	int rc;

	if (est > 0)
		rc = asprintf(&text, "%lld/%lld", done, est);
	else
		rc = asprintf(&text, "%lld/?", done);
	return rc < 0 ? NULL : text;
}

char *
progress_tenant_text(const json_t *job)
{
	char *tenant, *pair, *text = NULL;

	if (value_get(job, "pair") == NULL)
		return value_field(job, "tenant");
	tenant = value_field(job, "tenant");
	pair = value_field(job, "pair");
	if (tenant == NULL || pair == NULL ||
	    asprintf(&text, "%s (from %s)", pair, tenant) < 0)
		text = NULL;
	free(tenant);
	free(pair);
	return text;
}

/* Percent done, or -1 when nothing is estimated. */
static int
percent(const json_t *job)
{
	long long done = value_int(job, "rows_done", 0);
	long long est = value_int(job, "rows_estimated", 0);

	if (est <= 0)
		return -1;
	if (done >= est)
		return 100;
	return (int)(done * 100 / est);
}

char *
progress_percent_text(const json_t *job)
{
	int pct = percent(job);
	char *text;

	if (pct < 0)
		return strdup("-");
	if (asprintf(&text, "%d%%", pct) < 0)
		return NULL;
	return text;
}

/* ---- live lines -------------------------------------------------------- */

struct progress_job {
	long long id;
	json_t *job;      /* latest state */
	double sample_at; /* when rows_done was last sampled */
	long long sample_rows;
	double rate; /* rows per second, smoothed; < 0 unknown */
};

struct progress {
	FILE *f;
	struct progress_job *jobs;
	size_t njobs;
	size_t cap;
	int lines; /* lines drawn last time */
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

struct progress *
progress_new(FILE *f)
{
	struct progress *p = calloc(1, sizeof(*p));

	if (p != NULL)
		p->f = f;
	return p;
}

void
progress_free(struct progress *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->njobs; i++)
		json_decref(p->jobs[i].job);
	free(p->jobs);
	free(p);
}

static struct progress_job *
progress_find(struct progress *p, long long id)
{
	for (size_t i = 0; i < p->njobs; i++)
		if (p->jobs[i].id == id)
			return &p->jobs[i];
	if (p->njobs == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 8;
		struct progress_job *jobs =
		        realloc(p->jobs, cap * sizeof(*jobs));

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
	const char *was = value_str(pj->job, "state");
	long long rows = value_int(job, "rows_done", 0);
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
progress_update(struct progress *p, const json_t *job)
{
	struct progress_job *pj = progress_find(p, value_int(job, "id", 0));
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

char *
progress_bar_text(const json_t *job, int width)
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
	const char *state = value_str(job, "state");
	bool running = state != NULL && strcmp(state, "running") == 0;
	long long left = value_int(job, "rows_estimated", 0) -
	                 value_int(job, "rows_done", 0);
	char eta[64] = "-";

	table_cell(t, "%lld", pj->id);
	table_put(t, progress_tenant_text(job));
	table_field(t, job, "state");
	table_put(t, progress_bar_text(job, bar_width));
	table_put(t, progress_rows_text(job));
	if (running && pj->rate >= 0)
		table_cell(t, "%.0f/s", pj->rate);
	else
		table_cell(t, "-");
	if (value_str(job, "error") != NULL) {
		table_field(t, job, "error");
		return;
	}
	if (running && value_str(job, "waiting") != NULL) {
		/* throttled: why, and since when, in place of the ETA */
		table_cell(t, "waiting since %s: %s",
		           value_str(job, "waiting_since") != NULL
		                   ? value_str(job, "waiting_since")
		                   : "?",
		           value_str(job, "waiting"));
		return;
	}
	if (running && pj->rate > 0 && left > 0)
		table_duration(eta, sizeof(eta),
		               (double)left / pj->rate < 1
		                       ? 1
		                       : (double)left / pj->rate);
	table_cell(t, "%s", eta);
}

static bool
shown_in_summary(const struct progress_job *pj)
{
	const char *state = value_str(pj->job, "state");

	return state != NULL &&
	       (strcmp(state, "running") == 0 || strcmp(state, "failed") == 0);
}

/*
 * "2000 jobs: 1500 succeeded, 3 running, 497 queued; rows 1500/2000;
 * 2 running or failed not shown" for a watch with more jobs than lines.
 */
static void
summary_line(FILE *mem, const struct progress *p, size_t hidden)
{
	static const char *const states[] = {
	        "queued", "running",   "paused",     "succeeded",
	        "failed", "cancelled", "rolled_back"};
	size_t n[sizeof(states) / sizeof(states[0])] = {0};
	long long done = 0, est = 0;
	bool first = true;

	for (size_t i = 0; i < p->njobs; i++) {
		const char *state = value_str(p->jobs[i].job, "state");
		for (size_t k = 0;
		     state != NULL && k < sizeof(n) / sizeof(n[0]); k++)
			n[k] += strcmp(state, states[k]) == 0;
		done += value_int(p->jobs[i].job, "rows_done", 0);
		est += value_int(p->jobs[i].job, "rows_estimated", 0);
	}
	fprintf(mem, "%zu jobs:", p->njobs);
	for (size_t k = 0; k < sizeof(n) / sizeof(n[0]); k++) {
		if (n[k] == 0)
			continue;
		fprintf(mem, "%s %zu %s", first ? "" : ",", n[k], states[k]);
		first = false;
	}
	fprintf(mem, "; rows %lld/%lld", done, est);
	if (hidden > 0)
		fprintf(mem, "; %zu more running or failed", hidden);
	fputc('\n', mem);
}

/*
 * The lines for every job with bars of bar_width, as one malloc'd text;
 * with more jobs than fit in max_lines, a summary line, then the running
 * and failed jobs only, as many as fit.
 */
static char *
progress_render(const struct progress *p, int bar_width, size_t max_lines)
{
	static const struct table_column cols[] = {
	        {"JOB", true},       {"TENANT", false}, {"STATE", false},
	        {"PROGRESS", false}, {"ROWS", true},    {"RATE", true},
	        {"ETA", false}};
	struct table t;
	char *text = NULL;
	size_t len = 0, hidden = 0, rows = 0;
	bool summary = p->njobs + 1 > max_lines; /* the header, the jobs */
	FILE *mem;

	table_init(&t, cols, 7);
	for (size_t i = 0; i < p->njobs; i++) {
		if (summary && !shown_in_summary(&p->jobs[i]))
			continue;
		/* the summary line and the header take two */
		if (summary && rows + 2 >= max_lines) {
			hidden++;
			continue;
		}
		progress_row(&t, &p->jobs[i], bar_width);
		rows++;
	}
	mem = open_memstream(&text, &len);
	if (mem == NULL) {
		table_clear(&t);
		return NULL;
	}
	if (summary)
		summary_line(mem, p, hidden);
	int rc = rows > 0 || !summary ? table_done(&t, mem) : 0;
	if (rows == 0 && summary)
		table_clear(&t);
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
		size_t w = line != NULL ? table_width(line) : len;

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

/* Lines the drawing may take: the terminal's less one for the prompt. */
static size_t
terminal_lines(FILE *f)
{
	struct winsize ws;

	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 3)
		return (size_t)ws.ws_row - 1;
	return 23;
}

/* Writes text's lines over the previous ones, each cut to cols. */
static void
progress_paint(struct progress *p, char *text, size_t cols)
{
	int lines = 0;

	if (p->lines > 0)
		fprintf(p->f, "\033[%dA", p->lines);
	for (char *line = strtok(text, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		size_t width;
		size_t bytes = table_fit(line, cols, &width);

		fprintf(p->f, "\r%.*s\033[K\n", (int)bytes, line);
		lines++;
	}
	fflush(p->f);
	p->lines = lines;
}

int
progress_draw(struct progress *p, bool force)
{
	double now = now_sec();
	/* the last column stays free: writing there may wrap the line */
	size_t cols = (size_t)terminal_columns(p->f) - 1;
	size_t lines = terminal_lines(p->f);
	char *text;
	size_t wide;

	if (!p->dirty || (!force && now - p->drawn_at < REDRAW_SEC))
		return 0;
	text = progress_render(p, BAR_WIDTH, lines);
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
		text = progress_render(p, bar, lines);
		if (text == NULL)
			return -1;
	}
	progress_paint(p, text, cols);
	free(text);
	p->drawn_at = now;
	p->dirty = false;
	return 0;
}
