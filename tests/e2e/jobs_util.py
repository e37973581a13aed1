"""Helpers for the jobs-engine end-to-end tests (test_jobs.py, test_crash.py):
counter tables, plan files, submitting and waiting for jobs.

The counter tables hold one row per (tenant, key) with a column n that every
plan here increments once per batch row: after a correct run every row of a
submitted tenant has n = 1, any other value is a lost or repeated batch.
Keys of different tenants are interleaved (id = round * ntenants + index + 1)
so that a step that forgot its tenant restriction would show.
"""

import json
import math
import os
import signal
import time
from pathlib import Path

import varlink
from conftest import wait_for

ENDED = ("succeeded", "failed", "cancelled")


def lit(value):
    """value as an SQL string literal, for the tests' own psql statements."""
    return "'" + str(value).replace("'", "''") + "'"


def tenant_name(i):
    return "ten%02d" % i


# --- tables ------------------------------------------------------------------

def make_tables(pg, tenants, rows, tables=("t1",), orgs=None):
    """Creates (afresh) counter tables and the mapping table tmap.

    tenants: list of names; rows: rows per tenant and table (an int, or a
    dict name -> int). orgs: dict tenant -> organization id (default
    1000 + index). Every tenant gets a tmap row."""
    orgs = orgs or {t: 1000 + i for i, t in enumerate(tenants)}
    counts = rows if isinstance(rows, dict) else {t: rows for t in tenants}
    n = len(tenants)
    sql = ["DROP TABLE IF EXISTS tmap"]
    sql.append("CREATE TABLE tmap (tenant_id text PRIMARY KEY,"
               " org bigint NOT NULL)")
    if tenants:
        sql.append("INSERT INTO tmap VALUES " + ", ".join(
            "(%s, %d)" % (lit(t), orgs[t]) for t in tenants))
    for table in tables:
        sql.append("DROP TABLE IF EXISTS %s" % table)
        sql.append("CREATE TABLE %s (id bigint PRIMARY KEY,"
                   " tenant_id text NOT NULL, n integer NOT NULL DEFAULT 0,"
                   " org bigint, bad boolean NOT NULL DEFAULT false)" % table)
        sql.append("CREATE INDEX ON %s (tenant_id, id)" % table)
        for i, t in enumerate(tenants):
            if counts.get(t, 0) > 0:
                sql.append(
                    "INSERT INTO %s (id, tenant_id) SELECT g * %d + %d, %s"
                    " FROM generate_series(0, %d) g"
                    % (table, n, i + 1, lit(t), counts[t] - 1))
    pg.psql(";\n".join(sql))


def keys_of(tenants, tenant, rows):
    """The keys make_tables gave tenant, in order."""
    n = len(tenants)
    i = tenants.index(tenant)
    return [g * n + i + 1 for g in range(rows)]


def counters(pg, table="t1"):
    """{tenant: {n: count}} of a counter table."""
    out = {}
    for line in pg.psql("SELECT tenant_id, n, count(*) FROM %s"
                        " GROUP BY 1, 2 ORDER BY 1, 2" % table).splitlines():
        tenant, n, count = line.rsplit("|", 2)
        out.setdefault(tenant, {})[int(n)] = int(count)
    return out


def assert_counters(pg, done, rows, table="t1", others=()):
    """Every row of the tenants in done has n = 1 exactly; every row of the
    tenants in others has n = 0. rows: rows per tenant (int or dict)."""
    got = counters(pg, table)
    want = {}
    for t in done:
        r = rows if isinstance(rows, int) else rows[t]
        if r:
            want[t] = {1: r}
    for t in others:
        r = rows if isinstance(rows, int) else rows[t]
        if r:
            want[t] = {0: r}
    got = {t: v for t, v in got.items() if t in want}
    assert got == want, "counters of %s (tenant -> {n: rows})" % table


# --- plans ---------------------------------------------------------------------

def counter_step(name, table="t1", after=None, batch=None, sleep=None,
                 org=False):
    """A [step] that increments n (and sets org = :org) over its range."""
    sets = "n = n + 1" + (", org = :org" if org else "")
    if sleep:
        apply = ("WITH z AS (SELECT pg_sleep(%s))\n"
                 "        UPDATE %s SET %s FROM z\n"
                 "        WHERE tenant_id = :tenant AND id > :lo"
                 " AND id <= :hi" % (sleep, table, sets))
    else:
        apply = ("UPDATE %s SET %s\n"
                 "        WHERE tenant_id = :tenant AND id > :lo"
                 " AND id <= :hi" % (table, sets))
    lines = ["[step %s]" % name]
    if after:
        lines.append("after = %s" % after)
    lines += ["table = %s" % table, "key = id",
              "where = tenant_id = :tenant", "apply = " + apply]
    if batch:
        lines.append("batch = %d" % batch)
    return "\n".join(lines) + "\n"


def counter_plan(steps, params=True, description="counter test plan"):
    """A plan over tmap's tenants; steps: list of counter_step() texts."""
    head = ["[plan]", "description = %s" % description,
            "tenants = SELECT tenant_id FROM tmap ORDER BY tenant_id"]
    if params:
        head += ["params = SELECT org", "         FROM tmap",
                 "         WHERE tenant_id = :tenant"]
    return "\n".join(head) + "\n\n" + "\n".join(steps)


def write_plan(daemon, name, text):
    path = Path(daemon.plan_dir) / ("%s.plan" % name)
    path.write_text(text)
    return str(path)


def reload(daemon):
    """io.migrated.Reload; asserts it worked."""
    reply = daemon.call("io.migrated.Reload", {})
    assert "error" not in reply, reply
    return reply


def plan_names(daemon):
    reply = daemon.call("io.migrated.ListPlans", {})
    assert "error" not in reply, reply
    return sorted(p["name"] for p in reply["parameters"]["plans"])


# --- jobs --------------------------------------------------------------------

def ctl_json(daemon, *args, expect_rc=0, timeout=30):
    """migratectl --json ARGS; asserts the exit status, returns the JSON."""
    rc, out, err = daemon.ctl("--json", *args, timeout=timeout)
    assert rc == expect_rc, "migratectl %s: rc %d\nstdout: %s\nstderr: %s" % (
        " ".join(args), rc, out, err)
    return json.loads(out) if out.strip() else None


def submit(daemon, plan, tenants=(), *extra):
    """migratectl submit PLAN --tenant ...; returns the new job ids."""
    args = ["submit", plan]
    for t in tenants:
        args += ["--tenant", t]
    reply = ctl_json(daemon, *args, *extra)
    ids = reply["jobs"]
    assert all(isinstance(i, int) for i in ids), reply
    return ids


def show(daemon, job, unavailable_ok=False):
    """ShowJob. With unavailable_ok, None while the daemon says the database
    is unavailable (it is reconnecting)."""
    reply = daemon.call("io.migrated.ShowJob", {"id": job})
    if unavailable_ok and reply.get("error") == (
            "io.migrated.DatabaseUnavailable"):
        return None
    assert "error" not in reply, reply
    return reply["parameters"]["job"]


def list_jobs(daemon, **filters):
    reply = daemon.call("io.migrated.ListJobs", filters)
    assert "error" not in reply, reply
    return reply["parameters"]["jobs"]


def wait_state(daemon, jobs, states=("succeeded",), timeout=30):
    """Waits until every job has ended (or is in one of states); asserts all
    are in states. Returns {id: Job}."""
    jobs = list(jobs)
    want = set(states)
    stop_at = set(ENDED) | want

    def all_there():
        daemon.check_alive()
        shown = {j: show(daemon, j, unavailable_ok=True) for j in jobs}
        if all(s is not None and s["state"] in stop_at
               for s in shown.values()):
            return shown
        return None
    shown = wait_for("jobs %s to reach %s" % (jobs, sorted(want)), all_there,
                     timeout, interval=0.1)
    bad = {j: (s["state"], s["error"]) for j, s in shown.items()
           if s["state"] not in want}
    assert not bad, "jobs not in %s: %s" % (sorted(want), bad)
    return shown


def wait_job(daemon, job, predicate, what, timeout=20):
    """Polls ShowJob until predicate(job) holds; returns the Job."""
    def check():
        daemon.check_alive()
        j = show(daemon, job, unavailable_ok=True)
        return j if j is not None and predicate(j) else None
    return wait_for("job %d: %s" % (job, what), check, timeout, interval=0.05)


def step_of(job, name):
    for s in job["steps"]:
        if s["name"] == name:
            return s
    raise AssertionError("job %d has no step %s: %r" % (job["id"], name, job))


def batches_for(rows, batch):
    return math.ceil(rows / batch)


# --- processes -----------------------------------------------------------------

def kill9(daemon):
    """kill -9 of the daemon alone (not its process group); waits for it."""
    daemon.expected_exit = True
    os.kill(daemon.pid, signal.SIGKILL)
    daemon.proc.wait(10)


def timed_status(daemon):
    """GetStatus on a fresh connection; returns (seconds, status)."""
    t0 = time.monotonic()
    reply = varlink.call(daemon.socket, "io.migrated.GetStatus", None,
                         timeout=5)
    elapsed = time.monotonic() - t0
    assert "error" not in reply, reply
    return elapsed, reply["parameters"]["status"]

