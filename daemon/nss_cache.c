#include "nss_cache.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"

/* Past this many users the least recently fetched one is forgotten. */
#define MAX_ENTRIES 4096

struct entry {
	struct entry *next;
	struct nss_user user; /* user.uid always set; the rest once known */
	bool known;           /* a lookup has answered */
	bool asked;           /* a lookup is queued or running */
	time_t fetched;       /* CLOCK_MONOTONIC seconds */
};

struct waiter {
	struct waiter *next;
	uid_t uid;
	nss_cache_cb cb;
	void *arg;
};

/* One lookup on the worker: the uid asked, the answer once it ran. */
struct lookup {
	uid_t uid;
	struct nss_user *u;
};

static struct {
	struct worker *worker;
	struct event *deliver;
	struct entry *entries;
	int nentries;
	struct waiter *waiters;
} nc;

static time_t
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void
user_clear(struct nss_user *u)
{
	free(u->name);
	free(u->groups);
	u->name = NULL;
	u->groups = NULL;
	u->ngroups = 0;
	u->found = false;
}

/* getgrouplist with a buffer that grows until every group fits. */
static int
all_groups(const char *name, gid_t gid, gid_t **out)
{
	int n = 64;
	gid_t *groups = NULL;

	for (int tries = 0; tries < 16; tries++) {
		int want = n;
		gid_t *bigger = realloc(groups, (size_t)want * sizeof(*groups));

		if (bigger == NULL)
			break;
		groups = bigger;
		if (getgrouplist(name, gid, groups, &n) >= 0) {
			*out = groups;
			return n;
		}
		/* n now says how many there are; glibc may not, then double */
		if (n <= want)
			n = want * 2;
	}
	free(groups);
	*out = NULL;
	return -1;
}

/* Runs on the worker: the blocking part. */
static struct nss_user *
look_up(uid_t uid)
{
	struct nss_user *u = calloc(1, sizeof(*u));
	struct passwd pw, *found = NULL;
	long size = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t len = size > 0 ? (size_t)size : 16384;
	char *buf = NULL;
	int rc;

	if (u == NULL)
		return NULL;
	u->uid = uid;
	for (;;) {
		char *bigger = realloc(buf, len);
		if (bigger == NULL) {
			rc = ENOMEM;
			break;
		}
		buf = bigger;
		rc = getpwuid_r(uid, &pw, buf, len, &found);
		if (rc != ERANGE || len > (size_t)1 << 24)
			break;
		len *= 2;
	}
	if (rc == 0 && found != NULL) {
		u->name = strdup(pw.pw_name);
		u->gid = pw.pw_gid;
		u->ngroups = u->name != NULL ? all_groups(u->name, pw.pw_gid,
		                                          &u->groups)
		                             : -1;
		if (u->ngroups <
		    0) { /* out of memory: the primary group only */
			free(u->groups);
			u->groups = malloc(sizeof(*u->groups));
			u->ngroups = u->groups != NULL ? 1 : 0;
			if (u->groups != NULL)
				u->groups[0] = pw.pw_gid;
		}
		u->found = u->name != NULL;
	}
	free(buf);
	return u;
}

static struct entry *
find(uid_t uid)
{
	for (struct entry *e = nc.entries; e != NULL; e = e->next)
		if (e->user.uid == uid)
			return e;
	return NULL;
}

static void
evict_one(void)
{
	struct entry **oldest = NULL;

	for (struct entry **p = &nc.entries; *p != NULL; p = &(*p)->next)
		if (!(*p)->asked &&
		    (oldest == NULL || (*p)->fetched < (*oldest)->fetched))
			oldest = p;
	if (oldest != NULL) {
		struct entry *e = *oldest;
		*oldest = e->next;
		user_clear(&e->user);
		free(e);
		nc.nentries--;
	}
}

static void
run_lookup(void *arg)
{
	struct lookup *l = arg;

	l->u = look_up(l->uid);
}

static void deliver(bool stopping);

/* Takes an answer into the cache. */
static void
on_lookup_done(void *arg, bool ran)
{
	struct lookup *l = arg;
	struct entry *e = find(l->uid);

	if (e != NULL)
		e->asked = false;
	if (ran && l->u != NULL && e != NULL) {
		user_clear(&e->user);
		e->user = *l->u;
		e->known = true;
		e->fetched = now_sec();
	} else if (l->u != NULL) {
		user_clear(l->u);
	}
	free(l->u);
	free(l);
	if (ran)
		deliver(false);
}

/* Queues a lookup of e's uid for the worker. */
static void
ask(struct entry *e)
{
	struct lookup *l;

	if (e->asked || nc.worker == NULL ||
	    (l = calloc(1, sizeof(*l))) == NULL)
		return;
	l->uid = e->user.uid;
	if (worker_run(nc.worker, run_lookup, on_lookup_done, l) < 0) {
		free(l);
		return;
	}
	e->asked = true;
}

/* The entry for uid, created (and asked for) when there is none. */
static struct entry *
entry_for(uid_t uid)
{
	struct entry *e = find(uid);

	if (e == NULL) {
		if (nc.nentries >= MAX_ENTRIES)
			evict_one();
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			return NULL;
		e->user.uid = uid;
		e->next = nc.entries;
		nc.entries = e;
		nc.nentries++;
	}
	if (!e->known || now_sec() - e->fetched >= NSS_CACHE_TTL_SEC)
		ask(e);
	return e;
}

/* Calls every waiter whose user is known (all of them, with NULL, when
 * stopping). */
static void
deliver(bool stopping)
{
	struct waiter *ready = NULL, **p = &nc.waiters;

	/* taken off the list first: a callback may wait again */
	while (*p != NULL) {
		struct waiter *w = *p;
		struct entry *e = find(w->uid);
		/* not asked and not known: the lookup could not be queued */
		if (stopping || e == NULL || e->known || !e->asked) {
			*p = w->next;
			w->next = ready;
			ready = w;
		} else {
			p = &w->next;
		}
	}
	while (ready != NULL) {
		struct waiter *w = ready;
		struct entry *e = find(w->uid);
		ready = w->next;
		w->cb(w->arg,
		      !stopping && e != NULL && e->known ? &e->user : NULL);
		free(w);
	}
}

static void
on_deliver(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	deliver(false);
}

int
nss_cache_init(struct event_base *base)
{
	nc.worker = worker_new(base);
	nc.deliver = event_new(base, -1, 0, on_deliver, NULL);
	if (nc.worker == NULL || nc.deliver == NULL) {
		nss_cache_fini();
		return -1;
	}
	return 0;
}

void
nss_cache_fini(void)
{
	deliver(true);
	/* a lookup that hangs does not hold up the stop */
	worker_free(nc.worker, false);
	nc.worker = NULL;
	if (nc.deliver != NULL)
		event_free(nc.deliver);
	nc.deliver = NULL;
	while (nc.entries != NULL) {
		struct entry *e = nc.entries;
		nc.entries = e->next;
		user_clear(&e->user);
		free(e);
	}
	nc.nentries = 0;
}

const struct nss_user *
nss_cache_peek(uid_t uid)
{
	struct entry *e = entry_for(uid);

	return e != NULL && e->known ? &e->user : NULL;
}

int
nss_cache_wait(uid_t uid, nss_cache_cb cb, void *arg)
{
	struct entry *e = entry_for(uid);
	struct waiter *w = calloc(1, sizeof(*w));

	if (e == NULL || w == NULL || nc.deliver == NULL) {
		free(w);
		return -1;
	}
	w->uid = uid;
	w->cb = cb;
	w->arg = arg;
	w->next = nc.waiters;
	nc.waiters = w;
	if (e->known || !e->asked)
		event_active(nc.deliver, 0, 0);
	return 0;
}

const char *
nss_cache_name(uid_t uid)
{
	const struct nss_user *u = nss_cache_peek(uid);

	return u != NULL ? u->name : NULL;
}

bool
nss_user_in_group(const struct nss_user *u, gid_t gid)
{
	if (u == NULL || !u->found)
		return false;
	if (u->gid == gid)
		return true;
	for (int i = 0; i < u->ngroups; i++)
		if (u->groups[i] == gid)
			return true;
	return false;
}
