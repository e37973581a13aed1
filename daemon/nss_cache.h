/*
 * Name-service lookups off the event loop: a cache of users (name, primary
 * group, every group they are in) by uid, filled by one worker thread that
 * runs getpwuid_r and getgrouplist (with a buffer that grows, so a user in
 * thousands of groups is seen whole). Entries expire after
 * NSS_CACHE_TTL_SEC; an expired entry is still answered while a fresh one
 * is looked up. Groups by name (admin_group) are cached the same way,
 * with getgrnam_r. Authorization and audit ask here; nothing else in the
 * daemon calls getpwuid, getgrouplist or getgrnam.
 */
#ifndef NSS_CACHE_H
#define NSS_CACHE_H

#include <stdbool.h>
#include <sys/types.h>

#include <event2/event.h>

#define NSS_CACHE_TTL_SEC 60

struct nss_user {
	uid_t uid;
	bool found;    /* false: no such user (the rest is empty) */
	char *name;    /* NULL unless found */
	gid_t gid;     /* primary group */
	gid_t *groups; /* every group, the primary one included */
	int ngroups;
};

struct nss_group {
	char *name;
	bool found; /* false: no such group (gid is then meaningless) */
	gid_t gid;
};

/* Called on the loop, never inside nss_cache_wait; u is NULL when the
 * lookup could not run (out of memory, the daemon stopping). */
typedef void (*nss_cache_cb)(void *arg, const struct nss_user *u);

/* Starts the worker; -1 when it cannot. */
int nss_cache_init(struct event_base *base) __attribute__((warn_unused_result));
/* Stops the worker; waiting callers are called with NULL first. */
void nss_cache_fini(void);

/*
 * The entry for uid when one is known (possibly expired: then a fresh
 * lookup starts), NULL when none is yet (a lookup starts). Valid until the
 * next return to the loop.
 */
const struct nss_user *nss_cache_peek(uid_t uid);
/* Calls cb once uid has been looked up (or at once from the loop when it
 * is known); -1 when it cannot (out of memory). */
int nss_cache_wait(uid_t uid, nss_cache_cb cb, void *arg)
        __attribute__((warn_unused_result));

/* The user's name when it is known now, else NULL (never blocks). */
const char *nss_cache_name(uid_t uid);
bool nss_user_in_group(const struct nss_user *u, gid_t gid);

/* As nss_cache_cb, for a group; g is NULL when the lookup could not run. */
typedef void (*nss_group_cb)(void *arg, const struct nss_group *g);
/* As nss_cache_peek and nss_cache_wait, for the group named name. */
const struct nss_group *nss_cache_peek_group(const char *name);
int nss_cache_wait_group(const char *name, nss_group_cb cb, void *arg)
        __attribute__((warn_unused_result));
/* Looks name up here and now (blocking: for the check mode and the start,
 * before the loop runs); -1 when out of memory, else 0 with *found and *gid. */
int nss_group_lookup(const char *name, bool *found, gid_t *gid)
        __attribute__((warn_unused_result));

#endif
