"""The jobs engine end to end (issue 3): plans, submit/list/show, the data
each batch writes, operator control (pause, resume, cancel, retry, wait,
watch) and a responsive control socket while batches run.

Every test runs the real daemon against the session's PostgreSQL and checks
what an operator would notice: job states, per-step progress, and above all
the rows in the tables (counter columns that every batch increments).
"""

import json
import time

import pytest

from conftest import MIGRATED, run, wait_for
from jobs_util import (
    assert_counters, batches_for, counter_plan, counter_step,
    ctl_json, keys_of, list_jobs, lit, make_tables, plan_names, reload,
    show, step_of, submit, timed_status, wait_job, wait_state, write_plan)

TENANTS = ["a", "b", "c"]
ROWS = 50


def two_step_plan(batch=None, sleep=None):
    """cnt: step one on t1 (also sets org), then step two on t2."""
    return counter_plan([
        counter_step("one", "t1", org=True, batch=batch, sleep=sleep),
        counter_step("two", "t2", after="one", batch=batch, sleep=sleep)])


def slow_plan(batch=10, sleep=0.05):
    """slow: one step on t1, batch rows per batch, each batch sleeping."""
    return counter_plan([counter_step("one", "t1", batch=batch,
                                      sleep=sleep)])


@pytest.fixture
def jd(make_daemon, pg):
    """A daemon with tables t1, t2 (tenants a, b, c; 50 rows each) and the
    plans cnt (two steps) and slow (one slow step)."""
    make_tables(pg, TENANTS, ROWS, tables=("t1", "t2"))
    d = make_daemon()
    write_plan(d, "cnt", two_step_plan())
    write_plan(d, "slow", slow_plan())
    return d.start()


def ids_of(jobs):
    return [j["id"] for j in jobs]


# --- plans -----------------------------------------------------------------

BAD_PLANS = {
    # name: (text, line, message)
    "badparam": ("[plan]\n"
                 "tenants = SELECT tenant_id FROM tmap\n"
                 "\n"
                 "[step one]\n"
                 "table = t1\n"
                 "key = id\n"
                 "where = tenant_id = :tenant\n"
                 "apply = UPDATE t1 SET n = n + 1\n"
                 "        WHERE tenant_id = :tenant AND org = :nope\n"
                 "          AND id > :lo AND id <= :hi\n",
                 9, "unknown parameter :nope (known: tenant, lo, hi)"),
    "cycle": ("[plan]\n"
              "tenants = SELECT tenant_id FROM tmap\n"
              "\n"
              "[step a]\n"
              "after = b\n"
              "table = t1\n"
              "key = id\n"
              "apply = UPDATE t1 SET n = n + 1 WHERE id > :lo AND id <= :hi\n"
              "\n"
              "[step b]\n"
              "after = a\n"
              "table = t1\n"
              "key = id\n"
              "apply = UPDATE t1 SET n = n + 1 WHERE id > :lo AND id <= :hi\n",
              5, "dependency cycle in after: a -> b -> a"),
    "unknownafter": ("[plan]\n"
                     "tenants = SELECT tenant_id FROM tmap\n"
                     "\n"
                     "[step a]\n"
                     "table = t1\n"
                     "key = id\n"
                     "apply = UPDATE t1 SET n = n + 1"
                     " WHERE id > :lo AND id <= :hi\n"
                     "\n"
                     "[step b]\n"
                     "after = a, zzz\n"
                     "table = t1\n"
                     "key = id\n"
                     "apply = UPDATE t1 SET n = n + 1"
                     " WHERE id > :lo AND id <= :hi\n",
                     10, "unknown step zzz in after (steps: a, b)"),
}


def bad_plan_errors(d):
    return ["%s/%s.plan:%d: %s" % (d.plan_dir, name, line, msg)
            for name, (_, line, msg) in sorted(BAD_PLANS.items())]


def test_plans_load_from_plan_dir_on_sighup_and_reload(make_daemon, pg):
    make_tables(pg, TENANTS, ROWS, tables=("t1", "t2"))
    d = make_daemon().start()
    assert plan_names(d) == []
    write_plan(d, "cnt", two_step_plan(batch=9))
    d.reload()                                  # SIGHUP
    wait_for("plan cnt after SIGHUP", lambda: plan_names(d) == ["cnt"], 10)
    write_plan(d, "slow", slow_plan())
    reload(d)                                   # io.migrated.Reload
    assert plan_names(d) == ["cnt", "slow"]
    assert d.status()["plans"] == 2

    rc, out, err = d.ctl("plans")
    assert rc == 0, err
    rows = [line.split(None, 2) for line in out.splitlines()]
    assert rows == [["NAME", "STEPS", "DESCRIPTION"],
                    ["cnt", "2", "counter test plan"],
                    ["slow", "1", "counter test plan"]], out

    plan = ctl_json(d, "plans", "cnt")["plan"]
    assert plan["name"] == "cnt"
    assert plan["file"] == "%s/cnt.plan" % d.plan_dir
    assert plan["description"] == "counter test plan"
    assert plan["params"] == ["tenant", "org"]
    assert plan["steps"] == [
        {"name": "one", "table": "t1", "key": "id", "after": [], "batch": 9},
        {"name": "two", "table": "t2", "key": "id", "after": ["one"],
         "batch": 9}]

    # A removed plan goes away at the next reload.
    (d.dir / "plans" / "slow.plan").unlink()
    reload(d)
    assert plan_names(d) == ["cnt"]


def test_check_reports_bad_plans_as_file_line_message(make_daemon, pg):
    d = make_daemon()
    write_plan(d, "good", two_step_plan())
    rc, out, err = run([MIGRATED, "-n", "-c", d.conf_path])
    assert rc == 0, err
    assert "1 plan(s) and 0 schema set(s) are valid" in out, out

    for name, (text, _, _) in BAD_PLANS.items():
        write_plan(d, name, text)
    rc, out, err = run([MIGRATED, "-n", "-c", d.conf_path])
    assert rc == 1, (out, err)
    assert sorted(err.splitlines()) == bad_plan_errors(d), err
    assert "valid" not in out, out


def test_bad_plan_in_running_daemon_leaves_good_plans(jd, pg):
    """Reload is all or nothing: with a bad plan in plan_dir it fails, names
    every bad file:line, and the plans already loaded stay in force."""
    write_plan(jd, "extra", two_step_plan())
    for name, (text, _, _) in BAD_PLANS.items():
        write_plan(jd, name, text)
    reply = jd.call("io.migrated.Reload", {})
    assert reply.get("error") == "io.migrated.ReloadFailed", reply
    assert "3 plan(s)" in reply["parameters"]["message"], reply
    jd.check_alive()
    assert plan_names(jd) == ["cnt", "slow"]
    for line in bad_plan_errors(jd):
        assert "plan not loaded: %s" % line in jd.log(), jd.log()
    for name in list(BAD_PLANS) + ["extra"]:
        reply = jd.call("io.migrated.ShowPlan", {"name": name})
        assert reply == {"error": "io.migrated.NoSuchPlan",
                         "parameters": {"name": name}}, reply
    # SIGHUP: the same, logged.
    jd.reload()
    jd.wait_log(r"reload failed: 3 plan\(s\)")
    jd.check_alive()
    assert plan_names(jd) == ["cnt", "slow"]
    # The good plans still work.
    ids = submit(jd, "cnt", ["a"])
    wait_state(jd, ids)
    assert_counters(pg, ["a"], ROWS, "t1", others=["b", "c"])
    # Once the bad files are gone the new good plan loads.
    for name in BAD_PLANS:
        (jd.dir / "plans" / ("%s.plan" % name)).unlink()
    reload(jd)
    assert plan_names(jd) == ["cnt", "extra", "slow"]


def test_unknown_plan(jd):
    reply = jd.call("io.migrated.ShowPlan", {"name": "nope"})
    assert reply == {"error": "io.migrated.NoSuchPlan",
                     "parameters": {"name": "nope"}}, reply
    rc, out, err = jd.ctl("plans", "nope")
    assert rc == 1, (out, err)
    assert "nope" in err, err
    reply = jd.call("io.migrated.Submit", {"plan": "nope", "tenants": ["a"]})
    assert reply == {"error": "io.migrated.NoSuchPlan",
                     "parameters": {"name": "nope"}}, reply
    rc, out, err = jd.ctl("submit", "nope", "--tenant", "a")
    assert rc == 1, (out, err)
    assert list_jobs(jd) == []


# --- submit, list, show -------------------------------------------------------

def test_submit_one_job_per_tenant_and_data(jd, pg):
    ids = submit(jd, "cnt", ["a", "b"])
    assert len(ids) == 2 and ids[0] < ids[1], ids
    jobs = wait_state(jd, ids)
    assert [jobs[i]["tenant"] for i in ids] == ["a", "b"]
    for i in ids:
        j = jobs[i]
        assert j["plan"] == "cnt"
        assert [s["name"] for s in j["steps"]] == ["one", "two"]
        assert all(s["state"] == "done" for s in j["steps"]), j
        assert (j["rows_done"], j["rows_estimated"]) == (2 * ROWS, 2 * ROWS)
        assert j["error"] is None and j["finished"] is not None
    for table in ("t1", "t2"):
        assert_counters(pg, ["a", "b"], ROWS, table, others=["c"])
    # status counts them (refreshed every second) and the rows done.
    status = wait_for("status to count 2 succeeded jobs", lambda: (
        lambda st: st if st["jobs"]["succeeded"] == 2 else None)(
            jd.status()), 5)
    assert status["rows_done"] == 4 * ROWS, status
    assert status["jobs"]["running"] == status["jobs"]["queued"] == 0
    # :org from the params query lands in the rows of its tenant only.
    got = pg.psql("SELECT tenant_id, org, count(*) FROM t1"
                  " GROUP BY 1, 2 ORDER BY 1").splitlines()
    assert got == ["a|1000|%d" % ROWS, "b|1001|%d" % ROWS, "c||%d" % ROWS]


def test_submit_all_uses_the_tenants_query(jd, pg):
    ids = submit(jd, "cnt", (), "--all")
    assert len(ids) == 3, ids
    jobs = wait_state(jd, ids)
    # tmap ORDER BY tenant_id: one job each, in the query's order.
    assert [jobs[i]["tenant"] for i in ids] == TENANTS
    for table in ("t1", "t2"):
        assert_counters(pg, TENANTS, ROWS, table)


def test_steps_subset_runs_only_those_steps(jd, pg):
    # two is after one: alone, only once one has succeeded for the tenant
    reply = jd.call("io.migrated.Submit", {"plan": "cnt", "tenants": ["a"],
                                           "steps": ["two"]})
    assert (reply.get("error"), reply.get("parameters")) == (
        "io.migrated.StepDependency",
        {"plan": "cnt", "step": "two", "after": "one", "tenant": "a"}), reply
    [job] = submit(jd, "cnt", ["a"], "--steps", "one")
    j = wait_state(jd, [job])[job]
    assert [s["name"] for s in j["steps"]] == ["one"], j
    assert_counters(pg, ["a"], ROWS, "t1", others=["b", "c"])
    assert_counters(pg, [], ROWS, "t2", others=TENANTS)
    [job] = submit(jd, "cnt", ["a"], "--steps", "two")
    j = wait_state(jd, [job])[job]
    assert [s["name"] for s in j["steps"]] == ["two"], j
    assert_counters(pg, ["a"], ROWS, "t1", others=["b", "c"])
    assert_counters(pg, ["a"], ROWS, "t2", others=["b", "c"])
    # Given in any order, steps run in dependency order.
    [job] = submit(jd, "cnt", ["b"], "--steps", "two,one")
    j = wait_state(jd, [job])[job]
    assert [s["name"] for s in j["steps"]] == ["one", "two"], j
    assert_counters(pg, ["a", "b"], ROWS, "t1", others=["c"])
    assert_counters(pg, ["a", "b"], ROWS, "t2", others=["c"])


def test_steps_run_in_dependency_order(make_daemon, pg):
    """Step two is written first but runs after step one: when it runs,
    every t1 row of the tenant is already done (its apply records how many
    were, in org)."""
    make_tables(pg, TENANTS, ROWS, tables=("t1", "t2"))
    d = make_daemon()
    write_plan(d, "order", counter_plan([
        "[step two]\n"
        "after = one\n"
        "table = t2\n"
        "key = id\n"
        "where = tenant_id = :tenant\n"
        "apply = UPDATE t2 SET n = n + 1,\n"
        "          org = (SELECT count(*) FROM t1\n"
        "                 WHERE tenant_id = :tenant AND n = 1)\n"
        "        WHERE tenant_id = :tenant AND id > :lo AND id <= :hi\n"
        "batch = 10\n",
        counter_step("one", "t1", batch=10)], params=False))
    d.start()
    assert [s["name"] for s in d.call("io.migrated.ShowPlan", {
        "name": "order"})["parameters"]["plan"]["steps"]] == ["one", "two"]
    [job] = submit(d, "order", ["b"])
    j = wait_state(d, [job])[job]
    assert [s["name"] for s in j["steps"]] == ["one", "two"]
    assert pg.psql("SELECT DISTINCT org FROM t2 WHERE tenant_id = 'b'"
                   ).split() == [str(ROWS)]
    for table in ("t1", "t2"):
        assert_counters(pg, ["b"], ROWS, table, others=["a", "c"])


def test_unknown_step_is_an_error(jd, pg):
    rc, out, err = jd.ctl("submit", "cnt", "--tenant", "a", "--steps",
                          "one,zzz")
    assert rc == 1, (out, err)
    assert "zzz" in err, err
    reply = jd.call("io.migrated.Submit", {"plan": "cnt", "tenants": ["a"],
                                           "steps": ["zzz"]})
    assert reply == {"error": "io.migrated.NoSuchStep",
                     "parameters": {"plan": "cnt", "step": "zzz"}}, reply
    assert list_jobs(jd) == []
    assert_counters(pg, [], ROWS, "t1", others=TENANTS)


def test_batch_sizes_and_show_json(make_daemon, pg):
    """--batch-size beats the step's batch, which beats the daemon's
    batch_size; batches = ceil(rows / batch) exactly."""
    make_tables(pg, TENANTS, ROWS, tables=("t1", "t2"))
    d = make_daemon(batch_size=20)
    write_plan(d, "cnt", two_step_plan())              # no batch in steps
    write_plan(d, "cnt9", two_step_plan(batch=9))
    d.start()
    [j_override] = submit(d, "cnt9", ["a"], "--batch-size", "7")
    [j_step] = submit(d, "cnt9", ["b"])
    [j_daemon] = submit(d, "cnt", ["c"])
    wait_state(d, [j_override, j_step, j_daemon])
    for job, tenant, batch in ((j_override, "a", 7), (j_step, "b", 9),
                               (j_daemon, "c", 20)):
        j = ctl_json(d, "show", str(job))["job"]
        assert j["tenant"] == tenant
        last_key = str(keys_of(TENANTS, tenant, ROWS)[-1])
        assert [s["name"] for s in j["steps"]] == ["one", "two"]
        for s in j["steps"]:
            got = {k: s.get(k) for k in ("state", "rows_done",
                                         "rows_estimated", "batches",
                                         "checkpoint")}
            assert got == {"state": "done", "rows_done": ROWS,
                           "rows_estimated": ROWS,
                           "batches": batches_for(ROWS, batch),
                           "checkpoint": last_key}, (batch, j)
    assert show(d, j_override)["batch_size"] == 7
    assert show(d, j_step)["batch_size"] == 0
    for table in ("t1", "t2"):
        assert_counters(pg, TENANTS, ROWS, table)


def test_duplicate_unfinished_submit_is_refused(jd, pg):
    # 50 batches of one row, 50 ms each: it runs while we submit again.
    [job] = submit(jd, "slow", ["a"], "--batch-size", "1")
    wait_job(jd, job, lambda j: j["state"] == "running", "running")
    reply = jd.call("io.migrated.Submit", {"plan": "slow",
                                           "tenants": ["b", "a"]})
    assert reply == {"error": "io.migrated.JobExists",
                     "parameters": {"plan": "slow", "tenant": "a",
                                    "id": job}}, reply
    rc, out, err = jd.ctl("submit", "slow", "--tenant", "a")
    assert rc == 1, (out, err)
    assert "JobExists" in err or "already" in err, err
    # Nothing was queued for b either: a refused submit adds no job.
    assert [j["id"] for j in list_jobs(jd)] == [job]
    # A paused job is unfinished too.
    ctl_json(jd, "pause", str(job))
    reply = jd.call("io.migrated.Submit", {"plan": "slow", "tenants": ["a"]})
    assert reply.get("error") == "io.migrated.JobExists", reply
    # Another plan for the same tenant is fine, and so is the same plan
    # once the job has ended.
    [other] = submit(jd, "cnt", ["a"])
    ctl_json(jd, "cancel", str(job))
    [again] = submit(jd, "slow", ["a"])
    wait_state(jd, [other, again])


def test_list_filters(jd, pg):
    # cnt: a, b succeed; slow: c succeeds; broken: a fails at once.
    write_plan(jd, "broken", counter_plan([counter_step("one", "nosuch")]))
    reload(jd)
    cnt = submit(jd, "cnt", ["a", "b"])
    [slow] = submit(jd, "slow", ["c"], "--batch-size", "50")
    [broken] = submit(jd, "broken", ["a"])
    wait_state(jd, cnt + [slow])
    wait_state(jd, [broken], ("failed",))

    def listed(*args):
        return ids_of(ctl_json(jd, "list", *args)["jobs"])

    everything = sorted(cnt + [slow, broken], reverse=True)
    assert listed() == everything                         # newest first
    assert listed("--state", "failed") == [broken]
    assert listed("--state", "succeeded") == sorted(cnt + [slow],
                                                    reverse=True)
    assert listed("--state", "running") == []
    assert listed("--plan", "cnt") == sorted(cnt, reverse=True)
    assert listed("--tenant", "a") == sorted([cnt[0], broken], reverse=True)
    assert listed("--plan", "cnt", "--tenant", "a") == [cnt[0]]
    assert listed("--plan", "cnt", "--state", "failed") == []
    assert listed("--limit", "2") == everything[:2]
    # paging: --before the smallest id of a page gives the next page
    assert listed("--limit", "2", "--before", str(everything[1])) == \
        everything[2:4]
    assert listed("--before", str(min(everything))) == []
    assert listed("--tenant", "nobody") == []
    # the audit log pages the same way
    six = [e["id"] for e in ctl_json(jd, "log", "--limit", "6")["entries"]]
    assert len(six) == 6 and six == sorted(six, reverse=True)
    older = ctl_json(jd, "log", "--limit", "3", "--before", str(six[2]))
    assert [e["id"] for e in older["entries"]] == six[3:]
    # Human output: one line per job under a header.
    rc, out, err = jd.ctl("list", "--state", "failed")
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].split()[:4] == [
        "ID", "PLAN", "TENANT", "STATE"], out
    assert lines[1].split()[:4] == [str(broken), "broken", "a", "failed"]


def test_priority_then_fifo(make_daemon, pg):
    tenants = ["blocker", "p0a", "p5a", "p0b", "p5b", "p10", "q1", "q2"]
    make_tables(pg, tenants, 5)
    d = make_daemon(workers=1)
    write_plan(d, "cnt", counter_plan([counter_step("one", sleep=0.01)]))
    write_plan(d, "block", counter_plan([counter_step("one", sleep=2.0,
                                                      batch=100)]))
    d.start()
    # The only worker is busy while the others are queued.
    [blocker] = submit(d, "block", ["blocker"])
    wait_job(d, blocker, lambda j: j["state"] == "running", "running")
    queued = {}
    for tenant, prio in (("p0a", 0), ("p5a", 5), ("p0b", 0), ("p5b", 5),
                         ("p10", 10)):
        [queued[tenant]] = submit(d, "cnt", [tenant], "--priority", str(prio))
    # One submit, several tenants: FIFO in the order given.
    q = submit(d, "cnt", ["q2", "q1"], "--priority", "-1")
    assert q[0] < q[1]
    assert show(d, blocker)["state"] == "running", (
        "the blocker must still run while the others are queued")
    wait_state(d, [blocker] + list(queued.values()) + q)
    order = pg.psql("SELECT tenant FROM migrated.jobs"
                    " ORDER BY started").split()
    assert order == ["blocker", "p10", "p5a", "p5b", "p0a", "p0b", "q2",
                     "q1"], order
    # One worker: each job started after the previous one finished.
    overlap = pg.psql("SELECT count(*) FROM migrated.jobs a"
                      " JOIN migrated.jobs b ON a.id <> b.id"
                      " AND a.started < b.started AND b.started < a.finished")
    assert overlap.strip() == "0"
    for tenant in queued:
        assert show(d, queued[tenant])["priority"] == {
            "p0a": 0, "p5a": 5, "p0b": 0, "p5b": 5, "p10": 10}[tenant]
    assert_counters(pg, tenants, 5)


# --- data correctness -------------------------------------------------------------

WEIRD = ["x'; DROP TABLE t1; --", "o'brien", "semi;colon", "ünïcødé 🚀",
         'dq"uote', "back\\slash", "$1", ":tenant", "a) OR (1=1", " spaced "]


def test_tenant_names_are_data_never_sql(make_daemon, pg):
    tenants = ["plain"] + WEIRD
    rows = {t: 7 for t in tenants}
    rows["x'; DROP TABLE t1; --"] = 0        # in tmap, no rows
    make_tables(pg, tenants, rows, tables=("t1", "t2"))
    d = make_daemon()
    write_plan(d, "cnt", two_step_plan(batch=3))
    d.start()
    # Only the weird tenants, so "plain" shows whether anything leaked.
    ids = submit(d, "cnt", WEIRD)
    jobs = wait_state(d, ids)
    assert sorted(j["tenant"] for j in jobs.values()) == sorted(WEIRD)
    assert pg.psql("SELECT to_regclass('t1') IS NOT NULL").strip() == "t"
    for table in ("t1", "t2"):
        assert_counters(pg, WEIRD, rows, table, others=["plain"])
    injected = [j for j in jobs.values()
                if j["tenant"] == "x'; DROP TABLE t1; --"][0]
    assert injected["rows_done"] == 0 and injected["rows_estimated"] == 0
    # Each tenant's org, bound from the params query, is in its own rows.
    got = dict(line.rsplit("|", 1) for line in pg.psql(
        "SELECT DISTINCT t1.tenant_id, t1.org = m.org FROM t1"
        " JOIN tmap m USING (tenant_id)"
        " WHERE t1.tenant_id <> 'plain'").splitlines())
    assert got == {t: "t" for t in WEIRD if rows[t]}, got
    # The names round-trip through list --tenant and the human output.
    for t in WEIRD:
        listed = ctl_json(d, "list", "--tenant", t)["jobs"]
        assert [j["tenant"] for j in listed] == [t]


def test_missing_params_row_fails_the_job(jd, pg):
    [job] = submit(jd, "cnt", ["nomap"])
    j = wait_state(jd, [job], ("failed",))[job]
    assert "params query returned 0 rows" in j["error"], j
    assert_counters(pg, [], ROWS, "t1", others=TENANTS)


# --- operator control -------------------------------------------------------------

SLOW_ROWS = 300


@pytest.fixture
def sd(make_daemon, pg):
    """A daemon with the slow plan: tenants a, b with 300 rows in t1, batches
    of 10 rows that sleep 50 ms (30 batches, about 2 s per job)."""
    make_tables(pg, ["a", "b"], SLOW_ROWS)
    d = make_daemon()
    write_plan(d, "slow", slow_plan())
    return d.start()


def assert_data_matches_checkpoint(pg, job, tenants, tenant):
    """The rows up to the checkpoint have n = 1, the rest n = 0, and
    rows_done counts exactly the rows up to the checkpoint."""
    step = job["steps"][0]
    cp = step["checkpoint"]
    keys = keys_of(tenants, tenant, SLOW_ROWS)
    done = [k for k in keys if cp is not None and k <= int(cp)]
    got = pg.psql("SELECT n, count(*) FROM t1 WHERE tenant_id = %s"
                  " GROUP BY n ORDER BY n" % lit(tenant)).split()
    want = (["0|%d" % (len(keys) - len(done))] if len(done) < len(keys)
            else []) + (["1|%d" % len(done)] if done else [])
    assert got == want, (cp, step)
    assert step["rows_done"] == len(done), step
    assert step["batches"] == batches_for(len(done), 10), step


def progressed(n):
    return lambda j: j["state"] == "running" and j["rows_done"] >= n


def test_pause_stops_the_checkpoint_and_resume_finishes(sd, pg):
    [job] = submit(sd, "slow", ["a"])
    wait_job(sd, job, progressed(30), "3 batches done")
    reply = ctl_json(sd, "pause", str(job))
    assert reply == {"jobs": [job]}
    assert show(sd, job)["state"] == "paused"
    # The runner lets go after at most its current batch.
    wait_for("the worker to let go of the paused job",
             lambda: sd.status()["workers_busy"] == 0, 5)
    before = show(sd, job)
    time.sleep(1.0)
    after = show(sd, job)
    assert after["state"] == "paused"
    assert after["steps"] == before["steps"], "checkpoint moved while paused"
    assert 30 <= after["rows_done"] < SLOW_ROWS, after
    assert_data_matches_checkpoint(pg, after, ["a", "b"], "a")
    # Resuming something not paused is refused.
    reply = sd.call("io.migrated.Resume", {"ids": [job + 100]})
    assert reply == {"error": "io.migrated.NoSuchJob",
                     "parameters": {"id": job + 100}}, reply

    assert ctl_json(sd, "resume", str(job)) == {"jobs": [job]}
    j = wait_state(sd, [job])[job]
    step = j["steps"][0]
    assert (step["rows_done"], step["batches"]) == (
        SLOW_ROWS, batches_for(SLOW_ROWS, 10)), step
    assert_counters(pg, ["a"], SLOW_ROWS, others=["b"])
    rc, out, err = sd.ctl("resume", str(job))
    assert rc == 1 and "InvalidJobState" in err, (rc, out, err)


def test_plan_that_gained_a_param_fails_a_resumed_job_cleanly(sd, pg):
    """A job keeps the params row it started with. When the plan, edited
    and reloaded meanwhile, uses a column that row lacks, the resumed job
    fails with a message that names it, before its batch opens a
    transaction: the failure is committed, nothing is left idle in a
    transaction holding the job's row, and the control socket answers."""
    [job] = submit(sd, "slow", ["a"])
    wait_job(sd, job, progressed(30), "3 batches done")
    assert ctl_json(sd, "pause", str(job)) == {"jobs": [job]}
    wait_for("the worker to let go of the paused job",
             lambda: sd.status()["workers_busy"] == 0, 5)
    step = counter_step("one", "t1", batch=10).replace(
        "n = n + 1", "n = n + 1, org = :org2")
    write_plan(sd, "slow", "[plan]\n"
               "tenants = SELECT tenant_id FROM tmap ORDER BY tenant_id\n"
               "params = SELECT org, org + 1 AS org2 FROM tmap"
               " WHERE tenant_id = :tenant\n\n" + step)
    reload(sd)
    assert ctl_json(sd, "resume", str(job)) == {"jobs": [job]}
    j = wait_state(sd, [job], states=("failed",))[job]
    assert ":org2" in j["error"] and "plan changed" in j["error"], j
    assert_data_matches_checkpoint(pg, j, ["a", "b"], "a")
    assert pg.psql("SELECT count(*) FROM pg_stat_activity"
                   " WHERE datname = 'migrated'"
                   " AND state LIKE 'idle in transaction%'").strip() == "0"
    # the job's row is free: a transition on it answers at once
    assert ctl_json(sd, "retry", str(job), timeout=10) == {"jobs": [job]}
    assert wait_state(sd, [job], states=("failed",))[job]["error"] == (
        j["error"])


def test_pause_all_and_resume_all(sd, pg):
    ids = submit(sd, "slow", ["a", "b"])
    for job in ids:
        wait_job(sd, job, progressed(10), "a batch done")
    assert sorted(ctl_json(sd, "pause", "--all")["jobs"]) == ids
    wait_for("the workers to let go",
             lambda: sd.status()["workers_busy"] == 0, 5)
    for job in ids:
        assert_data_matches_checkpoint(pg, show(sd, job), ["a", "b"],
                                       show(sd, job)["tenant"])
    assert sorted(ctl_json(sd, "resume", "--all")["jobs"]) == ids
    wait_state(sd, ids)
    assert_counters(pg, ["a", "b"], SLOW_ROWS)


def test_cancel_keeps_committed_work_and_retry_continues(make_daemon, pg):
    make_tables(pg, ["a", "b"], SLOW_ROWS)
    d = make_daemon(workers=1)
    write_plan(d, "slow", slow_plan())
    d.start()
    running, queued = submit(d, "slow", ["a", "b"])
    wait_job(d, running, progressed(30), "3 batches done")
    assert show(d, queued)["state"] == "queued"
    # The queued one never starts once cancelled.
    assert ctl_json(d, "cancel", str(queued), str(running)) == {
        "jobs": [running, queued]}
    wait_for("the worker to let go", lambda: d.status()["workers_busy"] == 0,
             5)
    time.sleep(0.5)
    jobs = {j: show(d, j) for j in (running, queued)}
    for j in jobs.values():
        assert j["state"] == "cancelled" and j["finished"] is not None, j
    assert jobs[queued]["started"] is None, jobs[queued]
    assert_counters(pg, [], SLOW_ROWS, others=["b"])
    assert_data_matches_checkpoint(pg, jobs[running], ["a", "b"], "a")
    assert 30 <= jobs[running]["rows_done"] < SLOW_ROWS
    rc, out, err = d.ctl("cancel", str(running))
    assert rc == 1 and "InvalidJobState" in err, (rc, out, err)
    reply = d.call("io.migrated.Cancel", {"ids": [running]})
    assert reply == {"error": "io.migrated.InvalidJobState",
                     "parameters": {"id": running, "state": "cancelled"}}
    # Retry continues from the checkpoint: no row done twice.
    assert ctl_json(d, "retry", str(running)) == {"jobs": [running]}
    j = wait_state(d, [running])[running]
    assert j["steps"][0]["batches"] == batches_for(SLOW_ROWS, 10), j
    assert_counters(pg, ["a"], SLOW_ROWS, others=["b"])


BAD_INDEX = 23          # of tenant a's keys in t2; batch 5: the 5th batch


def failing_setup(make_daemon, pg):
    """cnt with batch 5; tenant a's row number BAD_INDEX in t2 violates a
    CHECK constraint as soon as its counter is incremented."""
    make_tables(pg, TENANTS, ROWS, tables=("t1", "t2"))
    bad_key = keys_of(TENANTS, "a", ROWS)[BAD_INDEX]
    pg.psql("UPDATE t2 SET bad = true WHERE id = %d;"
            " ALTER TABLE t2 ADD CONSTRAINT t2_not_bad"
            " CHECK (NOT (bad AND n > 0))" % bad_key)
    d = make_daemon()
    write_plan(d, "cnt", two_step_plan(batch=5))
    return d.start()


def test_failed_batch_reports_and_retry_continues(make_daemon, pg):
    d = failing_setup(make_daemon, pg)
    ja, jb = submit(d, "cnt", ["a", "b"])
    jobs = wait_state(d, [ja, jb], ("succeeded", "failed"))
    assert jobs[jb]["state"] == "succeeded", jobs[jb]
    a = jobs[ja]
    assert a["state"] == "failed", a
    keys = keys_of(TENANTS, "a", ROWS)
    first = BAD_INDEX // 5 * 5                  # rows before the bad batch
    lo, hi = keys[first - 1], keys[first + 4]
    assert a["error"].startswith("step two, keys (%d, %d]: " % (lo, hi)), a
    assert "t2_not_bad" in a["error"] and "SQLSTATE 23514" in a["error"], a
    one, two = step_of(a, "one"), step_of(a, "two")
    assert one["state"] == "done" and one["rows_done"] == ROWS
    assert (two["checkpoint"], two["rows_done"], two["batches"]) == (
        str(lo), first, first // 5), two
    assert_counters(pg, ["a", "b"], ROWS, "t1", others=["c"])
    got = pg.psql("SELECT id, n FROM t2 WHERE tenant_id = 'a'"
                  " ORDER BY id").splitlines()
    assert got == ["%d|%d" % (k, 1 if i < first else 0)
                   for i, k in enumerate(keys)]
    # The log names the job, step, range and SQLSTATE.
    assert "keys (%d, %d]" % (lo, hi) in d.log()

    # Retrying without fixing fails again at the same place.
    assert ctl_json(d, "retry", str(ja)) == {"jobs": [ja]}
    a = wait_state(d, [ja], ("failed",))[ja]
    assert step_of(a, "two")["checkpoint"] == str(lo), a
    # Fixed: retry finishes from the checkpoint; step one is not redone.
    pg.psql("UPDATE t2 SET bad = false")
    assert ctl_json(d, "retry", "--all") == {"jobs": [ja]}
    a = wait_state(d, [ja])[ja]
    assert a["error"] is None, a
    assert step_of(a, "two")["batches"] == batches_for(ROWS, 5), a
    assert step_of(a, "one")["batches"] == batches_for(ROWS, 5), a
    for table in ("t1", "t2"):
        assert_counters(pg, ["a", "b"], ROWS, table, others=["c"])
    rc, out, err = d.ctl("retry", str(ja))
    assert rc == 1 and "InvalidJobState" in err, (rc, out, err)


def test_retry_all_with_two_failed_jobs_of_one_tenant(make_daemon, pg):
    """Retry --all queues the newest failed job of a plan and tenant and
    leaves the older one (one unfinished job per plan and tenant) instead
    of failing as a whole on the database's unique index."""
    d = failing_setup(make_daemon, pg)
    [old] = submit(d, "cnt", ["a"])
    wait_state(d, [old], ("failed",))
    [new] = submit(d, "cnt", ["a"])
    wait_state(d, [new], ("failed",))
    assert ctl_json(d, "retry", "--all") == {"jobs": [new]}
    wait_state(d, [new], ("failed",))
    assert show(d, old)["state"] == "failed"


def test_failure_with_long_multibyte_keys_is_recorded_once(make_daemon, pg):
    """A failing batch between long non-ASCII text keys: the error names the
    range with the keys cut short (on a character) and keeps the server's
    reason; it is recorded, so the job fails once instead of being claimed
    and run again forever."""
    pg.psql("DROP TABLE IF EXISTS tk; CREATE TABLE tk (k text PRIMARY KEY,"
            " tenant_id text NOT NULL, n integer NOT NULL DEFAULT 0);"
            " INSERT INTO tk VALUES ('a' || repeat('\u00e9', 700), 'x'),"
            " ('b' || repeat('\u00e9', 700), 'x'), ('c', 'x')")
    d = make_daemon()
    write_plan(d, "tk", "[plan]\n"
               "tenants = SELECT 'x'\n\n"
               "[step one]\n"
               "table = tk\n"
               "key = k\n"
               "where = tenant_id = :tenant\n"
               "apply = UPDATE tk SET n = n + 1 / (CASE WHEN left(k, 1) = 'b'"
               " THEN 0 ELSE 1 END)\n"
               "        WHERE tenant_id = :tenant AND k > :lo AND k <= :hi\n"
               "batch = 1\n")
    d.start()
    [job] = submit(d, "tk", ["x"])
    j = wait_state(d, [job], ("failed",))[job]
    assert j["error"].startswith("step one, keys (a\u00e9"), j["error"]
    assert j["error"].endswith("...]: division by zero (SQLSTATE 22012)"), (
        j["error"])
    assert len(j["error"]) < 400, j["error"]
    assert d.log().count("job failed") == 1, d.log()
    assert pg.psql("SELECT k, n FROM tk ORDER BY k").split() == [
        "a" + "\u00e9" * 700 + "|1", "b" + "\u00e9" * 700 + "|0", "c|0"]


def test_submit_wait_exit_status(make_daemon, pg):
    d = failing_setup(make_daemon, pg)
    rc, out, err = d.ctl("submit", "cnt", "--tenant", "b", "--tenant", "c",
                         "--wait")
    assert rc == 0, (out, err)
    for j in list_jobs(d):
        assert j["state"] == "succeeded", j
    rc, out, err = d.ctl("submit", "cnt", "--tenant", "a", "--tenant", "b",
                         "--wait")
    assert rc == 4, (out, err)
    jobs = {j["tenant"]: j for j in list_jobs(d, plan="cnt")[:2]}
    assert jobs["a"]["state"] == "failed" and jobs["b"]["state"] == "succeeded"
    assert "job %d (tenant a) failed" % jobs["a"]["id"] in err, err
    assert "23514" in err, err


def test_watch_prints_json_lines_until_the_job_ends(sd, pg):
    [job] = submit(sd, "slow", ["a"])
    rc, out, err = sd.ctl("watch", str(job), timeout=30)
    assert rc == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) >= 2, out
    assert all(j["id"] == job for j in lines), out
    done = [j["rows_done"] for j in lines]
    assert done == sorted(done), "rows_done went backwards: %s" % done
    last = lines[-1]
    assert last["state"] == "succeeded", last
    assert last["rows_done"] == SLOW_ROWS, last
    assert any(j["state"] == "running" and 0 < j["rows_done"] < SLOW_ROWS
               for j in lines), "no progress shown: %s" % done
    # --json too, and a job that has ended gives its final state at once.
    rc, out, err = sd.ctl("--json", "watch", str(job))
    assert rc == 0, err
    assert [json.loads(l)["state"] for l in out.splitlines()] == [
        "succeeded"], out


def test_watch_without_ids_follows_unfinished_jobs(sd, pg):
    ids = submit(sd, "slow", ["a", "b"], "--batch-size", "30")
    rc, out, err = sd.ctl("watch", timeout=30)
    assert rc == 0, err
    last = {}
    for line in out.splitlines():
        j = json.loads(line)
        last[j["id"]] = j["state"]
    assert last == {i: "succeeded" for i in ids}, out


# --- a responsive control socket -------------------------------------------------------

def test_control_socket_answers_while_batches_run(make_daemon, pg):
    make_tables(pg, ["a", "b"], 150)
    d = make_daemon(workers=2)
    # Each batch keeps its connection busy for 200 ms.
    write_plan(d, "slow", slow_plan(batch=10, sleep=0.2))
    d.start()
    ids = submit(d, "slow", ["a", "b"])
    wait_for("both workers busy", lambda: d.status()["workers_busy"] == 2, 10)
    worst = 0.0
    for _ in range(20):
        elapsed, status = timed_status(d)
        worst = max(worst, elapsed)
        assert status["workers_busy"] == 2, status
        time.sleep(0.05)
    assert worst < 1.0, "GetStatus took %.3f s while batches ran" % worst
    # Other read-only calls too.
    t0 = time.monotonic()
    for job in ids:
        show(d, job)
    assert time.monotonic() - t0 < 2.0
    ctl_json(d, "cancel", "--all")
