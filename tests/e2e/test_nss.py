"""Name-service lookups for authorization and audit (issue 12): they run
off the event loop (a slow NSS module does not hold up GetStatus), and a
user in more groups than a fixed buffer holds is still authorized by the
last of them. admin_group is looked up the same way: a reload that changes
it does not stall the loop, and a call waits for the group's lookup."""

import os
import re
import subprocess
import sys
import threading
import time

import pytest

from conftest import MIGRATED, run, short_tmpdir, VALGRIND
from safety_util import (DENIED, calls_as, calls_logged, install, make_data,
                         ok, safety_plan)

# getpwuid, getpwuid_r and getgrouplist that take 3 s for user nobody, and
# getgrnam and getgrnam_r that take 3 s for a group named mdslow...: a slow
# LDAP or sssd, for real, preloaded into the daemon.
SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#define SLOW_UID 65534

struct passwd *getpwuid(uid_t uid)
{
    static struct passwd *(*real)(uid_t);
    if (!real)
        real = dlsym(RTLD_NEXT, "getpwuid");
    if (uid == SLOW_UID)
        sleep(3);
    return real(uid);
}

int getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len,
               struct passwd **out)
{
    static int (*real)(uid_t, struct passwd *, char *, size_t,
                       struct passwd **);
    if (!real)
        real = dlsym(RTLD_NEXT, "getpwuid_r");
    if (uid == SLOW_UID)
        sleep(3);
    return real(uid, pw, buf, len, out);
}

int getgrouplist(const char *user, gid_t group, gid_t *groups, int *n)
{
    static int (*real)(const char *, gid_t, gid_t *, int *);
    if (!real)
        real = dlsym(RTLD_NEXT, "getgrouplist");
    if (strcmp(user, "nobody") == 0)
        sleep(3);
    return real(user, group, groups, n);
}

#define SLOW_GROUP(name) (strncmp((name), "mdslow", 6) == 0)

struct group *getgrnam(const char *name)
{
    static struct group *(*real)(const char *);
    if (!real)
        real = dlsym(RTLD_NEXT, "getgrnam");
    if (SLOW_GROUP(name))
        sleep(3);
    return real(name);
}

int getgrnam_r(const char *name, struct group *gr, char *buf, size_t len,
               struct group **out)
{
    static int (*real)(const char *, struct group *, char *, size_t,
                       struct group **);
    if (!real)
        real = dlsym(RTLD_NEXT, "getgrnam_r");
    if (SLOW_GROUP(name))
        sleep(3);
    return real(name, gr, buf, len, out);
}
"""


@pytest.fixture(scope="module")
def shim():
    d = short_tmpdir("nss.")
    src, lib = d / "slow.c", d / "slow.so"
    src.write_text(SHIM)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src),
                    "-ldl"], check=True)
    return str(lib)


def start(make_daemon, pg, env=None, **conf):
    make_data(pg)
    d = make_daemon(socket_mode="0666", **conf)
    install(d, safe=safety_plan())
    return d.start(env=env)


@pytest.mark.skipif(VALGRIND or bool(os.environ.get("MIGRATED_BUILD")),
                    reason="valgrind and ASan builds do not take LD_PRELOAD "
                           "shims; make check runs this test")
def test_status_answers_while_a_user_is_looked_up(make_daemon, pg, shim):
    d = start(make_daemon, pg, env={"LD_PRELOAD": shim})
    replies = []
    caller = threading.Thread(target=lambda: replies.extend(calls_as(
        "nobody", d.socket, [("Pause", {"all": True})])))
    caller.start()
    slowest = 0.0
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        t = time.monotonic()
        d.status()
        slowest = max(slowest, time.monotonic() - t)
        time.sleep(0.05)
    caller.join(30)
    # a lookup on the loop would hold every call for 3 s or more
    assert slowest < 0.5, slowest
    # and the lookup did answer: nobody is refused, audited by name
    assert [r.get("error") for r in replies] == [DENIED], replies
    assert ("nobody", DENIED) in [(e[1], e[4]) for e in calls_logged(d)]


GROUPS = 300


@pytest.fixture(scope="module")
def crowded_user():
    """A user in GROUPS groups (as supplementary groups); the last group
    made is the one returned as the admin group. Removed afterwards.
    (Module scope: 300 groupadd and groupdel take a minute or two, outside
    the per-test time limit.)"""
    tag = "md%d" % os.getpid()
    names = ["%sg%d" % (tag, i) for i in range(GROUPS)]
    user = tag + "u"
    try:
        for name in names:
            rc, out, err = run(["groupadd", name])
            assert rc == 0, err
        rc, out, err = run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin",
                            "-G", ",".join(names), user])
        assert rc == 0, err
        yield user, names[-1]
    finally:
        run(["userdel", user])
        for name in names:
            run(["groupdel", name])


def test_user_in_300_groups_is_authorized_by_the_last(make_daemon, pg,
                                                     crowded_user):
    user, admin = crowded_user
    d = start(make_daemon, pg, admin_group=admin)
    # as the user, the admin group a supplementary one past the 256th
    (reply,) = calls_as(user, d.socket, [("Pause", {"all": True})])
    assert reply.get("error") is None, reply
    logged = calls_logged(d)
    assert logged[-1][1:3] == (user, "io.migrated.Pause"), logged
    assert logged[-1][4] == "ok", logged
    # and a group it is not in is refused
    d2 = start(make_daemon, pg, admin_group="nogroup")
    (reply,) = calls_as(user, d2.socket, [("Pause", {"all": True})])
    assert reply.get("error") == DENIED, reply


@pytest.fixture
def slow_group():
    """A group the shim looks up slowly, with nobody as a member; removed
    afterwards."""
    name = "mdslow%d" % os.getpid()
    rc, out, err = run(["groupadd", name])
    assert rc == 0, err
    try:
        rc, out, err = run(["gpasswd", "-a", "nobody", name])
        assert rc == 0, err
        yield name
    finally:
        run(["groupdel", name])


@pytest.mark.skipif(VALGRIND or bool(os.environ.get("MIGRATED_BUILD")),
                    reason="valgrind and ASan builds do not take LD_PRELOAD "
                           "shims; make check runs this test")
@pytest.mark.parametrize("how", ["sighup", "Reload"])
def test_reload_to_a_slow_admin_group_keeps_status_fast(make_daemon, pg, shim,
                                                        slow_group, how):
    d = start(make_daemon, pg, env={"LD_PRELOAD": shim})
    # nobody's user entry first (refused: no admin_group yet), so that the
    # call after the reload waits for the group's lookup alone
    (reply,) = calls_as("nobody", d.socket, [("Pause", {"all": True})])
    assert reply.get("error") == DENIED, reply
    d.write_conf(admin_group=slow_group)
    slowest, done = [0.0], threading.Event()

    def poll():
        while not done.is_set():
            t = time.monotonic()
            d.status()
            slowest[0] = max(slowest[0], time.monotonic() - t)
            time.sleep(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        t = time.monotonic()
        if how == "sighup":
            d.reload()
            d.wait_log("reloaded")
        else:
            ok(d, "Reload")
        reloaded = time.monotonic() - t
        # nobody, a member of the new group, is authorized once the group
        # is known (the call waits for its lookup, never decides without)
        (reply,) = calls_as("nobody", d.socket, [("Pause", {"all": True})])
        waited = time.monotonic() - t
    finally:
        done.set()
        poller.join(30)
    assert reply.get("error") is None, reply
    # getgrnam on the loop would hold the reload and every call for 3 s
    assert reloaded < 1.5, reloaded
    assert slowest[0] < 0.5, slowest[0]
    assert waited > 2, waited
    # and a user outside it is refused
    (reply,) = calls_as("daemon", d.socket, [("Pause", {"all": True})])
    assert reply.get("error") == DENIED, reply


def test_admin_group_that_does_not_exist(make_daemon, pg):
    d = make_daemon(socket_mode="0666", admin_group="mdnosuchgroup")
    # the check mode refuses it
    rc, out, err = run([MIGRATED, "-n", "-c", d.conf_path])
    assert rc == 1, (rc, out, err)
    with open(d.conf_path) as f:
        line = 1 + [n for n, text in enumerate(f)
                    if text.startswith("admin_group")][0]
    assert ("%s:%d: admin_group: no group named 'mdnosuchgroup'\n"
            % (d.conf_path, line)) in err, err
    # the running daemon warns once, and only root may mutate
    make_data(pg)
    install(d, safe=safety_plan())
    d.start()
    d.wait_log("%s:%d: admin_group: no group named 'mdnosuchgroup'"
               % (re.escape(str(d.conf_path)), line))
    (reply,) = calls_as("nobody", d.socket, [("Pause", {"all": True})])
    assert reply.get("error") == DENIED, reply
    ok(d, "Pause", {"all": True})
    assert d.log().count("no group named") == 1, d.log()
