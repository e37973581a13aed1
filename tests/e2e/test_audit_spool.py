"""Audit entries made while the database is down (issue 12) wait in the
spool file of the state directory and are stored once it is back; none is
lost when the daemon is killed meanwhile."""

import calendar
import json
import os
import signal
import time
from pathlib import Path

from conftest import wait_for
from safety_util import log_entries

CALLS = [("io.migrated.Pause", {"all": True}),
         ("io.migrated.Cancel", {"ids": [4242]}),
         ("io.migrated.Resume", {"ids": [4243]})]


def wait_database(d, state, timeout=15):
    return wait_for("the database to be %s" % state,
                    lambda: d.status()["database"] == state, timeout)


def audited(d, since):
    return [(e["action"], e["parameters"], e["result"])
            for e in reversed(log_entries(d))
            if e["id"] > since and not e["action"].startswith("job ")]


def test_entries_made_while_the_database_is_down_survive_a_kill(
        make_daemon, pg):
    d = make_daemon().start()
    since = max([e["id"] for e in log_entries(d)], default=0)
    spool = Path(d.settings["audit_spool"])
    made = []
    try:
        pg.stop()
        wait_database(d, "disconnected")
        before = time.time()
        for method, params in CALLS:
            reply = d.call(method, params)
            made.append((method, params, reply.get("error", "ok")))
        # the three are on disk (the spool is written off the loop)
        wait_for("the spool to hold the entries",
                 lambda: spool.exists() and
                 len(spool.read_text().splitlines()) == 3, 10)
        os.killpg(d.proc.pid, signal.SIGKILL)
        d.proc.wait()
    finally:
        pg.start()
    lines = [json.loads(line) for line in spool.read_text().splitlines()]
    assert [(e["action"], e["parameters"], e["result"]) for e in lines] == \
        made
    assert all(e["uid"] == 0 and e["user"] == "root" for e in lines), lines
    restarted = time.time()
    d.start()
    wait_for("the spooled entries to be stored",
             lambda: audited(d, since) == made, 15)
    assert not spool.exists()
    assert not Path(str(spool) + ".sending").exists()
    # with the time they were made, not the time they were stored
    got = [e for e in log_entries(d) if e["id"] > since
           and not e["action"].startswith("job ")]
    assert len(got) == 3
    for e in got:
        at = calendar.timegm(time.strptime(e["at"][:19], "%Y-%m-%dT%H:%M:%S"))
        assert before - 1 <= at <= restarted, e


def test_entries_are_stored_when_the_database_returns(make_daemon, pg):
    d = make_daemon().start()
    since = max([e["id"] for e in log_entries(d)], default=0)
    spool = Path(d.settings["audit_spool"])
    try:
        pg.stop()
        wait_database(d, "disconnected")
        reply = d.call(*CALLS[0])
        made = [(CALLS[0][0], CALLS[0][1], reply.get("error", "ok"))]
    finally:
        pg.start()
    wait_database(d, "connected")
    wait_for("the spooled entry to be stored",
             lambda: audited(d, since) == made, 15)
    wait_for("the spool to go", lambda: not spool.exists(), 5)
    d.wait_log(r"1 audit entries from .* stored")
