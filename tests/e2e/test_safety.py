"""Safety end to end (issue 4): pre-checks, dry runs, backups with an exact
rollback, post-verification and the audit log, through raw Varlink calls
to the real daemon on a real PostgreSQL.

"Exactly as before" is checked with fingerprints: the row count and the
md5 of every column of every row of a table (safety_util.fingerprint). The data
set (safety_util.make_data) has a column of most types, NULLs, quotes,
Unicode and a generated column; the plan's acct step changes every column
it can of the rows that have a balance, and its item step deletes one row
of three.
"""

import json

import pytest

from conftest import wait_for
from jobs_util import kill9, lit, show, write_plan
from safety_util import (
    INVALID, ROWS, SAFETY_TABLES, TENANTS, acct_changes, calls_logged, err,
    fingerprints, install, item_deletes, job_count, last_log_id,
    log_entries, make_data, make_slow_table, ok, psql_json, rollback,
    run_job, safety_plan, slow_plan, state_rows, steps_by_name, submit,
    wait_ended)

TABLES = SAFETY_TABLES
# Makes every UPDATE statement on acct and INSERT on item take 10 ms more:
# jobs and rollbacks on a few thousand rows then last seconds.
SLOW_TRIGGER = (
    "CREATE OR REPLACE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql"
    " AS $$ BEGIN PERFORM pg_sleep(0.01); RETURN NULL; END $$;"
    "CREATE TRIGGER slow_acct AFTER UPDATE ON acct"
    " FOR EACH STATEMENT EXECUTE FUNCTION slow_down();"
    "CREATE TRIGGER slow_item AFTER INSERT ON item"
    " FOR EACH STATEMENT EXECUTE FUNCTION slow_down()")
NO_BACKUP_REASON = ("it has no backups: none of its steps ran with "
                    "backup = yes, or they were dropped or restored already")


@pytest.fixture
def sd(make_daemon, pg):
    """A daemon with the safety data set and plans:
    safe (backups), nobk (no backups), chk (checks), ver (verifies)."""
    make_data(pg)
    d = make_daemon()
    install(d, safe=safety_plan(), nobk=safety_plan(backup=False),
            chk=safety_plan(checks=True), ver=safety_plan(verifies=True))
    return d.start()


def notes_null(pg, tenant):
    return pg.psql("SELECT count(*) FROM acct WHERE tenant_id = %s"
                   " AND note IS NULL" % lit(tenant)).strip()


def rows_of(pg, table, tenant):
    return int(pg.psql("SELECT count(*) FROM %s WHERE tenant_id = %s"
                       % (table, lit(tenant))))


# --- pre-checks ---------------------------------------------------------------

def test_failed_error_check_stops_the_job_before_any_change(sd, pg):
    before = fingerprints(pg, TABLES)
    job = run_job(sd, "chk", "globex", want="failed")
    assert job["error"] == ("pre-check failed, nothing was changed: active:"
                            " found 'frozen', expected 'active'")
    # the warning-level check that failed too is recorded, not fatal
    assert job["warnings"] == ["no_notes: found '%s', expected '0'"
                               % notes_null(pg, "globex")]
    assert [(s["name"], s["state"], s["rows_done"], s["batches"],
             s["checkpoint"]) for s in job["steps"]] == [
        ("acct", "pending", 0, 0, None), ("item", "pending", 0, 0, None)]
    assert job["rows_changed"] == 0
    assert fingerprints(pg, TABLES) == before
    assert ok(sd, "ListBackups", {"job": job["id"]}) == {"backups": []}


def test_failed_warning_check_lets_the_job_run(sd, pg):
    nulls = notes_null(pg, "acme")
    assert int(nulls) > 0
    job = run_job(sd, "chk", "acme")
    assert job["warnings"] == ["no_notes: found '%s', expected '0'" % nulls]
    assert job["error"] is None
    steps = steps_by_name(job)
    assert steps["acct"]["rows_changed"] == acct_changes(pg, "acme") > 0


def test_validate_reports_per_tenant_and_changes_nothing(sd, pg):
    before = fingerprints(pg, TABLES)
    res = ok(sd, "Validate", {"plan": "chk",
                              "tenants": ["acme", "globex", "nosuch"]})
    assert res == {"results": [
        {"tenant": "acme", "ok": True, "error": None, "checks": [
            {"name": "active", "severity": "error", "ok": True,
             "found": "active", "expected": "active"},
            {"name": "no_notes", "severity": "warning", "ok": False,
             "found": notes_null(pg, "acme"), "expected": "0"}]},
        {"tenant": "globex", "ok": False, "error": None, "checks": [
            {"name": "active", "severity": "error", "ok": False,
             "found": "frozen", "expected": "active"},
            {"name": "no_notes", "severity": "warning", "ok": False,
             "found": notes_null(pg, "globex"), "expected": "0"}]},
        # no mapping row: the params query finds no row, nothing runs
        {"tenant": "nosuch", "ok": False, "checks": [],
         "error": "the params query returned 0 rows; it must return "
                  "exactly one"},
    ]}
    every = ok(sd, "Validate", {"plan": "chk", "all": True})["results"]
    assert [(r["tenant"], r["ok"]) for r in every] == [
        ("acme", True), ("globex", False), ("initech", True)]
    assert job_count(pg) == 0
    assert ok(sd, "ListJobs") == {"jobs": []}
    assert fingerprints(pg, TABLES) == before
    assert err(sd, "Validate", {"plan": "nope", "tenants": ["acme"]}) == (
        "io.migrated.NoSuchPlan", {"name": "nope"})
    assert err(sd, "Validate", {"plan": "chk"}) == (
        INVALID, {"parameter": "tenants"})


def test_skip_checks_runs_anyway_and_is_audited(sd, pg):
    since = last_log_id(sd)
    job = run_job(sd, "chk", "globex", skip_checks=True)
    assert job["skip_checks"] is True
    assert job["warnings"] == []          # the checks did not run at all
    steps = steps_by_name(job)
    assert steps["acct"]["rows_changed"] == acct_changes(pg, "globex")
    assert calls_logged(sd, since) == [
        (0, "root", "io.migrated.Submit",
         {"plan": "chk", "tenants": ["globex"], "skip_checks": True}, "ok")]


# --- dry run ---------------------------------------------------------------------

def test_dry_run_changes_nothing_and_predicts_rows_changed(sd, pg):
    # another job's progress, which the dry run must not touch either
    done = run_job(sd, "safe", "acme")
    before = fingerprints(pg, TABLES)
    state_before = state_rows(pg)
    expect_acct = acct_changes(pg, "initech")
    expect_item = item_deletes(pg, "initech")

    dry = run_job(sd, "safe", "initech", dry_run=True)
    assert dry["dry_run"] is True
    assert fingerprints(pg, TABLES) == before
    assert state_rows(pg, exclude=[dry["id"]]) == state_before
    steps = steps_by_name(dry)
    assert {n: (s["state"], s["rows_done"], s["rows_changed"])
            for n, s in steps.items()} == {
        "acct": ("done", ROWS, expect_acct),
        "item": ("done", ROWS, expect_item)}
    assert dry["rows_changed"] == expect_acct + expect_item
    # a dry run stores no pre-images and cannot be rolled back
    assert ok(sd, "ListBackups", {"job": dry["id"]}) == {"backups": []}
    assert err(sd, "Rollback", {"id": dry["id"]}) == (
        "io.migrated.NoBackup",
        {"id": dry["id"], "reason": "it was a dry run and changed nothing"})

    real = run_job(sd, "safe", "initech")
    real_steps = steps_by_name(real)
    for name in ("acct", "item"):
        assert real_steps[name]["rows_changed"] == steps[name][
            "rows_changed"], name
    # and that is what the real run did to the data
    assert rows_of(pg, "item", "initech") == ROWS - expect_item
    assert int(pg.psql("SELECT count(*) FROM acct WHERE tenant_id = 'initech'"
                       " AND note = 'changed'")) == expect_acct
    assert show(sd, done["id"])["steps"] == done["steps"]


# --- backups and rollback ----------------------------------------------------------

def test_rollback_restores_every_column_and_deleted_rows(sd, pg):
    before = fingerprints(pg, TABLES)
    deletes = item_deletes(pg, "acme")
    job = run_job(sd, "safe", "acme")
    after = fingerprints(pg, TABLES)
    assert after["acct"][0] == before["acct"][0]
    assert after["acct"][1] != before["acct"][1]
    assert after["item"][0] == before["item"][0] - deletes
    assert steps_by_name(job)["item"]["rows_changed"] == deletes > 0

    backups = ok(sd, "ListBackups", {"job": job["id"]})["backups"]
    sizes = psql_json(pg, "SELECT json_object_agg(step, b) FROM (SELECT step,"
                          " sum(pg_column_size(rows)) b FROM migrated.backups"
                          " WHERE job_id = %d GROUP BY step) s" % job["id"])
    assert [(b["job"], b["plan"], b["tenant"], b["step"], b["rows"],
             b["bytes"]) for b in backups] == [
        (job["id"], "safe", "acme", "acct", ROWS, sizes["acct"]),
        (job["id"], "safe", "acme", "item", ROWS, sizes["item"])]
    assert all(b["age_sec"] >= 0 and b["oldest"].endswith("Z")
               for b in backups)

    rb = rollback(sd, id=job["id"])
    assert (rb["kind"], rb["rollback_of"], rb["plan"], rb["tenant"]) == (
        "rollback", job["id"], "safe", "acme")
    # the steps in reverse order, each restoring every backed-up row
    assert [(s["name"], s["state"], s["rows_done"]) for s in rb["steps"]] == [
        ("item", "done", ROWS), ("acct", "done", ROWS)]
    assert fingerprints(pg, TABLES) == before
    assert show(sd, job["id"])["state"] == "rolled_back"
    # a job rolled back cannot be rolled back again
    assert err(sd, "Rollback", {"id": job["id"]}) == (
        "io.migrated.InvalidJobState", {"id": job["id"],
                                        "state": "rolled_back"})
    assert err(sd, "Rollback", {"id": rb["id"]}) == (
        "io.migrated.NoBackup", {"id": rb["id"],
                                 "reason": "it is a rollback job itself"})


def test_rollback_by_plan_and_tenant_picks_the_latest_job(sd, pg):
    acme = "t.tenant_id = 'acme'"
    initech = "t.tenant_id = 'initech'"
    original = fingerprints(pg, TABLES)
    original_acme = fingerprints(pg, TABLES, acme)
    first = run_job(sd, "safe", "acme")
    after_first = fingerprints(pg, TABLES, acme)
    second = run_job(sd, "safe", "acme")     # changes the rows once more
    assert fingerprints(pg, TABLES, acme)["acct"] != after_first["acct"]
    run_job(sd, "safe", "initech")           # another tenant: not picked
    after_initech = fingerprints(pg, TABLES, initech)

    rb = rollback(sd, plan="safe", tenant="acme")
    assert rb["rollback_of"] == second["id"]
    assert fingerprints(pg, TABLES, acme) == after_first
    assert fingerprints(pg, TABLES, initech) == after_initech
    assert show(sd, second["id"])["state"] == "rolled_back"
    assert show(sd, first["id"])["state"] == "succeeded"

    # the latest migrate job is rolled back now: refused, not the first one
    assert err(sd, "Rollback", {"plan": "safe", "tenant": "acme"}) == (
        "io.migrated.InvalidJobState", {"id": second["id"],
                                        "state": "rolled_back"})
    rollback(sd, id=first["id"])
    assert fingerprints(pg, TABLES, acme) == original_acme
    assert fingerprints(pg, TABLES, initech) == after_initech
    rollback(sd, plan="safe", tenant="initech")
    assert fingerprints(pg, TABLES) == original


def test_rollback_refusals(make_daemon, pg):
    make_data(pg)
    make_slow_table(pg, tenants=("s1",), rows=200)
    d = make_daemon(workers=1)
    install(d, safe=safety_plan(), nobk=safety_plan(backup=False),
            slow=slow_plan())
    d.start()
    plain = run_job(d, "nobk", "acme")
    assert err(d, "Rollback", {"id": plain["id"]}) == (
        "io.migrated.NoBackup", {"id": plain["id"],
                                 "reason": NO_BACKUP_REASON})
    assert err(d, "Rollback", {"plan": "nobk", "tenant": "acme"}) == (
        "io.migrated.NoBackup", {"id": plain["id"],
                                 "reason": NO_BACKUP_REASON})

    backed = run_job(d, "safe", "initech")
    # one worker: a slow job runs, and the next job waits in the queue
    (running,) = submit(d, "slow", ["s1"])
    wait_for("job %d running" % running,
             lambda: show(d, running)["state"] == "running", 10)
    # another job of the same plan and tenant waits in the queue: the
    # rollback would be a second unfinished job of that plan and tenant
    (waiting,) = submit(d, "safe", ["initech"])
    assert err(d, "Rollback", {"id": backed["id"]}) == (
        "io.migrated.JobExists", {"plan": "safe", "tenant": "initech",
                                  "id": waiting})
    ok(d, "Cancel", {"ids": [running, waiting]})

    assert err(d, "Rollback", {"id": 999999}) == (
        "io.migrated.NoSuchJob", {"id": 999999})
    assert err(d, "Rollback", {"plan": "safe", "tenant": "nobody"})[0] == (
        "io.migrated.NoSuchJob")
    for params, bad in (({}, "id"), ({"plan": "safe"}, "tenant"),
                        ({"tenant": "acme"}, "id"),
                        ({"id": plain["id"], "plan": "safe"}, "plan"),
                        ({"id": 0}, "id"), ({"id": "1"}, "id")):
        assert err(d, "Rollback", params) == (INVALID, {"parameter": bad}), (
            params)
    assert job_count(pg) == 4                  # no rollback job was queued


def test_rollback_of_an_unfinished_job_is_refused(make_daemon, pg):
    make_slow_table(pg, tenants=("s1", "s2"), rows=200)
    d = make_daemon(workers=1)
    install(d, slow=slow_plan())
    d.start()
    # one worker: the first slow job runs, the second waits in the queue
    running, queued = submit(d, "slow", ["s1", "s2"])
    wait_for("job %d running" % running,
             lambda: show(d, running)["state"] == "running", 10)
    assert show(d, queued)["state"] == "queued"
    assert err(d, "Rollback", {"id": running}) == (
        "io.migrated.InvalidJobState", {"id": running, "state": "running"})
    assert err(d, "Rollback", {"id": queued}) == (
        "io.migrated.InvalidJobState", {"id": queued, "state": "queued"})
    ok(d, "Pause", {"ids": [queued]})
    assert err(d, "Rollback", {"id": queued}) == (
        "io.migrated.InvalidJobState", {"id": queued, "state": "paused"})
    ok(d, "Cancel", {"ids": [running, queued]})
    assert job_count(pg) == 2


def test_rollback_survives_kill9_and_restores_exactly(make_daemon, pg):
    rows = 2000
    batch = 20
    make_data(pg, tenants=["big", "other"], rows=rows)
    d = make_daemon()
    install(d, safe=safety_plan(batch=batch))
    d.start()
    before = fingerprints(pg, TABLES)
    job = run_job(d, "safe", "big", timeout=60)
    # every restore statement now takes a while: the rollback lasts seconds
    pg.psql(SLOW_TRIGGER)
    rb = ok(d, "Rollback", {"id": job["id"]})["job"]

    def restored():
        return int(pg.psql("SELECT coalesce(sum(rows_done), 0) FROM"
                           " migrated.job_steps WHERE job_id = %d" % rb))
    kills = []
    # once while deleted item rows come back, once in the acct step
    for threshold in (3 * batch, rows + 3 * batch):
        wait_for("rollback past %d rows" % threshold,
                 lambda: restored() > threshold, 20, interval=0.02)
        kill9(d)
        kills.append(restored())
        assert kills[-1] < 2 * rows, "the rollback ended: make it slower"
        d.start()
    print("rows restored at each kill:", kills)
    j = wait_ended(d, rb, timeout=60)
    assert j["state"] == "succeeded", j
    # each batch exactly once: no range restored twice or skipped
    assert [(s["name"], s["rows_done"], s["batches"]) for s in j["steps"]] == [
        ("item", rows, -(-rows // batch)), ("acct", rows, -(-rows // batch))]
    pg.psql("DROP TRIGGER slow_acct ON acct; DROP TRIGGER slow_item ON item")
    assert fingerprints(pg, TABLES) == before
    assert show(d, job["id"])["state"] == "rolled_back"


def test_rollback_of_a_job_cancelled_midway(make_daemon, pg):
    rows = 600
    make_data(pg, tenants=["big", "other"], rows=rows)
    d = make_daemon()
    install(d, safe=safety_plan())
    d.start()
    before = fingerprints(pg, TABLES)
    pg.psql(SLOW_TRIGGER)
    (job,) = submit(d, "safe", ["big"])
    wait_for("some batches", lambda: steps_by_name(show(d, job))["acct"][
        "batches"] >= 5, 20)
    ok(d, "Cancel", {"ids": [job]})
    j = wait_ended(d, job)
    assert j["state"] == "cancelled"
    acct = steps_by_name(j)["acct"]
    assert 0 < acct["rows_done"] < rows
    assert steps_by_name(j)["item"]["rows_done"] == 0
    # pre-images were stored in the batches' own transactions: exactly
    # the rows of the committed batches
    assert [(b["step"], b["rows"]) for b in ok(
        d, "ListBackups", {"job": job})["backups"]] == [
        ("acct", acct["rows_done"])]
    assert fingerprints(pg, TABLES) != before

    rb = rollback(d, id=job)
    assert [(s["name"], s["rows_done"]) for s in rb["steps"]] == [
        ("acct", acct["rows_done"])]
    assert fingerprints(pg, TABLES) == before
    assert show(d, job)["state"] == "rolled_back"


def test_backups_in_use_are_not_dropped(make_daemon, pg):
    """DropBackups keeps what an unfinished job still needs: the backups of
    a job that has not ended (its rollback would miss the dropped batches)
    and those a rollback is restoring (it would stop short and still mark
    the job rolled back)."""
    rows = 600
    make_data(pg, tenants=["big", "other"], rows=rows)
    d = make_daemon()
    install(d, safe=safety_plan())
    d.start()
    before = fingerprints(pg, TABLES)
    pg.psql(SLOW_TRIGGER)
    (job,) = submit(d, "safe", ["big"])
    wait_for("some batches", lambda: steps_by_name(show(d, job))["acct"][
        "batches"] >= 3, 20)
    ok(d, "Pause", {"ids": [job]})
    assert err(d, "DropBackups", {"jobs": [job]}) == (
        "io.migrated.InvalidJobState", {"id": job, "state": "paused"})
    assert ok(d, "DropBackups", {"older_than_days": 0}) == {"dropped": 0}
    ok(d, "Cancel", {"ids": [job]})
    stored = wait_ended(d, job)["rows_done"]
    assert stored > 0
    rb = ok(d, "Rollback", {"id": job})["job"]
    code, params = err(d, "DropBackups", {"jobs": [job]})
    assert code == "io.migrated.InvalidJobState" and params["id"] == rb, (
        code, params)
    assert ok(d, "DropBackups", {"older_than_days": 0}) == {"dropped": 0}
    assert wait_ended(d, rb, timeout=60)["state"] == "succeeded"
    pg.psql("DROP TRIGGER slow_acct ON acct; DROP TRIGGER slow_item ON item")
    assert fingerprints(pg, TABLES) == before
    assert show(d, job)["state"] == "rolled_back"
    assert ok(d, "DropBackups", {"jobs": [job]}) == {"dropped": stored}


def test_rollback_of_a_job_whose_verification_failed(sd, pg):
    before = fingerprints(pg, TABLES)
    job = run_job(sd, "ver", "globex", want="failed")
    assert job["error"].startswith("verification failed: orgs: found ")
    rollback(sd, plan="ver", tenant="globex")
    assert fingerprints(pg, TABLES) == before
    assert show(sd, job["id"])["state"] == "rolled_back"


# Rows that the jsonb round trip of the pre-images must not alter.
ODD_PLAN = """[plan]
tenants = SELECT DISTINCT tenant_id FROM odd ORDER BY 1

[step odd]
table = odd
key = id
where = tenant_id = :tenant
apply = UPDATE odd SET v = NULL
        WHERE tenant_id = :tenant AND id > :lo AND id <= :hi
backup = yes
"""


def rollback_odd_table(make_daemon, pg, id_type, v_type, values):
    """Creates table odd (id id_type, tenant_id, v v_type) with values,
    runs a backed-up job that nulls v, rolls it back; returns (before,
    after) as the text of every row."""
    pg.psql("DROP TABLE IF EXISTS odd; CREATE TABLE odd (id %s PRIMARY KEY,"
            " tenant_id text NOT NULL, v %s)" % (id_type, v_type))
    for v in values:
        pg.psql("INSERT INTO odd (tenant_id, v) VALUES ('t', %s)" % v)
    d = make_daemon()
    install(d, odd=ODD_PLAN)
    d.start()
    rows = "SELECT json_agg(o::text ORDER BY id) FROM odd o"
    before = psql_json(pg, rows)
    job = run_job(d, "odd", "t")
    rb = ok(d, "Rollback", {"id": job["id"]})["job"]
    j = wait_ended(d, rb)
    assert j["state"] == "succeeded", j["error"]
    return before, psql_json(pg, rows)


def test_rollback_of_a_table_with_an_identity_key(make_daemon, pg):
    before, after = rollback_odd_table(
        make_daemon, pg, "bigint GENERATED ALWAYS AS IDENTITY", "text",
        ["'a'", "'b'", "NULL"])
    assert after == before


def test_rollback_restores_json_columns_verbatim(make_daemon, pg):
    # json (unlike jsonb) keeps its text: spacing, key order, duplicates
    before, after = rollback_odd_table(
        make_daemon, pg, "bigint GENERATED BY DEFAULT AS IDENTITY", "json",
        ["'{\"b\":1,  \"a\":2, \"a\":3}'", "'[1,   2.50]'"])
    assert after == before


def test_rollback_restores_negative_zero_and_array_bounds(make_daemon, pg):
    before, after = rollback_odd_table(
        make_daemon, pg, "serial", "float8[]",
        ["'{-0,1.5}'", "'[0:1]={7,8}'", "'{{1,2},{3,4}}'"])
    assert after == before


def test_list_and_drop_backups(sd, pg):
    a = run_job(sd, "safe", "acme")
    i = run_job(sd, "safe", "initech")
    run_job(sd, "nobk", "globex")
    listed = ok(sd, "ListBackups")["backups"]
    assert [(b["job"], b["tenant"], b["step"], b["rows"]) for b in listed] == [
        (a["id"], "acme", "acct", ROWS), (a["id"], "acme", "item", ROWS),
        (i["id"], "initech", "acct", ROWS), (i["id"], "initech", "item", ROWS)]
    assert all(b["bytes"] > 0 for b in listed)
    # age_sec may have moved on a second between two calls
    def aged(backups):
        return [dict(b, age_sec=None) for b in backups]
    assert aged(ok(sd, "ListBackups", {"tenant": "initech"})["backups"]) == [
        b for b in aged(listed) if b["job"] == i["id"]]
    assert aged(ok(sd, "ListBackups", {"job": a["id"]})["backups"]) == [
        b for b in aged(listed) if b["job"] == a["id"]]
    assert [b["job"] for b in ok(sd, "ListBackups",
                                 {"plan": "safe"})["backups"]] == [
        a["id"], a["id"], i["id"], i["id"]]
    assert ok(sd, "ListBackups", {"plan": "nobk"}) == {"backups": []}

    # never everything by accident
    assert err(sd, "DropBackups", {}) == (INVALID, {"parameter": "jobs"})
    assert err(sd, "DropBackups", {"jobs": []}) == (
        INVALID, {"parameter": "jobs"})
    assert ok(sd, "DropBackups", {"older_than_days": 1}) == {"dropped": 0}

    assert ok(sd, "DropBackups", {"jobs": [a["id"]]}) == {"dropped": 2 * ROWS}
    assert ok(sd, "ListBackups", {"job": a["id"]}) == {"backups": []}
    assert err(sd, "Rollback", {"id": a["id"]}) == (
        "io.migrated.NoBackup", {"id": a["id"], "reason": NO_BACKUP_REASON})
    assert ok(sd, "DropBackups", {"older_than_days": 0}) == {
        "dropped": 2 * ROWS}
    assert ok(sd, "ListBackups") == {"backups": []}
    assert err(sd, "Rollback", {"plan": "safe", "tenant": "initech"}) == (
        "io.migrated.NoBackup", {"id": i["id"], "reason": NO_BACKUP_REASON})
    assert int(pg.psql("SELECT count(*) FROM migrated.backups")) == 0


# --- post-verification --------------------------------------------------------------

def test_failed_verify_fails_the_job_and_verify_runs_on_demand(sd, pg):
    # the acct step leaves the rows without a balance without their org
    left = int(pg.psql("SELECT count(*) FROM acct WHERE tenant_id = 'acme'"
                       " AND balance IS NULL"))
    assert left > 0
    job = run_job(sd, "ver", "acme", want="failed")
    item_rows = rows_of(pg, "item", "acme")
    assert job["error"] == ("verification failed: orgs: found '%d',"
                            " expected '0'" % left)
    assert job["warnings"] == ["items_left: found '%d', expected '0'"
                               % item_rows]
    # the steps did run (verification comes after them)
    assert [s["state"] for s in job["steps"]] == ["done", "done"]

    expect = {"job": job["id"], "plan": "ver", "tenant": "acme", "ok": False,
              "checks": [
                  {"name": "orgs", "severity": "error", "ok": False,
                   "found": str(left), "expected": "0"},
                  {"name": "items_left", "severity": "warning", "ok": False,
                   "found": str(item_rows), "expected": "0"}]}
    assert ok(sd, "Verify", {"id": job["id"]}) == expect
    assert ok(sd, "Verify", {"plan": "ver", "tenant": "acme"}) == expect

    # fix the data by hand: the same verification now holds
    pg.psql("UPDATE acct SET org = 100 WHERE tenant_id = 'acme'")
    expect["ok"] = True
    expect["checks"][0].update(ok=True, found="0")
    assert ok(sd, "Verify", {"id": job["id"]}) == expect

    assert err(sd, "Verify", {"id": 424242}) == (
        "io.migrated.NoSuchJob", {"id": 424242})
    assert err(sd, "Verify", {"plan": "ver"}) == (
        INVALID, {"parameter": "tenant"})
    assert err(sd, "Verify", {}) == (INVALID, {"parameter": "id"})
    assert err(sd, "Verify", {"id": job["id"], "tenant": "acme"}) == (
        INVALID, {"parameter": "plan"})


def test_verify_of_a_good_job(sd, pg):
    pg.psql("UPDATE acct SET balance = 0 WHERE balance IS NULL")
    job = run_job(sd, "ver", "initech")
    assert job["error"] is None
    res = ok(sd, "Verify", {"id": job["id"]})
    assert res["ok"] is True
    assert [(c["name"], c["ok"]) for c in res["checks"]] == [
        ("orgs", True), ("items_left", False)]


# --- audit log ------------------------------------------------------------------------

def test_every_mutating_call_is_audited(make_daemon, pg):
    make_data(pg)
    make_slow_table(pg, tenants=("s1",), rows=200)
    d = make_daemon()
    install(d, safe=safety_plan(), slow=slow_plan())
    d.start()
    since = last_log_id(d)
    done = run_job(d, "safe", "acme")
    (slow,) = submit(d, "slow", ["s1"])
    calls = [
        ("Pause", {"ids": [slow]}, "ok"),
        ("Resume", {"ids": [slow]}, "ok"),
        ("Cancel", {"ids": [slow]}, "ok"),
        ("Retry", {"ids": [slow]}, "ok"),
        ("Pause", {"ids": [987654]}, "io.migrated.NoSuchJob"),
        ("Submit", {"plan": "nope", "tenants": ["x"]},
         "io.migrated.NoSuchPlan"),
        ("Submit", {"plan": "safe", "tenants": ["x"], "batch_size": 0},
         INVALID),
        ("Rollback", {"id": done["id"]}, "ok"),
        ("Rollback", {"id": 5555}, "io.migrated.NoSuchJob"),
        ("DropBackups", {"older_than_days": 30}, "ok"),
        ("Reload", {}, "ok"),
    ]
    rb = None
    for name, params, result in calls:
        reply = d.call("io.migrated." + name, params)
        assert reply.get("error", "ok") == result, (name, reply)
        if name == "Rollback" and result == "ok":
            rb = reply["parameters"]["job"]
    assert wait_ended(d, rb)["state"] == "succeeded"
    write_plan(d, "broken", "[plan]\n")
    reply = d.call("io.migrated.Reload", {})
    assert reply["error"] == "io.migrated.ReloadFailed"
    final = wait_ended(d, slow, timeout=30)
    assert final["state"] == "succeeded", final

    logged = calls_logged(d, since)
    want = [(0, "root", "io.migrated.Submit",
             {"plan": "safe", "tenants": ["acme"]}, "ok"),
            (0, "root", "io.migrated.Submit",
             {"plan": "slow", "tenants": ["s1"]}, "ok")]
    want += [(0, "root", "io.migrated." + n, p, r) for n, p, r in calls]
    want += [(0, "root", "io.migrated.Reload", {},
              "io.migrated.ReloadFailed")]
    assert logged == want

    # job transitions: "job <state>", uid null, with where it came from
    # GetLog for a job: the operator calls that named it, and its
    # transitions: "job <state>", uid null, with where it came from
    named = list(reversed(log_entries(d, job=slow)))
    assert [(e["action"], e["parameters"], e["result"]) for e in named
            if not e["action"].startswith("job ")] == [
        ("io.migrated." + n, p, r) for n, p, r in calls
        if slow in p.get("ids", []) or p.get("id") == slow]
    entries = [e for e in named if e["action"].startswith("job ")]
    assert all(e["job"] == slow and e["uid"] is None and e["user"] is None
               for e in entries)
    states = [e["action"] for e in entries]
    assert [a for a in states if a != "job running"] == [
        "job queued", "job paused", "job queued", "job cancelled",
        "job queued", "job succeeded"]
    assert states[-2:] == ["job running", "job succeeded"]
    prev = None
    for e in entries:
        assert e["parameters"]["from"] == prev, entries
        assert (e["parameters"]["plan"], e["parameters"]["tenant"]) == (
            "slow", "s1")
        prev = e["action"][4:]
    rbs = [e["action"] for e in reversed(log_entries(d, job=done["id"]))]
    assert rbs == ["job queued", "job running", "job succeeded",
                   "io.migrated.Rollback", "job rolled_back"]


def test_get_log_pages(sd, pg):
    for t in TENANTS:
        ok(sd, "Submit", {"plan": "nobk", "tenants": [t], "dry_run": True})
    for j in ok(sd, "ListJobs")["jobs"]:
        wait_ended(sd, j["id"])
    full = log_entries(sd)
    assert len(full) >= 12
    ids = [e["id"] for e in full]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    pages = []
    before = None
    while True:
        params = {"limit": 5}
        if before is not None:
            params["before"] = before
        page = ok(sd, "GetLog", params)["entries"]
        if not page:
            break
        assert len(page) <= 5
        pages.append(page)
        before = page[-1]["id"]
    assert [e for p in pages for e in p] == full
    assert all(len(p) == 5 for p in pages[:-1])
    first_job = min(j["id"] for j in ok(sd, "ListJobs")["jobs"])
    mine = log_entries(sd, job=first_job)
    assert mine and all(e["job"] == first_job for e in mine)
    assert mine == [e for e in full if e["job"] == first_job]
    assert ok(sd, "GetLog", {"job": first_job, "limit": 1})["entries"] == \
        mine[:1]
    assert ok(sd, "GetLog", {"before": 1})["entries"] == []
    for params, bad in (({"limit": 0}, "limit"), ({"before": 0}, "before"),
                        ({"job": "1"}, "job"), ({"limit": 100001}, "limit")):
        assert err(sd, "GetLog", params) == (INVALID, {"parameter": bad})


# --- migratectl ------------------------------------------------------------------------

def ctl(daemon, *args, rc=0):
    """migratectl ARGS; asserts the exit status; returns (the first JSON
    value of stdout, or None without --json; stdout; stderr)."""
    got, out, error = daemon.ctl(*args)
    assert got == rc, "migratectl %s: rc %d\n%s%s" % (
        " ".join(args), got, out, error)
    value = None
    if "--json" in args and out.strip():
        value = json.JSONDecoder().raw_decode(out.lstrip())[0]
    return value, out, error


def test_migratectl_safety_commands(sd, pg):
    original = fingerprints(pg, TABLES)
    res, _, _ = ctl(sd, "--json", "validate", "chk", "--tenant", "acme",
                    "--tenant", "globex", rc=4)
    assert [(r["tenant"], r["ok"]) for r in res["results"]] == [
        ("acme", True), ("globex", False)]
    _, out, _ = ctl(sd, "validate", "chk", "--tenant", "acme")
    assert "acme" in out
    res, _, error = ctl(sd, "--json", "submit", "chk", "--tenant", "globex",
                        "--wait", rc=4)
    (refused,) = res["jobs"]
    assert "pre-check failed, nothing was changed: active: found 'frozen'," \
        " expected 'active'" in error
    assert fingerprints(pg, TABLES) == original

    res, _, _ = ctl(sd, "--json", "submit", "chk", "--tenant", "globex",
                    "--skip-checks", "--wait")
    (skipped,) = res["jobs"]
    entries, _, _ = ctl(sd, "--json", "log", "--limit", "1000")
    assert [e["parameters"] for e in entries["entries"]
            if e["action"] == "io.migrated.Submit"
            and e["parameters"].get("skip_checks")] == [
        {"plan": "chk", "tenants": ["globex"], "skip_checks": True}]
    base = fingerprints(pg, TABLES)

    ctl(sd, "--json", "submit", "safe", "--tenant", "acme", "--dry-run",
        "--wait")
    assert fingerprints(pg, TABLES) == base
    res, _, _ = ctl(sd, "--json", "submit", "safe", "--tenant", "acme",
                    "--wait")
    (job,) = res["jobs"]
    assert fingerprints(pg, TABLES) != base
    res, _, _ = ctl(sd, "--json", "backups", "--job", str(job))
    assert [(b["step"], b["rows"]) for b in res["backups"]] == [
        ("acct", ROWS), ("item", ROWS)]
    _, out, _ = ctl(sd, "backups")
    assert "acct" in out and "item" in out
    res, _, _ = ctl(sd, "--json", "rollback", "safe", "--tenant", "acme",
                    "--wait")
    assert fingerprints(pg, TABLES) == base
    assert show(sd, job)["state"] == "rolled_back"
    assert show(sd, res["job"])["rollback_of"] == job
    _, _, error = ctl(sd, "rollback", str(refused), rc=1)
    assert "io.migrated.NoBackup" in error

    ctl(sd, "--json", "submit", "ver", "--tenant", "initech", "--wait", rc=4)
    res, _, _ = ctl(sd, "--json", "verify", "ver", "--tenant", "initech",
                    rc=4)
    assert (res["ok"], [c["name"] for c in res["checks"]]) == (
        False, ["orgs", "items_left"])

    res, _, _ = ctl(sd, "--json", "backups", "--drop", str(skipped))
    assert res == {"dropped": 2 * ROWS}
    ctl(sd, "--json", "backups", "--drop", "--older-than", "0")
    assert ok(sd, "ListBackups") == {"backups": []}
    res, _, _ = ctl(sd, "--json", "log", "--job", str(job))
    assert {e["job"] for e in res["entries"]} == {job}
    assert [e["action"] for e in res["entries"]][:1] == ["job rolled_back"]
