"""Plan-wide operations (issue 11): verify PLAN --all, rollback PLAN --all,
rollback --steps and rollback PLAN --emergency, through migratectl and raw
Varlink on the real daemon and PostgreSQL.

"Restored" is checked with safety_util's fingerprints (row count and md5 of
every column of every row) taken before the jobs ran: a rollback that
misses one batch, one tenant or one step changes them.
"""

import json

import pytest

from conftest import wait_for
from jobs_util import ctl_json, lit, show
from safety_util import (
    SAFETY_TABLES, TENANTS, err, fingerprint, fingerprints, install,
    log_entries, make_data, ok, run_job, safety_plan, steps_by_name, submit,
    wait_ended)

TABLES = SAFETY_TABLES
ROLLBACK_DEPENDENCY = "io.migrated.RollbackDependency"
# Makes every UPDATE statement on acct sleep: jobs that stay running.
SLOW = ("CREATE OR REPLACE FUNCTION slow_down() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.02); RETURN NULL;"
        " END $$;"
        "CREATE TRIGGER slow_acct AFTER UPDATE ON acct"
        " FOR EACH STATEMENT EXECUTE FUNCTION slow_down()")


@pytest.fixture
def fd(make_daemon, pg):
    """A daemon with the safety data set and plans safe (backups, steps
    acct then item) and ver (the same with [verify] sections)."""
    make_data(pg)
    d = make_daemon()
    install(d, safe=safety_plan(), ver=safety_plan(verifies=True))
    return d.start()


def tenant_where(tenant):
    return "t.tenant_id = %s" % lit(tenant)


def fix_orgs(pg, tenant):
    """Gives every acct row of tenant its org, so ver's orgs check holds."""
    pg.psql("UPDATE acct a SET org = m.org FROM tmap m"
            " WHERE a.tenant_id = m.tenant_id AND a.tenant_id = %s"
            % lit(tenant))


# --- verify --all --------------------------------------------------------------

def test_verify_all_reports_every_tenant_in_one_report(fd, pg):
    # ver's orgs check fails after the job: the step leaves rows without a
    # balance alone, so every job fails its verification
    jobs = {t: run_job(fd, "ver", t, want="failed")["id"] for t in TENANTS}
    fix_orgs(pg, "acme")

    out = ctl_json(fd, "verify", "ver", "--all", expect_rc=4)
    assert out["ok"] is False
    got = {r["tenant"]: (r["job"], r["ok"]) for r in out["results"]}
    assert got == {"acme": (jobs["acme"], True),
                   "globex": (jobs["globex"], False),
                   "initech": (jobs["initech"], False)}
    checks = {r["tenant"]: {c["name"]: c["ok"] for c in r["checks"]}
              for r in out["results"]}
    assert checks["acme"]["orgs"] is True
    assert checks["globex"]["orgs"] is False

    rc, text, _ = fd.ctl("verify", "ver", "--all")
    assert rc == 4
    assert "acme (job %d)" % jobs["acme"] in text
    assert "3 jobs verified, 2 FAILED." in text

    for t in ("globex", "initech"):
        fix_orgs(pg, t)
    out = ctl_json(fd, "verify", "ver", "--all")
    assert out["ok"] is True and len(out["results"]) == 3
    rc, text, _ = fd.ctl("verify", "ver", "--all")
    assert rc == 0 and "3 jobs verified, none failed." in text


def test_verify_all_takes_the_latest_job_of_each_tenant(fd, pg):
    first = run_job(fd, "ver", "acme", want="failed")["id"]
    fix_orgs(pg, "acme")
    second = run_job(fd, "ver", "acme")["id"]
    out = ok(fd, "VerifyPlan", {"plan": "ver"})
    assert [(r["tenant"], r["job"]) for r in out["results"]] == [
        ("acme", second)]
    assert second > first
    # a plan without finished jobs: an empty report that passes
    assert ok(fd, "VerifyPlan", {"plan": "safe"}) == {"ok": True,
                                                     "results": []}
    e, p = err(fd, "VerifyPlan", {"plan": "nope"})
    assert (e, p) == ("io.migrated.NoSuchPlan", {"name": "nope"})
    rc, _, text = fd.ctl("verify", "12", "--all")
    assert rc == 2 and "--all takes a plan" in text


# --- rollback --all --------------------------------------------------------------

def test_rollback_all_restores_every_tenant_newest_first(fd, pg):
    before = fingerprints(pg, TABLES)
    jobs = [run_job(fd, "safe", t)["id"] for t in TENANTS]
    assert fingerprints(pg, TABLES) != before

    out = ctl_json(fd, "rollback", "safe", "--all")
    assert out["stopped"] == []
    queued = [(j["job"], j["tenant"]) for j in out["jobs"]]
    # newest first: the rollbacks are queued in that order, so they run so
    assert queued == [(jobs[2], "initech"), (jobs[1], "globex"),
                      (jobs[0], "acme")]
    rollbacks = [j["rollback"] for j in out["jobs"]]
    assert rollbacks == sorted(rollbacks)
    for rb in rollbacks:
        assert wait_ended(fd, rb)["state"] == "succeeded"
    assert fingerprints(pg, TABLES) == before
    for j in jobs:
        assert show(fd, j)["state"] == "rolled_back"

    # nothing left: an empty answer, not an error
    rc, text, _ = fd.ctl("rollback", "safe", "--all")
    assert rc == 0 and "No finished job with backups to roll back." in text


def test_rollback_all_skips_busy_tenants_and_goes_on_with_older_jobs(fd, pg):
    acme_before = {t: fingerprint(pg, t, tenant_where("acme")) for t in TABLES}
    old = run_job(fd, "safe", "acme", steps=["acct"])["id"]
    new = run_job(fd, "safe", "acme", steps=["item"])["id"]
    other = run_job(fd, "safe", "globex")["id"]
    # globex gets an unfinished job (a slow dry run, paused): its rollback
    # must wait
    pg.psql(SLOW.replace("0.02", "0.3"))
    (pending,) = submit(fd, "safe", ["globex"], dry_run=True)
    ok(fd, "Pause", {"ids": [pending]})
    assert show(fd, pending)["state"] == "paused"
    pg.psql("DROP TRIGGER slow_acct ON acct")

    out = ok(fd, "RollbackPlan", {"plan": "safe"})
    by_job = {j["job"]: j for j in out["jobs"]}
    assert set(by_job) == {new, other}      # acme's newest job only
    assert "rollback" in by_job[new]
    assert "rollback" not in by_job[other]
    assert "job %d of the same tenant has not ended" % pending in (
        by_job[other]["reason"])
    assert wait_ended(fd, by_job[new]["rollback"])["state"] == "succeeded"

    # acme's older job follows by itself once the newer one is rolled back
    def older_rollback():
        out = pg.psql("SELECT id FROM migrated.jobs WHERE kind = 'rollback'"
                      " AND rollback_of = %d" % old).strip()
        return int(out) if out else None
    rb_old = wait_for("the rollback of the older job", older_rollback, 30)
    assert rb_old > by_job[new]["rollback"]
    assert wait_ended(fd, rb_old)["state"] == "succeeded"
    assert {t: fingerprint(pg, t, tenant_where("acme"))
            for t in TABLES} == acme_before
    assert show(fd, old)["state"] == "rolled_back"
    assert show(fd, new)["state"] == "rolled_back"
    assert show(fd, other)["state"] == "succeeded"

    # globex stays skipped while its dry run is unfinished; acme is done
    out = ok(fd, "RollbackPlan", {"plan": "safe"})
    assert [(j["job"], "rollback" in j) for j in out["jobs"]] == [
        (other, False)]
    ok(fd, "Cancel", {"ids": [pending]})
    wait_ended(fd, pending)
    out = ok(fd, "RollbackPlan", {"plan": "safe"})
    assert [j["job"] for j in out["jobs"]] == [other]
    assert wait_ended(fd, out["jobs"][0]["rollback"])["state"] == "succeeded"


def test_rollback_all_with_steps_follows_older_jobs_and_says_where_it_stops(
        fd, pg):
    # acme: job 1 ran both steps, job 2 only item; rollback --all --steps
    # item restores job 2's item, then job 1's item, and then stops:
    # nothing older
    first = run_job(fd, "safe", "acme")["id"]
    second = run_job(fd, "safe", "acme", steps=["item"])["id"]
    out = ok(fd, "RollbackPlan", {"plan": "safe", "steps": ["item"]})
    assert [j["job"] for j in out["jobs"]] == [second]
    assert wait_ended(fd, out["jobs"][0]["rollback"])["state"] == "succeeded"

    def rollback_of(job):
        out = pg.psql("SELECT id FROM migrated.jobs WHERE kind = 'rollback'"
                      " AND rollback_of = %d" % job).strip()
        return int(out) if out else None
    rb = wait_for("the rollback of job %d" % first,
                  lambda: rollback_of(first), 30)
    j = wait_ended(fd, rb)
    assert j["state"] == "succeeded"
    assert [s["name"] for s in j["steps"]] == ["item"]
    assert show(fd, second)["state"] == "rolled_back"
    assert show(fd, first)["state"] == "succeeded"    # acct still there
    assert steps_by_name(show(fd, first))["acct"]["state"] == "done"

    # a chain that meets a job it cannot restore says so: job 3 (acct,
    # item) then job 4 (acct only); --steps acct from job 4, then job 3's
    # acct is refused (its item still needs it)
    third = run_job(fd, "safe", "globex")["id"]
    fourth = run_job(fd, "safe", "globex", steps=["acct"])["id"]
    out = ok(fd, "RollbackPlan", {"plan": "safe", "steps": ["acct"]})
    rb4 = [j for j in out["jobs"] if j["job"] == fourth]
    assert rb4 and "rollback" in rb4[0], out
    j = wait_ended(fd, rb4[0]["rollback"])
    assert j["state"] == "succeeded"
    assert ("older job %d was not rolled back (depends, step acct)" % third
            in " ".join(j["warnings"])), j["warnings"]
    assert rollback_of(third) is None


# --- rollback --steps ------------------------------------------------------------

def test_rollback_steps_restores_only_those_and_refuses_a_needed_step(fd, pg):
    before = fingerprints(pg, TABLES)
    job = run_job(fd, "safe", "acme")["id"]
    changed = fingerprints(pg, TABLES)
    assert changed["acct"] != before["acct"]
    assert changed["item"] != before["item"]

    # item runs after acct and still has its backups: acct alone is refused
    e, p = err(fd, "Rollback", {"id": job, "steps": ["acct"]})
    assert (e, p) == (ROLLBACK_DEPENDENCY,
                      {"job": job, "step": "acct", "dependent": "item"})
    rc, _, text = fd.ctl("rollback", str(job), "--steps", "acct")
    assert rc == 1
    assert ("step 'acct' of job %d cannot be rolled back while step 'item',"
            " which runs after it, is not; add --steps item" % job) in text
    e, p = err(fd, "Rollback", {"id": job, "steps": ["nope"]})
    assert (e, p) == ("io.migrated.NoSuchStep",
                      {"plan": "safe", "step": "nope"})
    assert fingerprints(pg, TABLES) == changed   # nothing was queued

    out = ctl_json(fd, "rollback", "safe", "--tenant", "acme", "--steps",
                   "item")
    rb = wait_ended(fd, out["job"])
    assert rb["state"] == "succeeded"
    assert [s["name"] for s in rb["steps"]] == ["item"]
    now = fingerprints(pg, TABLES)
    assert now["item"] == before["item"]       # item restored
    assert now["acct"] == changed["acct"]      # acct untouched
    assert show(fd, job)["state"] == "succeeded"   # acct still to restore

    # item again: nothing left of it
    e, p = err(fd, "Rollback", {"id": job, "steps": ["item"]})
    assert e == "io.migrated.NoBackup" and "step item has no backups" in (
        p["reason"])
    # now acct may go, and then the job is rolled back
    rb2 = ok(fd, "Rollback", {"id": job, "steps": ["acct"]})["job"]
    assert wait_ended(fd, rb2)["state"] == "succeeded"
    assert fingerprints(pg, TABLES) == before
    assert show(fd, job)["state"] == "rolled_back"


def test_rollback_all_with_steps_refuses_the_whole_call(fd, pg):
    jobs = [run_job(fd, "safe", t)["id"] for t in TENANTS]
    changed = fingerprints(pg, TABLES)
    e, p = err(fd, "RollbackPlan", {"plan": "safe", "steps": ["acct"]})
    assert e == ROLLBACK_DEPENDENCY and p["dependent"] == "item"
    assert p["job"] in jobs
    count = pg.psql("SELECT count(*) FROM migrated.jobs"
                    " WHERE kind = 'rollback'").strip()
    assert count == "0"

    out = ok(fd, "RollbackPlan", {"plan": "safe", "steps": ["item"]})
    assert len(out["jobs"]) == 3
    for j in out["jobs"]:
        assert wait_ended(fd, j["rollback"])["state"] == "succeeded"
    now = fingerprints(pg, TABLES)
    assert now["acct"] == changed["acct"] and now["item"] != changed["item"]
    for j in jobs:
        assert show(fd, j)["state"] == "succeeded"
        steps = steps_by_name(show(fd, j))
        assert set(steps) == {"acct", "item"}


# --- rollback --emergency -------------------------------------------------------

def test_emergency_stops_every_job_and_rolls_back_all_it_changed(
        make_daemon, pg):
    tenants = ["t%02d" % i for i in range(6)]
    make_data(pg, tenants=tenants, rows=400)
    d = make_daemon(workers=2)
    install(d, safe=safety_plan(batch=5))
    d.start()
    before = fingerprints(pg, TABLES)
    done = run_job(d, "safe", tenants[0])["id"]        # one finished job
    pg.psql(SLOW.replace("0.02", "0.05"))
    jobs = submit(d, "safe", tenants[1:])
    # wait until two jobs are running with batches committed
    wait_for("two jobs with batches done", lambda: len([
        j for j in jobs if show(d, j)["state"] == "running"
        and sum(s["rows_done"] for s in show(d, j)["steps"]) > 0]) >= 2, 60)

    out = ctl_json(d, "rollback", "safe", "--emergency")
    stopped = set(out["stopped"])
    assert stopped == set(jobs), out
    for j in jobs:
        s = show(d, j)
        assert s["state"] in ("cancelled", "rolled_back"), s
    rollbacks = {j["job"]: j["rollback"] for j in out["jobs"]
                 if "rollback" in j}
    # the finished job and every stopped job that changed something
    assert done in rollbacks
    assert len(rollbacks) >= 3
    assert all(isinstance(r, int) for r in rollbacks.values())
    pri = {show(d, r)["priority"] for r in rollbacks.values()}
    assert pri == {1000}
    pg.psql("DROP TRIGGER slow_acct ON acct")
    for r in rollbacks.values():
        assert wait_ended(d, r, timeout=120)["state"] == "succeeded"
    assert fingerprints(pg, TABLES) == before
    for j, r in rollbacks.items():
        assert show(d, j)["state"] == "rolled_back"
    # jobs stopped before their first batch had nothing to roll back
    for j in stopped - set(rollbacks):
        assert show(d, j)["state"] == "cancelled"

    emergency = [e for e in log_entries(d)
                 if e["action"] == "emergency rollback"]
    assert len(emergency) == 1
    p = emergency[0]["parameters"]
    assert p["plan"] == "safe" and set(p["stopped"]) == stopped
    assert sorted(p["rollbacks"]) == sorted(rollbacks.values())
    calls = [e for e in log_entries(d)
             if e["action"] == "io.migrated.RollbackPlan"]
    assert calls and calls[0]["parameters"] == {"plan": "safe",
                                                 "emergency": True}


def test_emergency_refusals(fd):
    e, p = err(fd, "RollbackPlan", {"plan": "safe", "emergency": True,
                                     "steps": ["item"]})
    assert (e, p) == ("org.varlink.service.InvalidParameter",
                      {"parameter": "steps"})
    rc, _, text = fd.ctl("rollback", "safe", "--emergency", "--steps", "item")
    assert rc == 2 and "--steps cannot narrow it" in text
    rc, _, text = fd.ctl("rollback", "safe", "--emergency", "--tenant", "x")
    assert rc == 2
    e, p = err(fd, "RollbackPlan", {"plan": "nope", "emergency": True})
    assert (e, p) == ("io.migrated.NoSuchPlan", {"name": "nope"})
    out = json.loads(fd.ctl("--json", "rollback", "safe", "--emergency")[1])
    assert out == {"stopped": [], "jobs": []}


MORE_STEP = """
[step more]
after = item
table = item
key = id
where = tenant_id = :tenant
apply = UPDATE item SET label = label || '+'
        WHERE tenant_id = :tenant AND id > :lo AND id <= :hi
"""


def test_a_step_rolled_back_alone_no_longer_satisfies_a_dependency(fd, pg):
    install(fd, chain=safety_plan() + MORE_STEP)
    ok(fd, "Reload")
    job = run_job(fd, "chain", "acme", steps=["acct", "item"])["id"]
    rb = ok(fd, "Rollback", {"id": job, "steps": ["item"]})["job"]
    assert wait_ended(fd, rb)["state"] == "succeeded"
    assert show(fd, job)["state"] == "succeeded"      # acct still done
    e, p = err(fd, "Submit", {"plan": "chain", "tenants": ["acme"],
                              "steps": ["more"]})
    assert (e, p) == ("io.migrated.StepDependency",
                      {"plan": "chain", "step": "more", "after": "item",
                       "tenant": "acme"})
    # acct was not rolled back: a step after it alone is accepted
    (again,) = submit(fd, "chain", ["acme"], steps=["item"])
    assert wait_ended(fd, again)["state"] == "succeeded"
