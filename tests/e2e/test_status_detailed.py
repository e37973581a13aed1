"""The whole migration at a glance: `status --detailed` per plan and step
across its tenants, `watch` and `submit --wait` hearing a job's end at once
(LISTEN/NOTIFY, also when another daemon ran it), one screen for thousands
of jobs, and `show` printing the batch size in effect."""

import json
import re
import time

import varlink
from conftest import wait_for
from jobs_util import (counter_plan, counter_step, ctl_json, make_tables,
                       reload, submit, tenant_name, wait_state, write_plan)

# A Watch polls progress once a second; an end must arrive well before.
END_LATENCY = 0.4


def watch_stream(d, ids):
    """A raw streaming Watch on d: yields (arrival time, reply)."""
    client = varlink.Client(d.socket, timeout=60)
    client.send_call("io.migrated.Watch", {"ids": ids}, more=True)
    try:
        while True:
            reply = client.read_message(timeout=60)
            yield time.time(), reply
            if not reply.get("continues"):
                return
    finally:
        client.close()


def slow_plan(d, pg, tenants, rows, batch=10, sleep="0.05"):
    make_tables(pg, tenants, rows)
    write_plan(d, "slow", counter_plan([counter_step("s1", batch=batch,
                                                     sleep=sleep)]))
    reload(d)


def finished_epoch(pg, job):
    return float(pg.psql("SELECT extract(epoch FROM finished) FROM"
                         " migrated.jobs WHERE id = %d" % job).strip())


def test_watch_hears_ends_at_once_when_another_daemon_ran_them(
        make_daemon, pg):
    runner = make_daemon()
    watcher = make_daemon()           # has no plans: it never claims a job
    runner.start()
    watcher.start()
    tenants = [tenant_name(i) for i in range(4)]
    # each job: 6 batches of >= 0.05 s; the two workers end them apart
    slow_plan(runner, pg, tenants, rows=60)
    ids = submit(runner, "slow", tenants)
    ends = {}
    for arrived, reply in watch_stream(watcher, ids):
        assert "error" not in reply, reply
        job = reply["parameters"]["job"]
        if job is not None and job["state"] in ("succeeded", "failed"):
            ends.setdefault(job["id"], arrived)
    assert sorted(ends) == sorted(ids)
    wait_state(runner, ids)
    for job, arrived in ends.items():
        late = arrived - finished_epoch(pg, job)
        assert late < END_LATENCY, "job %d's end came %.3f s late" % (
            job, late)


def test_a_cancel_on_another_daemon_ends_the_watch_at_once(make_daemon, pg):
    runner = make_daemon()
    watcher = make_daemon()
    runner.start()
    watcher.start()
    tenants = [tenant_name(i) for i in range(3)]
    slow_plan(runner, pg, tenants, rows=2000, sleep="0.2")
    ids = submit(runner, "slow", tenants)
    for job in ids:
        stream = watch_stream(watcher, [job])
        _, first = next(stream)
        assert first.get("continues"), first
        t0 = time.time()
        reply = runner.call("io.migrated.Cancel", {"ids": [job]})
        assert "error" not in reply, reply
        last = None
        for arrived, last in stream:
            pass
        assert last["parameters"]["job"]["state"] == "cancelled", last
        assert arrived - t0 < END_LATENCY, \
            "the cancel of job %d came %.3f s late" % (job, arrived - t0)


def test_submit_wait_returns_at_the_end(make_daemon, pg):
    d = make_daemon().start()
    tenants = [tenant_name(0)]
    slow_plan(d, pg, tenants, rows=30)
    t0 = time.time()
    rc, out, err = d.ctl("submit", "slow", "--tenant", tenants[0], "--wait")
    done = time.time()
    assert rc == 0, (out, err)
    job = int(pg.psql("SELECT max(id) FROM migrated.jobs").strip())
    assert done - finished_epoch(pg, job) < 1.0   # migratectl's own start-up
    assert done - t0 > 0.15                        # 3 batches of 0.05 s ran
