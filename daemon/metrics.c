#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum kind { COUNTER, GAUGE, HISTOGRAM };

enum family_id {
	F_JOBS,
	F_ROWS,
	F_BATCHES,
	F_BATCH_SECONDS,
	F_BATCH_SIZE,
	F_LAST_PROGRESS,
	F_THROTTLE_ACTIVE,
	F_THROTTLED_SECONDS,
	F_DB_STATE,
	F_CONTROL_CALLS,
	F_DROPPED,
	N_FAMILIES
};

struct family {
	const char *name;
	enum kind kind;
	const char *help;
};

/* In the order they are rendered. */
static const struct family families[N_FAMILIES] = {
        [F_JOBS] = {"migrated_jobs", GAUGE,
                    "Jobs in the queue by state (every daemon's)."},
        [F_ROWS] = {"migrated_rows_total", COUNTER,
                    "Rows walked by committed batches of this daemon, by "
                    "plan and step."},
        [F_BATCHES] = {"migrated_batches_total", COUNTER,
                       "Batches committed by this daemon, by plan and step."},
        [F_BATCH_SECONDS] = {"migrated_batch_duration_seconds", HISTOGRAM,
                             "Time from a batch's BEGIN to the end of its "
                             "COMMIT."},
        [F_BATCH_SIZE] = {"migrated_batch_size", GAUGE,
                          "Batch size in effect, in rows, by plan and step."},
        [F_LAST_PROGRESS] = {"migrated_last_progress_timestamp_seconds", GAUGE,
                             "Unix time of the last committed batch."},
        [F_THROTTLE_ACTIVE] = {"migrated_throttle_active", GAUGE,
                               "1 while the reason throttles jobs, else 0."},
        [F_THROTTLED_SECONDS] = {"migrated_throttled_seconds_total", COUNTER,
                                 "Seconds jobs waited, by throttle reason."},
        [F_DB_STATE] = {"migrated_database_state", GAUGE,
                        "1 for the state each database connection is in."},
        [F_CONTROL_CALLS] = {"migrated_control_calls_total", COUNTER,
                             "Varlink calls ended, by method and error "
                             "(empty: a good reply)."},
        [F_DROPPED] = {"migrated_metrics_dropped_total", COUNTER,
                       "Updates dropped because a family has too many "
                       "label sets."},
};

/* Upper bounds of the batch duration buckets, seconds (then +Inf). */
static const double bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                1,     2.5,  5,     10,   30,  60};
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

struct series {
	char *labels; /* rendered: name="value",... */
	double value; /* counter, gauge; histogram: the sum */
	unsigned long long count;
	unsigned long long buckets[NBOUNDS];
};

static struct {
	struct series *v[N_FAMILIES];
	size_t n[N_FAMILIES];
	size_t cap[N_FAMILIES];
} reg;

static const char *const db_states[] = {"connected", "connecting",
                                        "disconnected"};

/* Appends name="value" (escaped as the text format says) to buf. */
static int
add_label(char **buf, size_t *len, size_t *cap, const char *name,
          const char *value)
{
	size_t need = *len + strlen(name) + 2 * strlen(value) + 5;

	if (need > *cap) {
		char *p = realloc(*buf, need * 2);
		if (p == NULL)
			return -1;
		*buf = p;
		*cap = need * 2;
	}
	if (*len > 0)
		(*buf)[(*len)++] = ',';
	*len += (size_t)sprintf(*buf + *len, "%s=\"", name);
	for (const char *c = value; *c != '\0'; c++) {
		if (*c == '\\' || *c == '"') {
			(*buf)[(*len)++] = '\\';
			(*buf)[(*len)++] = *c;
		} else if (*c == '\n') {
			(*buf)[(*len)++] = '\\';
			(*buf)[(*len)++] = 'n';
		} else {
			(*buf)[(*len)++] = *c;
		}
	}
	(*buf)[(*len)++] = '"';
	(*buf)[*len] = '\0';
	return 0;
}

/* name1, value1, name2, value2, ... NULL, as one label text (malloc'd). */
static char *
labels_of(const char *const *pairs)
{
	char *buf = calloc(1, 1);
	size_t len = 0, cap = 1;

	for (size_t i = 0; buf != NULL && pairs[i] != NULL; i += 2)
		if (add_label(&buf, &len, &cap, pairs[i],
		              pairs[i + 1] != NULL ? pairs[i + 1] : "") < 0) {
			free(buf);
			buf = NULL;
		}
	return buf;
}

static void drop(void);

/* The series of family f with these labels, made when new; NULL when full. */
static struct series *
series_of(enum family_id f, const char *const *pairs)
{
	char *labels = labels_of(pairs);
	struct series *s;

	if (labels == NULL)
		return NULL;
	for (size_t i = 0; i < reg.n[f]; i++)
		if (strcmp(reg.v[f][i].labels, labels) == 0) {
			free(labels);
			return &reg.v[f][i];
		}
	if (reg.n[f] >= METRICS_MAX_SERIES) {
		free(labels);
		if (f != F_DROPPED)
			drop();
		return NULL;
	}
	if (reg.n[f] == reg.cap[f]) {
		size_t cap = reg.cap[f] > 0 ? reg.cap[f] * 2 : 8;
		struct series *v = realloc(reg.v[f], cap * sizeof(*v));
		if (v == NULL) {
			free(labels);
			return NULL;
		}
		reg.v[f] = v;
		reg.cap[f] = cap;
	}
	s = &reg.v[f][reg.n[f]++];
	memset(s, 0, sizeof(*s));
	s->labels = labels;
	return s;
}

static void
drop(void)
{
	static const char *const none[] = {NULL};
	struct series *s = series_of(F_DROPPED, none);

	if (s != NULL)
		s->value++;
}

static void
set(enum family_id f, const char *const *pairs, double value)
{
	struct series *s = series_of(f, pairs);

	if (s != NULL)
		s->value = value;
}

static void
add(enum family_id f, const char *const *pairs, double value)
{
	struct series *s = series_of(f, pairs);

	if (s != NULL)
		s->value += value;
}

void
metrics_jobs(const char *state, long long n)
{
	const char *const l[] = {"state", state, NULL};

	set(F_JOBS, l, (double)n);
}

void
metrics_batch(const char *plan, const char *step, long long rows,
              double seconds)
{
	const char *const l[] = {"plan", plan, "step", step, NULL};
	static const char *const none[] = {NULL};
	struct series *h;

	add(F_ROWS, l, (double)rows);
	add(F_BATCHES, l, 1);
	h = series_of(F_BATCH_SECONDS, l);
	if (h != NULL) {
		h->value += seconds;
		h->count++;
		for (size_t i = 0; i < NBOUNDS; i++)
			if (seconds <= bounds[i])
				h->buckets[i]++;
	}
	set(F_LAST_PROGRESS, none, (double)time(NULL));
}

void
metrics_batch_size(const char *plan, const char *step, long long size)
{
	const char *const l[] = {"plan", plan, "step", step, NULL};

	set(F_BATCH_SIZE, l, (double)size);
}

void
metrics_db_state(const char *database, const char *state)
{
	for (size_t i = 0; i < sizeof(db_states) / sizeof(db_states[0]); i++) {
		const char *const l[] = {"database", database, "state",
		                         db_states[i], NULL};
		set(F_DB_STATE, l, strcmp(state, db_states[i]) == 0 ? 1 : 0);
	}
}

void
metrics_control_call(const char *method, const char *error)
{
	const char *const l[] = {"method", method, "error",
	                         error != NULL ? error : "", NULL};

	add(F_CONTROL_CALLS, l, 1);
}

void
metrics_throttle_active(const char *reason, bool active)
{
	const char *const l[] = {"reason", reason, NULL};

	set(F_THROTTLE_ACTIVE, l, active ? 1 : 0);
}

void
metrics_throttled_add(const char *reason, double seconds)
{
	const char *const l[] = {"reason", reason, NULL};

	add(F_THROTTLED_SECONDS, l, seconds);
}

/* A sample line: name{labels[,extra]} value. */
static int
sample(struct evbuffer *out, const char *name, const char *suffix,
       const char *labels, const char *extra, double value)
{
	const char *sep = labels[0] != '\0' && extra[0] != '\0' ? "," : "";
	bool braces = labels[0] != '\0' || extra[0] != '\0';
	char num[64];

	if (value > -1e15 && value < 1e15 && value == (double)(long long)value)
		snprintf(num, sizeof(num), "%.0f", value);
	else
		snprintf(num, sizeof(num), "%.9g", value);
	return evbuffer_add_printf(out, "%s%s%s%s%s%s%s %s\n", name, suffix,
	                           braces ? "{" : "", labels, sep, extra,
	                           braces ? "}" : "", num) < 0
	               ? -1
	               : 0;
}

static int
render_histogram(struct evbuffer *out, const char *name, const struct series *s)
{
	char le[48];

	for (size_t i = 0; i < NBOUNDS; i++) {
		snprintf(le, sizeof(le), "le=\"%g\"", bounds[i]);
		if (sample(out, name, "_bucket", s->labels, le,
		           (double)s->buckets[i]) < 0)
			return -1;
	}
	if (sample(out, name, "_bucket", s->labels, "le=\"+Inf\"",
	           (double)s->count) < 0 ||
	    sample(out, name, "_sum", s->labels, "", s->value) < 0 ||
	    sample(out, name, "_count", s->labels, "", (double)s->count) < 0)
		return -1;
	return 0;
}

int
metrics_render(struct evbuffer *out)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};

	for (int f = 0; f < N_FAMILIES; f++) {
		const struct family *fam = &families[f];

		if (evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n",
		                        fam->name, fam->help, fam->name,
		                        types[fam->kind]) < 0)
			return -1;
		for (size_t i = 0; i < reg.n[f]; i++) {
			const struct series *s = &reg.v[f][i];
			int rc = fam->kind == HISTOGRAM
			                 ? render_histogram(out, fam->name, s)
			                 : sample(out, fam->name, "", s->labels,
			                          "", s->value);
			if (rc < 0)
				return -1;
		}
	}
	return 0;
}

void
metrics_reset(void)
{
	for (int f = 0; f < N_FAMILIES; f++) {
		for (size_t i = 0; i < reg.n[f]; i++)
			free(reg.v[f][i].labels);
		free(reg.v[f]);
		reg.v[f] = NULL;
		reg.n[f] = reg.cap[f] = 0;
	}
}
