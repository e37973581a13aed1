"""Authorization end to end (issue 4): the daemon runs as root; a client
running as user nobody may read (GetStatus, ListJobs, ...) but every
mutating call is refused with org.varlink.service.PermissionDenied and
audited, unless nobody is in admin_group (as a supplementary group, or as
its primary group nogroup).

The socket is made world-writable (socket_mode = 0666) so that nobody can
connect at all; its directory (a 0755 temporary directory) is traversable.
"""

import grp
import os
import pwd
import stat

import pytest

from conftest import run
from jobs_util import show
from safety_util import (
    DENIED, SAFETY_TABLES, calls_as, ctl_as, fingerprints, install,
    job_count, last_log_id, log_entries, make_data, ok, run_job, safety_plan,
    wait_ended)

NOBODY_UID = 65534


# Every mutating method, with parameters that would work for root.
def mutating_calls(job):
    return [
        ("Submit", {"plan": "safe", "tenants": ["initech"]}),
        ("Pause", {"ids": [job]}),
        ("Resume", {"ids": [job]}),
        ("Cancel", {"ids": [job]}),
        ("Retry", {"ids": [job]}),
        ("Rollback", {"id": job}),
        ("Rollback", {"id": job, "steps": ["item"]}),
        ("RollbackPlan", {"plan": "safe"}),
        ("RollbackPlan", {"plan": "safe", "emergency": True}),
        ("DropBackups", {"jobs": [job]}),
        ("DropBackups", {"older_than_days": 0}),
        ("Reload", {}),
        # refused before its parameters are even looked at
        ("Submit", {"plan": "safe", "tenants": ["initech"], "bogus": 1}),
    ]


READ_CALLS = [
    ("GetStatus", {}), ("ListJobs", {}), ("ListPlans", {}),
    ("ShowPlan", {"name": "safe"}), ("GetLog", {"limit": 5}),
    ("ListBackups", {}), ("Validate", {"plan": "safe", "tenants": ["acme"]}),
    ("VerifyPlan", {"plan": "safe"}),
    ("org.varlink.service.GetInfo", {}),
]


@pytest.fixture
def group():
    """A throwaway group with nobody as a member; removed afterwards."""
    name = "mdtest%d" % os.getpid()
    rc, out, err = run(["groupadd", name])
    assert rc == 0, err
    try:
        rc, out, err = run(["gpasswd", "-a", "nobody", name])
        assert rc == 0, err
        yield name
    finally:
        run(["groupdel", name])


def setup_daemon(make_daemon, pg, **conf):
    make_data(pg)
    d = make_daemon(socket_mode="0666", **conf)
    install(d, safe=safety_plan())
    return d.start()


def test_nobody_reads_but_cannot_mutate(make_daemon, pg):
    d = setup_daemon(make_daemon, pg)
    mode = os.stat(d.socket).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o666
    job = run_job(d, "safe", "acme")
    before = fingerprints(pg, SAFETY_TABLES)
    backups = ok(d, "ListBackups")
    since = last_log_id(d)

    replies = calls_as("nobody", d.socket, READ_CALLS)
    for (name, _), reply in zip(READ_CALLS, replies):
        assert "error" not in reply, (name, reply)
    assert replies[0]["parameters"]["status"]["database"] == "connected"
    assert [j["id"] for j in replies[1]["parameters"]["jobs"]] == [job["id"]]

    calls = mutating_calls(job["id"])
    replies = calls_as("nobody", d.socket, calls)
    for (name, params), reply in zip(calls, replies):
        assert reply.get("error") == DENIED, (name, params, reply)
        assert reply.get("parameters", {}) == {}, reply

    # each refusal is in the audit log, with who and what
    got = [(e["uid"], e["user"], e["action"], e["parameters"], e["result"])
           for e in reversed(log_entries(d)) if e["id"] > since]
    assert got == [(NOBODY_UID, "nobody", "io.migrated." + name, params,
                    DENIED) for name, params in calls]
    # and nothing happened
    assert job_count(pg) == 1
    assert show(d, job["id"])["state"] == "succeeded"
    # (age_sec moves on while the test runs)
    def kept(listing):
        return [{k: v for k, v in b.items() if k != "age_sec"}
                for b in listing["backups"]]
    assert kept(ok(d, "ListBackups")) == kept(backups)
    assert fingerprints(pg, SAFETY_TABLES) == before


def test_migratectl_as_nobody(make_daemon, pg):
    d = setup_daemon(make_daemon, pg)
    job = run_job(d, "safe", "acme")
    rc, out, err = ctl_as("nobody", d.socket, "status")
    assert rc == 0, err
    rc, out, err = ctl_as("nobody", d.socket, "--json", "list")
    assert rc == 0, err
    assert str(job["id"]) in out
    for args in (("validate", "safe", "--tenant", "acme"), ("backups",),
                 ("log", "--limit", "3"), ("verify", str(job["id"]))):
        rc, out, err = ctl_as("nobody", d.socket, *args)
        assert rc == 0, (args, rc, out, err)
    for args in (("submit", "safe", "--tenant", "initech"),
                 ("pause", str(job["id"])), ("cancel", str(job["id"])),
                 ("retry", str(job["id"])), ("rollback", str(job["id"])),
                 ("backups", "--drop", str(job["id"])),
                 ("backups", "--drop", "--older-than", "0")):
        rc, out, err = ctl_as("nobody", d.socket, *args)
        assert rc == 1, (args, rc, out, err)
        assert "PermissionDenied" in err or "permission" in err.lower(), (
            args, err)
    assert job_count(pg) == 1
    assert len(ok(d, "ListBackups")["backups"]) == 2


def test_socket_mode_keeps_others_out(make_daemon, pg):
    make_data(pg)
    d = make_daemon()                       # socket_mode 0660, owner root
    d.start()
    assert stat.S_IMODE(os.stat(d.socket).st_mode) == 0o660
    (reply,) = calls_as("nobody", d.socket, [("GetStatus", {})])
    assert reply.get("oserror", "").startswith("PermissionError"), reply


def test_admin_group_member_may_mutate_after_reload(make_daemon, pg, group):
    d = setup_daemon(make_daemon, pg)
    (reply,) = calls_as("nobody", d.socket, [
        ("Submit", {"plan": "safe", "tenants": ["acme"]})])
    assert reply.get("error") == DENIED, reply

    d.write_conf(admin_group=group)
    ok(d, "Reload")
    since = last_log_id(d)
    (reply,) = calls_as("nobody", d.socket, [
        ("Submit", {"plan": "safe", "tenants": ["acme"]})])
    assert "error" not in reply, reply
    (job,) = reply["parameters"]["jobs"]
    assert wait_ended(d, job)["state"] == "succeeded"
    (reply,) = calls_as("nobody", d.socket, [("Rollback", {"id": job})])
    assert "error" not in reply, reply
    assert wait_ended(d, reply["parameters"]["job"])["state"] == "succeeded"

    # a user outside the group is still refused
    (reply,) = calls_as("daemon", d.socket, [("Pause", {"all": True})])
    assert reply.get("error") == DENIED, reply

    got = [(e["uid"], e["user"], e["action"], e["result"])
           for e in reversed(log_entries(d)) if e["id"] > since
           and not e["action"].startswith("job ")]
    assert got == [
        (NOBODY_UID, "nobody", "io.migrated.Submit", "ok"),
        (NOBODY_UID, "nobody", "io.migrated.Rollback", "ok"),
        (1, "daemon", "io.migrated.Pause", DENIED)]


def test_admin_group_at_start_owns_the_socket(make_daemon, pg, group):
    d = setup_daemon(make_daemon, pg, admin_group=group)
    st = os.stat(d.socket)
    assert st.st_gid == grp.getgrnam(group).gr_gid
    assert stat.S_IMODE(st.st_mode) == 0o666
    (reply,) = calls_as("nobody", d.socket, [
        ("Submit", {"plan": "safe", "tenants": ["globex"]})])
    assert "error" not in reply, reply


def test_admin_group_as_primary_group(make_daemon, pg):
    # nobody's primary group is nogroup on Debian: the peer's gid matches
    assert grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name == "nogroup"
    d = setup_daemon(make_daemon, pg, admin_group="nogroup")
    replies = calls_as("nobody", d.socket, [
        ("Submit", {"plan": "safe", "tenants": ["acme"]}),
        ("DropBackups", {"older_than_days": 0}),
        ("Reload", {})])
    assert [r.get("error") for r in replies] == [None, None, None], replies
    (job,) = replies[0]["parameters"]["jobs"]
    assert wait_ended(d, job)["state"] == "succeeded"
    (reply,) = calls_as("daemon", d.socket, [("Cancel", {"all": True})])
    assert reply.get("error") == DENIED, reply
