"""Throttling and adaptive batch size end to end (issue 11): manual
throttles (on, off, --plan, --for, kept over a restart), the load query
([throttle] query, max, critical, a failing query, replication_lag), the
rows-per-second caps, batch sizes that adapt to batch_target, and
`migratectl set` changing a running job at its next batch.

A throttled job must wait between batches with nothing open on the
target: the tests look at pg_stat_activity and pg_locks while it waits.
"""

import json
import os
import subprocess
import time

from conftest import MIGRATECTL, clean_env, wait_for
from jobs_util import (
    assert_counters, counter_plan, counter_step, ctl_json, make_tables,
    show, step_of, submit, wait_job, wait_state, write_plan)
from safety_util import DENIED, calls_as
from test_lifecycle import NotifySocket

TENANTS = ["a", "b"]


def throttle_conf(d, **keys):
    """The daemon's config with a [throttle] section of keys."""
    text = d.conf_text() + "\n[throttle]\n" + "".join(
        "%s = %s\n" % (k, v) for k, v in keys.items())
    d.write_conf(text)


def slow_step_plan(batch=5, sleep=0.1, extra=""):
    return counter_plan([counter_step("one", "t1", batch=batch,
                                      sleep=sleep)]).replace(
        "[step one]", extra + "[step one]")


def get_throttle(d):
    return ctl_json(d, "throttle")["throttle"]


def workers_idle_in_transaction(pg):
    """Runner sessions with a transaction open, and row locks they hold."""
    open_tx = pg.psql(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE application_name LIKE 'migrated-worker-%'"
        " AND xact_start IS NOT NULL")
    locks = pg.psql(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a"
        " USING (pid) WHERE a.application_name LIKE 'migrated-worker-%'"
        " AND l.locktype IN ('relation', 'tuple', 'transactionid')"
        " AND l.relation IS DISTINCT FROM 'pg_locks'::regclass")
    return int(open_tx.strip()), int(locks.strip())


def rows_done(d, job):
    return show(d, job)["rows_done"]


# --- manual throttles -----------------------------------------------------

def test_throttle_on_waits_between_batches_holding_nothing(make_daemon, pg):
    make_tables(pg, TENANTS, 40)
    d = make_daemon()
    write_plan(d, "slow", slow_step_plan())
    d.start()
    assert get_throttle(d)["throttled"] is False
    [job] = submit(d, "slow", ["a"])
    wait_job(d, job, lambda j: j["rows_done"] >= 5, "first batch")
    state = ctl_json(d, "throttle", "on", "--reason", "peak hours")
    assert state["throttle"]["throttled"] is True
    [reason] = state["throttle"]["reasons"]
    assert reason["scope"] == "*" and reason["kind"] == "manual"
    assert "peak hours" in reason["reason"]
    # it finishes the batch it is in, then waits
    j = wait_job(d, job, lambda j: j["waiting"] is not None, "waiting")
    assert "peak hours" in j["waiting"] and j["waiting_since"]
    done = j["rows_done"]
    assert 0 < done < 40
    time.sleep(1.0)
    assert rows_done(d, job) == done
    assert workers_idle_in_transaction(pg) == (0, 0)
    # status, show, STATUS= say why
    rc, out, err = d.ctl("status")
    assert rc == 0 and "Throttled:" in out and "peak hours" in out, out
    rc, out, err = d.ctl("show", str(job))
    assert rc == 0 and "Waiting:" in out and "peak hours" in out, out
    status = d.status()
    assert status["throttle"]["throttled"] is True
    off = ctl_json(d, "throttle", "off")
    assert off["removed"] == 1 and off["throttle"]["throttled"] is False
    [j] = wait_state(d, [job]).values()
    assert j["waiting"] is None
    assert j["throttled_sec"] >= 1.0, j
    assert_counters(pg, ["a"], 40)
    # audited, with who
    log = ctl_json(d, "log")
    actions = [e["action"] for e in log["entries"]]
    assert "io.migrated.ThrottleOn" in actions
    assert "io.migrated.ThrottleOff" in actions


def test_throttle_survives_restart_and_per_plan(make_daemon, pg):
    make_tables(pg, TENANTS, 20)
    d = make_daemon()
    write_plan(d, "slow", slow_step_plan(sleep=0.02))
    write_plan(d, "other", slow_step_plan(sleep=0.02).replace(
        "t1", "t2"))
    make_tables(pg, TENANTS, 20, tables=("t1", "t2"))
    d.start()
    ctl_json(d, "throttle", "on", "--plan", "slow", "--reason", "slow down",
             "--for", "1h")
    d.stop()
    d.start()
    th = wait_for("the throttle read back", lambda: get_throttle(d)
                  if get_throttle(d)["reasons"] else None, timeout=10)
    [reason] = th["reasons"]
    assert reason["scope"] == "slow" and reason["until"] is not None
    [held] = submit(d, "slow", ["a"])
    [free] = submit(d, "other", ["a"])
    wait_state(d, [free])
    j = wait_job(d, held, lambda j: j["waiting"] is not None, "waiting")
    assert j["rows_done"] == 0 and "slow down" in j["waiting"]
    # an unknown plan and a bad duration are refused
    rc, out, err = d.ctl("throttle", "on", "--plan", "nope")
    assert rc != 0 and "nope" in err
    rc, out, err = d.ctl("throttle", "on", "--for", "soon")
    assert rc != 0 and "duration" in err
    ctl_json(d, "throttle", "off", "--plan", "slow")
    wait_state(d, [held])


def test_status_line_says_throttled(make_daemon, pg):
    d = make_daemon()
    ns = NotifySocket(os.path.join(str(d.dir), "notify"))
    try:
        d.start(env={"NOTIFY_SOCKET": ns.path}, wait=False)
        ns.wait_for("READY=1", daemon=d)
        ctl_json(d, "throttle", "on", "--reason", "backup running")

        def throttled_line():
            ns.receive(0.3)
            return any(l.startswith("STATUS=") and "backup running" in l
                       for l in ns.lines())
        wait_for("STATUS= with the reason", throttled_line, timeout=10)
        ctl_json(d, "throttle", "off")
    finally:
        ns.close()


# --- the load query -------------------------------------------------------

def test_load_query_max_and_critical(make_daemon, pg):
    make_tables(pg, TENANTS, 60)
    pg.psql("DROP TABLE IF EXISTS load_now; CREATE TABLE load_now (v float8);"
            " INSERT INTO load_now VALUES (7)")
    d = make_daemon()
    throttle_conf(d, query="SELECT v FROM load_now", interval="100ms",
                  max="5", critical="10")
    write_plan(d, "slow", slow_step_plan(sleep=0.2))
    d.start()
    th = wait_for("the load value", lambda: get_throttle(d)
                  if get_throttle(d)["load_value"] is not None else None,
                  timeout=10)
    assert th["load_value"] == 7 and th["reasons"][0]["kind"] == "load"
    [job] = submit(d, "slow", ["a"])
    j = wait_job(d, job, lambda j: j["waiting"] is not None, "waiting")
    assert "above max 5" in j["waiting"] and j["rows_done"] == 0
    pg.psql("UPDATE load_now SET v = 3")
    wait_job(d, job, lambda j: j["rows_done"] >= 5, "running again")
    # above critical: paused, and the audit log says why
    pg.psql("UPDATE load_now SET v = 20")
    wait_state(d, [job], states=("paused",))
    entries = ctl_json(d, "log")["entries"]
    crit = [e for e in entries if e["action"] == "throttle critical"]
    assert crit, entries
    assert "above critical 10" in crit[0]["result"]
    assert job in crit[0]["parameters"]["jobs"]
    pg.psql("UPDATE load_now SET v = 0")
    wait_for("no reason left", lambda: not get_throttle(d)["reasons"],
             timeout=10)
    ctl_json(d, "resume", str(job))
    wait_state(d, [job])
    assert_counters(pg, ["a"], 60)


def test_failing_load_query_throttles_and_says_so(make_daemon, pg):
    make_tables(pg, TENANTS, 10)
    d = make_daemon()
    throttle_conf(d, query="SELECT 1/0", interval="100ms", max="5")
    write_plan(d, "slow", slow_step_plan(sleep=0.01))
    d.start()
    wait_for("the load query's first run", lambda: get_throttle(d)[
        "load_error"] not in (None, "not run yet"), timeout=10)
    [job] = submit(d, "slow", ["a"])
    j = wait_job(d, job, lambda j: j["waiting"] is not None, "waiting")
    assert "load query failed" in j["waiting"]
    assert "division by zero" in j["waiting"]
    th = get_throttle(d)
    assert "division by zero" in th["load_error"]
    assert th["reasons"][0]["kind"] == "load_failed"
    assert rows_done(d, job) == 0
    # replication lag, ready made: no standbys here, so 0 and no wait
    throttle_conf(d, query="replication_lag", interval="100ms", max="5")
    d.reload()
    wait_state(d, [job])
    assert get_throttle(d)["load_value"] == 0


# --- rows per second --------------------------------------------------------

def test_rows_per_second_caps(make_daemon, pg):
    make_tables(pg, TENANTS, 120)
    d = make_daemon()
    throttle_conf(d, max_rows_per_second="100")
    write_plan(d, "fast", counter_plan([counter_step("one", "t1",
                                                     batch=20)]))
    d.start()
    t0 = time.monotonic()
    jobs = submit(d, "fast", TENANTS)
    wait_state(d, jobs, timeout=60)
    elapsed = time.monotonic() - t0
    # 240 rows at 100 rows/s: about 2.4 s (the first batch goes at once)
    assert elapsed >= 1.5, elapsed
    assert elapsed < 20, elapsed
    assert_counters(pg, TENANTS, 120)


def test_plan_rows_per_second_and_set(make_daemon, pg):
    make_tables(pg, TENANTS, 60)
    d = make_daemon()
    write_plan(d, "capped", counter_plan(
        [counter_step("one", "t1", batch=10)]).replace(
        "description = counter test plan",
        "description = counter test plan\nmax_rows_per_second = 20"))
    d.start()
    t0 = time.monotonic()
    [job] = submit(d, "capped", ["a"])
    wait_job(d, job, lambda j: j["rows_done"] >= 20, "two batches")
    # the job's own cap wins when lower... and 0 lifts it; the plan's stays
    ctl_json(d, "set", str(job), "--max-rows-per-second", "1000")
    wait_state(d, [job], timeout=30)
    elapsed = time.monotonic() - t0
    assert elapsed >= 1.5, elapsed  # 60 rows at 20 rows/s: about 2.5 s
    assert show(d, job)["max_rows_per_second"] == 1000


# --- adaptive batch size ----------------------------------------------------

def test_batch_size_adapts_up_and_down(make_daemon, pg):
    make_tables(pg, TENANTS, 400, tables=("t1", "t2"))
    # t2's rows each sleep 10 ms in the apply: a slow table
    pg.psql("CREATE OR REPLACE FUNCTION slow_row(ms int) RETURNS boolean"
            " LANGUAGE sql AS 'SELECT true FROM pg_sleep(ms / 1000.0)'")
    fast = counter_step("fast", "t1", batch=10)
    slow = counter_step("slow", "t2", after="fast", batch=100).replace(
        "AND id <= :hi", "AND id <= :hi AND slow_row(10)")
    plan = counter_plan([fast, slow]).replace(
        "description = counter test plan",
        "description = counter test plan\nbatch_target = 300ms\n"
        "batch_min = 5\nbatch_max = 150")
    d = make_daemon()
    write_plan(d, "adapt", plan)
    d.start()
    [job] = submit(d, "adapt", ["a"])
    seen = []

    def slow_step_started():
        j = show(d, job)
        seen.append(step_of(j, "fast")["batch_size"])
        return j if step_of(j, "slow")["batches"] >= 2 else None
    j = wait_for("the slow step's batches", slow_step_started, timeout=60)
    fast_sizes = [s for s in seen if s is not None]
    assert fast_sizes and min(fast_sizes) >= 10
    # grew from 10, by at most 20% a batch, up to batch_max
    final_fast = step_of(j, "fast")["batch_size"]
    assert final_fast > 10, seen
    assert final_fast <= 150
    # 100 rows of 10 ms took 1 s against 300 ms: cut at once, to about 30
    slow_size = step_of(j, "slow")["batch_size"]
    assert 5 <= slow_size <= 40, j
    rc, out, err = d.ctl("show", str(job))
    assert "BATCH" in out
    wait_state(d, [job], timeout=90)
    assert_counters(pg, ["a"], 400, table="t1")
    assert_counters(pg, ["a"], 400, table="t2")


def test_set_batch_size_takes_effect_at_next_batch(make_daemon, pg):
    make_tables(pg, TENANTS, 200)
    d = make_daemon()
    write_plan(d, "slow", slow_step_plan(batch=5, sleep=0.2))
    d.start()
    [job] = submit(d, "slow", ["a"])
    j = wait_job(d, job, lambda j: j["rows_done"] >= 5, "a batch")
    assert step_of(j, "one")["batch_size"] == 5
    out = ctl_json(d, "set", str(job), "--batch-size", "25")
    assert out["job"]["batch_size"] == 25
    j = wait_job(d, job, lambda j: step_of(j, "one")["batch_size"] == 25,
                 "the new size in effect")
    rc, out, err = d.ctl("show", str(job))
    assert "Batch size:" in out and "25 (step one, in effect)" in out, out
    before = j["rows_done"]
    j = wait_job(d, job, lambda j: j["rows_done"] > before, "the next batch")
    assert j["rows_done"] - before in (5, 25, 30), (before, j["rows_done"])
    # and so on: the batches after it are 25 rows each
    j = wait_job(d, job, lambda j: j["rows_done"] >= before + 50,
                 "two more batches")
    assert (j["rows_done"] - before) % 25 in (0, 5), j["rows_done"]
    wait_state(d, [job], timeout=60)
    assert_counters(pg, ["a"], 200)
    # a finished job cannot be changed; nor can a job that is not there
    rc, out, err = d.ctl("set", str(job), "--batch-size", "10")
    assert rc != 0 and "succeeded" in err, err
    rc, out, err = d.ctl("set", "99999", "--batch-size", "10")
    assert rc != 0
    rc, out, err = d.ctl("set", str(job))
    assert rc != 0 and "--batch-size" in err


def test_watch_shows_why_a_job_waits(make_daemon, pg):
    make_tables(pg, TENANTS, 20)
    d = make_daemon()
    write_plan(d, "slow", slow_step_plan(sleep=0.05))
    d.start()
    ctl_json(d, "throttle", "on", "--reason", "night batch")
    [job] = submit(d, "slow", ["a"])
    wait_job(d, job, lambda j: j["waiting"] is not None, "waiting")
    # watch --json: one line per update, the job as ShowJob has it
    proc = subprocess.Popen([str(MIGRATECTL), "--socket", d.socket,
                             "--json", "watch", str(job)],
                            stdout=subprocess.PIPE, text=True,
                            env=clean_env())
    try:
        line = proc.stdout.readline()
        info = json.loads(line)
        assert "night batch" in info["waiting"], info
        assert info["waiting_since"], info
    finally:
        ctl_json(d, "throttle", "off")
        proc.wait(30)
    wait_state(d, [job])


def test_throttle_and_set_are_for_admins_and_audited(make_daemon, pg):
    d = make_daemon(socket_mode="0666")
    os.chmod(str(d.dir), 0o755)
    d.start()
    replies = calls_as("nobody", d.socket, [
        ("ThrottleOn", {"reason": "not mine"}),
        ("ThrottleOff", {}),
        ("SetJob", {"id": 1, "batch_size": 10}),
        ("GetThrottle", {}),
    ])
    assert [r.get("error") for r in replies[:3]] == [DENIED] * 3, replies
    assert "error" not in replies[3], replies
    assert get_throttle(d)["throttled"] is False
    entries = ctl_json(d, "log")["entries"]
    refused = [e for e in entries if e["action"] == "io.migrated.ThrottleOn"]
    assert refused and refused[0]["result"] == DENIED, refused
