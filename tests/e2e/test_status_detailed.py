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


# --- status --detailed --------------------------------------------------------

def two_step_plan(d, pg, tenants, rows, batch=50, sleep=None):
    make_tables(pg, tenants, rows, tables=("t1", "t2"))
    write_plan(d, "two", counter_plan([
        counter_step("s1", table="t1", batch=batch, sleep=sleep),
        counter_step("s2", table="t2", after="s1", batch=batch,
                     sleep=sleep)]))
    reload(d)


def detailed(d, *args):
    return ctl_json(d, "status", "--detailed", *args)["plans"]


def test_detailed_sums_each_step_over_all_tenants(make_daemon, pg):
    d = make_daemon().start()
    tenants = [tenant_name(i) for i in range(5)]
    two_step_plan(d, pg, tenants, rows=100)
    wait_state(d, submit(d, "two", tenants))
    plans = detailed(d)
    assert [p["plan"] for p in plans] == ["two"]
    plan = plans[0]
    assert plan["tenants"]["succeeded"] == 5
    assert sum(plan["tenants"].values()) == 5
    assert plan["rows_done"] == 1000 and plan["rows_estimated"] == 1000
    assert plan["throttled"] == []
    assert [(s["name"], s["rows_done"], s["rows_estimated"],
             s["tenants_done"]) for s in plan["steps"]] == [
        ("s1", 500, 500, 5), ("s2", 500, 500, 5)]
    assert plan["eta_sec"] is None               # nothing left
    rc, out, err = d.ctl("status", "--detailed")
    assert rc == 0, err
    assert re.search(r"Plan:\s+two", out), out
    assert re.search(r"Tenants:\s+5 succeeded", out), out
    assert re.search(r"Rows:\s+1000/1000", out), out
    assert re.search(r"Throttled:\s+-", out), out
    assert re.search(r"s1\s+\[#{20}\] 100%\s+500/500\s+5/5", out), out
    assert re.search(r"s2\s+\[#{20}\] 100%\s+500/500\s+5/5", out), out


def test_detailed_plan_filter(make_daemon, pg):
    d = make_daemon().start()
    tenants = [tenant_name(0)]
    two_step_plan(d, pg, tenants, rows=10)
    wait_state(d, submit(d, "two", tenants))
    assert [p["plan"] for p in detailed(d, "--plan", "two")] == ["two"]
    rc, out, err = d.ctl("status", "--detailed", "--plan", "nope")
    assert rc == 1 and "nope" in err, (out, err)
    rc, out, err = d.ctl("status", "--plan", "two")
    assert rc == 2 and "--detailed" in err, (out, err)


def test_detailed_says_what_throttles_each_plan(make_daemon, pg):
    d = make_daemon().start()
    tenants = [tenant_name(0)]
    two_step_plan(d, pg, tenants, rows=10)
    wait_state(d, submit(d, "two", tenants))
    rc, out, err = d.ctl("throttle", "on", "--plan", "two", "--reason",
                         "month end")
    assert rc == 0, err
    # a plan's throttle is not another's
    write_plan(d, "other", counter_plan([counter_step("s1", table="t1")]))
    reload(d)
    rc, out, err = d.ctl("throttle", "on", "--plan", "other", "--reason",
                         "not this one")
    assert rc == 0, err
    [why] = wait_for("the plan's throttle in the overview",
                     lambda: detailed(d)[0]["throttled"], 10)
    assert "month end" in why, why
    rc, out, err = d.ctl("status", "--detailed")
    assert rc == 0 and re.search(r"Throttled:.*month end", out), out
    assert "not this one" not in out, out


def test_rate_and_eta_come_from_counters_while_running(make_daemon, pg):
    d = make_daemon().start()
    tenants = [tenant_name(i) for i in range(2)]
    # 2 x 2 steps x 30 batches of >= 0.1 s: about 6 s on the 2 workers
    two_step_plan(d, pg, tenants, rows=300, batch=10, sleep="0.1")
    ids = submit(d, "two", tenants)

    def rated():
        plan = detailed(d)[0]
        return plan if plan["rows_per_sec"] else None
    plan = wait_for("a rate in status --detailed", rated, 20, interval=0.5)
    running = [s for s in plan["steps"] if s["rows_per_sec"]]
    assert running, plan
    # at most 2 workers x 10 rows per 0.1 s batch
    assert 0 < plan["rows_per_sec"] <= 250, plan
    assert plan["eta_sec"] is not None and plan["eta_sec"] > 0, plan
    status = d.status()
    assert 0 < status["rows_per_sec"] <= 250, status
    wait_state(d, ids)


# --- thousands of jobs --------------------------------------------------------

def pty_run(args, rows, cols, until, timeout):
    """Runs args on a pseudo-terminal of rows x cols; returns its output
    once until() holds and the process has ended."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ,
                struct.pack("HHHH", rows, cols, 0, 0))
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave,
                            close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    triggered = False
    try:
        while time.monotonic() < deadline:
            import select
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            if not triggered and until(out):
                triggered = True
            if proc.poll() is not None and not r:
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        os.close(master)
    return proc.returncode, out.decode(errors="replace")


def frames(out):
    """The lines of each redraw of a progress display."""
    return [f.count("\x1b[K") for f in re.split(r"\x1b\[\d+A", out)]


def test_watch_of_thousands_of_jobs_stays_one_screen(make_daemon, pg):
    from conftest import MIGRATECTL
    d = make_daemon().start()
    # tmap and t1 as make_tables makes them, for 2100 tenants of 20 rows
    pg.psql("DROP TABLE IF EXISTS tmap; DROP TABLE IF EXISTS t1;"
            " CREATE TABLE tmap (tenant_id text PRIMARY KEY,"
            "  org bigint NOT NULL);"
            " INSERT INTO tmap SELECT format('t%s', lpad(i::text, 4, '0')),"
            "  1000 + i FROM generate_series(0, 2099) i;"
            " CREATE TABLE t1 (id bigint PRIMARY KEY, tenant_id text NOT NULL,"
            "  n integer NOT NULL DEFAULT 0, org bigint,"
            "  bad boolean NOT NULL DEFAULT false);"
            " INSERT INTO t1 (id, tenant_id) SELECT g * 2100 + i + 1,"
            "  format('t%s', lpad(i::text, 4, '0'))"
            "  FROM generate_series(0, 2099) i, generate_series(0, 19) g;"
            " CREATE INDEX ON t1 (tenant_id, id)")
    write_plan(d, "many", counter_plan([counter_step("s1", batch=5,
                                                     sleep="0.02")]))
    reload(d)
    ids = ctl_json(d, "submit", "many", "--all", timeout=60)["jobs"]
    assert len(ids) == 2100
    plan = detailed(d)[0]
    assert sum(plan["tenants"].values()) == 2100, plan
    rows = 30
    seen = {"cancelled": False}

    def after_a_while(out):
        # a few redraws with jobs running, then end them all
        if out.count(b"\x1b[K") > 4 * rows and not seen["cancelled"]:
            seen["cancelled"] = True
            rc, o, e = d.ctl("cancel", "--all")
            assert rc == 0, (o, e)
        return seen["cancelled"]
    rc, out = pty_run([str(MIGRATECTL), "--socket", d.socket, "watch"],
                      rows, 100, after_a_while, 60)
    assert seen["cancelled"], out[-2000:]
    counts = frames(out)
    assert max(counts) <= rows - 1, counts
    # the jobs not yet ended when watch began: 2100 less the few that a
    # loaded machine finished first
    # (the first frames may come while the list is still being read)
    totals = [int(n) for n in re.findall(r"(\d+) jobs: [^\n]*running", out)]
    assert totals and 2000 <= max(totals) <= 2100, out[-2000:]
    assert "rows " in out


def test_show_prints_the_batch_size_in_effect(make_daemon, pg):
    d = make_daemon(batch_size=77).start()
    tenants = [tenant_name(0)]
    make_tables(pg, tenants, 10, tables=("t1", "t2"))
    write_plan(d, "sizes", counter_plan([
        counter_step("s1", table="t1", batch=5),
        counter_step("s2", table="t2", after="s1")]))
    reload(d)
    job = submit(d, "sizes", tenants)[0]
    wait_state(d, [job])
    shown = ctl_json(d, "show", str(job))["job"]
    assert [(s["name"], s["batch_size"]) for s in shown["steps"]] == [
        ("s1", 5), ("s2", 77)]
    rc, out, err = d.ctl("show", str(job))
    assert rc == 0, err
    assert re.search(r"Batch size:\s+77\n", out), out   # the last step's
    assert re.search(r"s1\s+done\s+10\s+10\s+\d+\s+2\s+5\s", out), out
    job2 = submit(d, "sizes", tenants, "--batch-size", "3")[0]
    wait_state(d, [job2])
    rc, out, err = d.ctl("show", str(job2))
    assert re.search(r"Batch size:\s+3 \(asked at submit\)", out), out
