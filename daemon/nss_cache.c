#include "nss_cache.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

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

/* What the worker sends the loop: the answer, which the loop then owns. */
struct handoff {
	struct nss_user *u;
};

struct ask {
	struct ask *next;
	uid_t uid;
};

/*
 * What the loop and the worker share, under lock. The last of the two to
 * let go frees it: a worker stuck in a slow lookup at shutdown is left
 * behind (detached) rather than waited for.
 */
struct shared {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ask *head, **tail;
	bool stop, busy;
	int refs;
	int fd; /* the worker's end: it sends one struct nss_user * a lookup */
};

static struct {
	struct event_base *base;
	struct shared *sh;
	pthread_t tid;
	int fd; /* the loop's end */
	struct event *answers, *deliver;
	struct entry *entries;
	int nentries;
	struct waiter *waiters;
} nc = {.fd = -1};

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

static void
shared_unref(struct shared *sh)
{
	bool last;

	pthread_mutex_lock(&sh->lock);
	last = --sh->refs == 0;
	pthread_mutex_unlock(&sh->lock);
	if (!last)
		return;
	while (sh->head != NULL) {
		struct ask *a = sh->head;
		sh->head = a->next;
		free(a);
	}
	if (sh->fd >= 0)
		close(sh->fd);
	pthread_cond_destroy(&sh->cond);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
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

static void *
worker(void *arg)
{
	struct shared *sh = arg;

	pthread_mutex_lock(&sh->lock);
	for (;;) {
		struct ask *a;
		struct nss_user *u;

		while (sh->head == NULL && !sh->stop)
			pthread_cond_wait(&sh->cond, &sh->lock);
		if (sh->stop)
			break;
		a = sh->head;
		sh->head = a->next;
		if (sh->head == NULL)
			sh->tail = &sh->head;
		sh->busy = true;
		pthread_mutex_unlock(&sh->lock);
		u = look_up(a->uid);
		free(a);
		/* the send hands u to the loop; a loop that stopped meanwhile
		 * closed its end, and the send fails */
		if (u != NULL &&
		    send(sh->fd, &(struct handoff){u}, sizeof(struct handoff),
		         MSG_NOSIGNAL) != (ssize_t)sizeof(struct handoff)) {
			user_clear(u);
			free(u);
		}
		pthread_mutex_lock(&sh->lock);
		sh->busy = false;
	}
	pthread_mutex_unlock(&sh->lock);
	shared_unref(sh);
	return NULL;
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

/* Queues a lookup of e's uid for the worker. */
static void
ask(struct entry *e)
{
	struct ask *a;

	if (e->asked || nc.sh == NULL || (a = calloc(1, sizeof(*a))) == NULL)
		return;
	a->uid = e->user.uid;
	e->asked = true;
	pthread_mutex_lock(&nc.sh->lock);
	*nc.sh->tail = a;
	nc.sh->tail = &a->next;
	pthread_cond_signal(&nc.sh->cond);
	pthread_mutex_unlock(&nc.sh->lock);
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

/* Takes the worker's answers into the cache. */
static void
take_answers(void)
{
	struct handoff h;

	while (recv(nc.fd, &h, sizeof(h), MSG_DONTWAIT) == (ssize_t)sizeof(h)) {
		struct nss_user *u = h.u;
		struct entry *e = find(u->uid);
		if (e == NULL) { /* forgotten meanwhile */
			user_clear(u);
			free(u);
			continue;
		}
		user_clear(&e->user);
		e->user = *u;
		free(u);
		e->known = true;
		e->asked = false;
		e->fetched = now_sec();
	}
}

static void
on_answers(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	take_answers();
	deliver(false);
}

int
nss_cache_init(struct event_base *base)
{
	struct shared *sh = calloc(1, sizeof(*sh));
	int sv[2] = {-1, -1};

	if (sh == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(sh);
		return -1;
	}
	pthread_mutex_init(&sh->lock, NULL);
	pthread_cond_init(&sh->cond, NULL);
	sh->tail = &sh->head;
	sh->fd = sv[1];
	sh->refs = 2;
	nc.base = base;
	nc.fd = sv[0];
	nc.answers =
	        event_new(base, nc.fd, EV_READ | EV_PERSIST, on_answers, NULL);
	nc.deliver = event_new(base, -1, 0, on_deliver, NULL);
	if (nc.answers == NULL || nc.deliver == NULL ||
	    event_add(nc.answers, NULL) < 0 ||
	    pthread_create(&nc.tid, NULL, worker, sh) != 0) {
		sh->refs = 1;
		shared_unref(sh);
		nss_cache_fini();
		return -1;
	}
	nc.sh = sh;
	return 0;
}

void
nss_cache_fini(void)
{
	deliver(true);
	if (nc.sh != NULL) {
		struct shared *sh = nc.sh;
		bool busy;

		pthread_mutex_lock(&sh->lock);
		sh->stop = true;
		busy = sh->busy;
		pthread_cond_signal(&sh->cond);
		pthread_mutex_unlock(&sh->lock);
		/* a lookup that hangs does not hold up the stop */
		if (busy)
			pthread_detach(nc.tid);
		else
			pthread_join(nc.tid, NULL);
		shared_unref(sh);
		nc.sh = NULL;
	}
	if (nc.answers != NULL)
		event_free(nc.answers);
	if (nc.deliver != NULL)
		event_free(nc.deliver);
	nc.answers = nc.deliver = NULL;
	if (nc.fd >= 0) {
		take_answers(); /* sent before the worker stopped */
		close(nc.fd);
	}
	nc.fd = -1;
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
