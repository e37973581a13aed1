#include "rates.h"

#include <stdlib.h>
#include <string.h>

struct sample {
	double t;
	long long value;
};

struct counter {
	char *key;
	struct sample s[RATES_SAMPLES]; /* ring, oldest at first */
	int first, n;
};

struct rates {
	struct counter *v;
	size_t n, cap;
};

struct rates *
rates_new(void)
{
	return calloc(1, sizeof(struct rates));
}

void
rates_free(struct rates *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].key);
	free(r->v);
	free(r);
}

static struct counter *
find(const struct rates *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].key, key) == 0)
			return &r->v[i];
	return NULL;
}

static const struct sample *
at(const struct counter *c, int i)
{
	return &c->s[(c->first + i) % RATES_SAMPLES];
}

int
rates_add(struct rates *r, const char *key, double t, long long value)
{
	struct counter *c = find(r, key);

	if (c == NULL) {
		if (r->n == r->cap) {
			size_t cap = r->cap > 0 ? 2 * r->cap : 8;
			struct counter *v = realloc(r->v, cap * sizeof(*v));
			if (v == NULL)
				return -1;
			r->v = v;
			r->cap = cap;
		}
		c = &r->v[r->n];
		memset(c, 0, sizeof(*c));
		c->key = strdup(key);
		if (c->key == NULL)
			return -1;
		r->n++;
	}
	if (c->n > 0 && value < at(c, c->n - 1)->value)
		c->n = 0; /* reset */
	while (c->n > 0 && at(c, 0)->t < t - RATES_KEEP_SEC) {
		c->first = (c->first + 1) % RATES_SAMPLES;
		c->n--;
	}
	if (c->n == RATES_SAMPLES) {
		c->first = (c->first + 1) % RATES_SAMPLES;
		c->n--;
	}
	c->s[(c->first + c->n) % RATES_SAMPLES] = (struct sample){t, value};
	c->n++;
	return 0;
}

double
rates_get(const struct rates *r, const char *key, double now, double window)
{
	const struct counter *c = find(r, key);
	const struct sample *newest, *oldest = NULL;

	if (c == NULL || c->n < 2)
		return -1;
	newest = at(c, c->n - 1);
	if (newest->t < now - window)
		return -1;
	for (int i = 0; i < c->n - 1; i++)
		if (at(c, i)->t >= newest->t - window) {
			oldest = at(c, i);
			break;
		}
	if (oldest == NULL || newest->t - oldest->t < 1.0)
		return -1;
	return (double)(newest->value - oldest->value) /
	       (newest->t - oldest->t);
}
