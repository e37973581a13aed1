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
	struct nss_group grp; /* grp.name set: a group's entry, not a user's */
	bool known;           /* a lookup has answered */
	bool asked;           /* a lookup is queued or running */
	time_t fetched;       /* CLOCK_MONOTONIC seconds */
};

struct waiter {
	struct waiter *next;
	uid_t uid;
	char *name; /* a group's, else NULL */
	nss_cache_cb cb;
	nss_group_cb group_cb;
	void *arg;
};

/* One lookup on the worker: the uid (or group name) asked, the answer once
 * it ran. */
struct lookup {
	uid_t uid;
	char *name;
	struct nss_user *u;
	struct nss_group g;
	int rc;
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

int
nss_group_lookup(const char *name, bool *found, gid_t *gid)
{
	struct group gr, *res = NULL;
	long size = sysconf(_SC_GETGR_R_SIZE_MAX);
	size_t len = size > 0 ? (size_t)size : 16384;
	char *buf = NULL;
	int rc;

	for (;;) {
		char *bigger = realloc(buf, len);
		if (bigger == NULL) {
			free(buf);
			return -1;
		}
		buf = bigger;
		rc = getgrnam_r(name, &gr, buf, len, &res);
		if (rc != ERANGE || len > (size_t)1 << 24)
			break;
		len *= 2;
	}
	*found = rc == 0 && res != NULL;
	*gid = *found ? gr.gr_gid : (gid_t)-1;
	free(buf);
	return 0;
}

/* The entry of the group name, or (name NULL) of the user uid. */
static struct entry *
find(uid_t uid, const char *name)
{
	for (struct entry *e = nc.entries; e != NULL; e = e->next)
		if (name != NULL ? e->grp.name != NULL &&
		                           strcmp(e->grp.name, name) == 0
		                 : e->grp.name == NULL && e->user.uid == uid)
			return e;
	return NULL;
}

static void
entry_free(struct entry *e)
{
	user_clear(&e->user);
	free(e->grp.name);
	free(e);
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
		entry_free(e);
		nc.nentries--;
	}
}

static void
run_lookup(void *arg)
{
	struct lookup *l = arg;

	if (l->name != NULL)
		l->rc = nss_group_lookup(l->name, &l->g.found, &l->g.gid);
	else
		l->u = look_up(l->uid);
}

static void deliver(bool stopping);

/* Takes an answer into the cache. */
static void
on_lookup_done(void *arg, bool ran)
{
	struct lookup *l = arg;
	struct entry *e = find(l->uid, l->name);

	if (e != NULL)
		e->asked = false;
	if (ran && l->name != NULL && l->rc == 0 && e != NULL) {
		e->grp.found = l->g.found;
		e->grp.gid = l->g.gid;
		e->known = true;
		e->fetched = now_sec();
	} else if (ran && l->u != NULL && e != NULL) {
		user_clear(&e->user);
		e->user = *l->u;
		e->known = true;
		e->fetched = now_sec();
	} else if (l->u != NULL) {
		user_clear(l->u);
	}
	free(l->u);
	free(l->name);
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
	if (e->grp.name != NULL && (l->name = strdup(e->grp.name)) == NULL) {
		free(l);
		return;
	}
	if (worker_run(nc.worker, run_lookup, on_lookup_done, l) < 0) {
		free(l->name);
		free(l);
		return;
	}
	e->asked = true;
}

/* The entry for uid (or the group name), created (and asked for) when there
 * is none. */
static struct entry *
entry_for(uid_t uid, const char *name)
{
	struct entry *e = find(uid, name);

	if (e == NULL) {
		if (nc.nentries >= MAX_ENTRIES)
			evict_one();
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			return NULL;
		if (name != NULL && (e->grp.name = strdup(name)) == NULL) {
			free(e);
			return NULL;
		}
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
		struct entry *e = find(w->uid, w->name);
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
		struct entry *e = find(w->uid, w->name);
		bool known = !stopping && e != NULL && e->known;
		ready = w->next;
		if (w->name != NULL)
			w->group_cb(w->arg, known ? &e->grp : NULL);
		else
			w->cb(w->arg, known ? &e->user : NULL);
		free(w->name);
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
		entry_free(e);
	}
	nc.nentries = 0;
}

const struct nss_user *
nss_cache_peek(uid_t uid)
{
	struct entry *e = entry_for(uid, NULL);

	return e != NULL && e->known ? &e->user : NULL;
}

const struct nss_group *
nss_cache_peek_group(const char *name)
{
	struct entry *e = entry_for(0, name);

	return e != NULL && e->known ? &e->grp : NULL;
}

/* Queues w (filled but for next) until its entry is known. */
static int
add_waiter(struct waiter *w)
{
	struct entry *e = entry_for(w->uid, w->name);

	if (e == NULL || nc.deliver == NULL) {
		free(w->name);
		free(w);
		return -1;
	}
	w->next = nc.waiters;
	nc.waiters = w;
	if (e->known || !e->asked)
		event_active(nc.deliver, 0, 0);
	return 0;
}

int
nss_cache_wait(uid_t uid, nss_cache_cb cb, void *arg)
{
	struct waiter *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return -1;
	*w = (struct waiter){.uid = uid, .cb = cb, .arg = arg};
	return add_waiter(w);
}

int
nss_cache_wait_group(const char *name, nss_group_cb cb, void *arg)
{
	struct waiter *w = calloc(1, sizeof(*w));

	if (w == NULL || (w->name = strdup(name)) == NULL) {
		free(w);
		return -1;
	}
	w->group_cb = cb;
	w->arg = arg;
	return add_waiter(w);
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
