#include "schema_sums.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *path; /* NULL: a free slot */
	size_t hash;
	off_t size;
	struct timespec mtime, ctime;
	ino_t ino;
	dev_t dev;
	struct schema_sum sum;
};

struct schema_sums {
	struct entry *slots;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

struct schema_sums *
schema_sums_new(void)
{
	return calloc(1, sizeof(struct schema_sums));
}

static void
clear(struct schema_sums *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i].path);
	free(s->slots);
	s->slots = NULL;
	s->cap = s->n = 0;
}

void
schema_sums_free(struct schema_sums *s)
{
	if (s == NULL)
		return;
	clear(s);
	free(s);
}

size_t
schema_sums_count(const struct schema_sums *s)
{
	return s->n;
}

/* FNV-1a */
static size_t
hash(const char *path)
{
	uint64_t h = 14695981039346656037ULL;

	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)h;
}

/* The slot of path, or the free slot where it would go; cap > 0. */
static struct entry *
slot(const struct schema_sums *s, const char *path, size_t h)
{
	size_t i = h & (s->cap - 1);

	while (s->slots[i].path != NULL &&
	       (s->slots[i].hash != h || strcmp(s->slots[i].path, path) != 0))
		i = (i + 1) & (s->cap - 1);
	return &s->slots[i];
}

static bool
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

const struct schema_sum *
schema_sums_find(const struct schema_sums *s, const char *path,
                 const struct stat *st)
{
	const struct entry *e;

	if (s->cap == 0)
		return NULL;
	e = slot(s, path, hash(path));
	if (e->path == NULL || e->size != st->st_size ||
	    !same_time(&e->mtime, &st->st_mtim) ||
	    !same_time(&e->ctime, &st->st_ctim) || e->ino != st->st_ino ||
	    e->dev != st->st_dev)
		return NULL;
	return &e->sum;
}

/* Doubles the table (or makes the first); -1 when out of memory. */
static int
grow(struct schema_sums *s)
{
	size_t cap = s->cap > 0 ? s->cap * 2 : 256;
	struct entry *old = s->slots, *slots = calloc(cap, sizeof(*slots));
	size_t oldcap = s->cap;

	if (slots == NULL)
		return -1;
	s->slots = slots;
	s->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].path != NULL)
			*slot(s, old[i].path, old[i].hash) = old[i];
	free(old);
	return 0;
}

/* A change at most a second before now may be followed by another one
 * that leaves the same timestamps. */
static bool
recent(const struct timespec *t, const struct timespec *now)
{
	return t->tv_sec >= now->tv_sec - 1;
}

void
schema_sums_put(struct schema_sums *s, const char *path, const struct stat *st,
                const struct schema_sum *sum, const struct timespec *now)
{
	struct entry *e;
	size_t h;

	if (recent(&st->st_mtim, now) || recent(&st->st_ctim, now))
		return;
	if (s->n >= SCHEMA_SUMS_MAX)
		clear(s); /* files renamed or removed over a long life */
	if ((s->n + 1) * 2 > s->cap && grow(s) < 0)
		return;
	h = hash(path);
	e = slot(s, path, h);
	if (e->path == NULL) {
		e->path = strdup(path);
		if (e->path == NULL)
			return;
		e->hash = h;
		s->n++;
	}
	e->size = st->st_size;
	e->mtime = st->st_mtim;
	e->ctime = st->st_ctim;
	e->ino = st->st_ino;
	e->dev = st->st_dev;
	e->sum = *sum;
}
