"""Schema sets without running their files: `migrated -n` refusals,
SchemaStatus with every state (CRLF and LF files alike, an edited file, a
missing one, out of order, failed, baseline, adopted), as a summary and
with all, an edit behind the kept checksums, SchemaBaseline
(twice, and a conflict), SchemaRepair (accept, forget, refusals), and
`migratectl schema status|baseline|repair`."""

import hashlib
import json
import os
import time

from conftest import MIGRATED, run, wait_for
from safety_util import err, ok

IFACE = "io.migrated."
CONFLICT = IFACE + "SchemaConflict"
NO_SET = IFACE + "NoSuchSchemaSet"


def sha(text):
    return hashlib.sha256(text.replace("\r\n", "\n").encode()).hexdigest()


def write(d, name, text, sub="app"):
    path = d.dir / "schema" / sub
    path.mkdir(parents=True, exist_ok=True)
    (path / name).write_bytes(text.encode())
    return path


def schema_conf(d, sets=("app",), extra=""):
    text = d.conf_text() + extra
    for s in sets:
        text += "\n[schema %s]\ndatabase = target\ndir = %s\n" % (
            s, d.dir / "schema" / s)
    d.write_conf(text)


def history_row(pg, version, name, checksum, kind, outcome="succeeded",
                error=None, set_name="app"):
    pg.psql("INSERT INTO migrated.schema_history (set_name, version, name,"
            " checksum, kind, outcome, error, finished, duration_ms)"
            " VALUES ('%s', %d, '%s', %s, '%s', '%s', %s, now(), 7)"
            % (set_name, version, name,
               "'%s'" % checksum if checksum else "NULL", kind, outcome,
               "'%s'" % error if error else "NULL"))


ENSURE = """
CREATE SCHEMA IF NOT EXISTS migrated;
CREATE TABLE IF NOT EXISTS migrated.schema_history (
    id bigserial PRIMARY KEY, set_name text NOT NULL,
    version bigint NOT NULL, name text NOT NULL, checksum text,
    kind text NOT NULL, adopted_from text, uid integer, username text,
    job_id bigint, started timestamptz NOT NULL DEFAULT now(),
    finished timestamptz, duration_ms bigint, outcome text NOT NULL,
    error text);
"""


def versions(out):
    """The VERSION column of migratectl schema status's table."""
    return [ln.split()[0] for ln in out.splitlines()
            if ln.split() and ln.split()[0].isdigit()]


def q(pg, sql):
    return pg.psql(sql).strip()


def states(reply, set_name="app"):
    (s,) = [s for s in reply["sets"] if s["name"] == set_name]
    return {f["version"]: f["state"] for f in s["files"]}, s


# --- migrated -n ----------------------------------------------------------------

def test_check_counts_sets_and_refuses_bad_files(make_daemon):
    d = make_daemon()
    write(d, "001_init.sql", "CREATE TABLE a (id int);\n")
    write(d, "002_more.sql", "CREATE TABLE b (id int);\n")
    schema_conf(d)
    rc, out, e = run([MIGRATED, "-n", "-c", d.conf_path])
    assert (rc, e) == (0, ""), (rc, out, e)
    assert out == "%s: configuration, 0 database(s), 0 plan(s) and 1 " \
        "schema set(s) are valid\n" % d.conf_path

    bad = write(d, "2_again.sql", "SELECT 1;\n")
    rc, out, e = run([MIGRATED, "-n", "-c", d.conf_path])
    assert rc == 1
    assert "%s/002_more.sql: version 2 is also 2_again.sql" % bad in e \
        or "%s/2_again.sql: version 2 is also 002_more.sql" % bad in e, e
    (bad / "2_again.sql").unlink()

    write(d, "notes.sql", "SELECT 1;\n")
    rc, out, e = run([MIGRATED, "-n", "-c", d.conf_path])
    assert rc == 1
    assert e.startswith("%s/notes.sql: expected NNN_name.sql" % bad), e
    (bad / "notes.sql").unlink()

    write(d, "003_x.down.sql", "SELECT 1;\n")
    rc, out, e = run([MIGRATED, "-n", "-c", d.conf_path])
    assert rc == 1
    assert "003_x.down.sql: a down file without its up file" in e, e


def test_check_refuses_unknown_database_and_missing_dir(make_daemon):
    d = make_daemon()
    d.write_conf(d.conf_text() + "\n[schema app]\ndatabase = nope\n"
                 "dir = /nonexistent\n")
    rc, out, e = run([MIGRATED, "-n", "-c", d.conf_path])
    assert rc == 1
    assert e == "%s:%d: [schema app] database: no [database nope] " \
        "section; name one, or use target\n" % (
            d.conf_path, d.conf_text().count("\n") + 2), e
    d.write_conf(d.conf_text() + "\n[schema app]\ndir = /nonexistent\n")
    rc, out, e = run([MIGRATED, "-n", "-c", d.conf_path])
    assert (rc, e) == (1, "/nonexistent: No such file or directory\n")


# --- SchemaStatus ---------------------------------------------------------------

def test_status_every_state(pg, make_daemon):
    d = make_daemon()
    lf = "CREATE TABLE t1 (id int);\nSELECT 1;\n"
    write(d, "001_base.sql", lf)
    # the same text with CRLF line ends: the checksum recorded for LF
    write(d, "002_crlf.sql", lf.replace("\n", "\r\n"))
    write(d, "003_edited.sql", "SELECT 3;\n")
    write(d, "004_adopted.sql", "SELECT 4;\n")
    write(d, "005_late.sql", "SELECT 5;\n")
    write(d, "007_failed.sql", "SELECT 7;\n")
    write(d, "008_applied.sql", "SELECT 8;\n")
    write(d, "008_applied.down.sql", "SELECT -8;\n")
    write(d, "010_pending.sql", "-- migrated: no-transaction\nSELECT 10;\n")
    schema_conf(d)
    d.start()
    # before any history: all pending, nothing created by reading
    st, s = states(ok(d, "SchemaStatus", {}))
    assert set(st.values()) == {"pending"}
    assert s["current"] is None and s["pending"] == 8
    assert not s["needs_action"]
    assert s["database"] == "target"

    pg.psql(ENSURE)
    history_row(pg, 1, "base", sha(lf), "baseline")
    history_row(pg, 2, "crlf", sha(lf), "applied")
    history_row(pg, 3, "edited", sha("SELECT 3 -- old;\n"), "applied")
    history_row(pg, 4, "adopted", None, "adopted")
    history_row(pg, 6, "gone", sha("x"), "applied")
    history_row(pg, 7, "failed", None, "applied", outcome="failed",
                error="syntax error (SQLSTATE 42601) at 007_failed.sql:1:8")
    history_row(pg, 8, "applied", sha("SELECT 8;\n"), "applied")
    history_row(pg, 1, "other", sha("y"), "applied", set_name="other")
    reply = ok(d, "SchemaStatus", {"set": "app", "all": True})
    st, s = states(reply)
    assert st == {1: "baseline", 2: "applied", 3: "edited", 4: "adopted",
                  5: "out_of_order", 6: "missing", 7: "failed",
                  8: "applied", 10: "pending"}
    assert s["all"] is True
    assert s["current"] == 8 and s["pending"] == 3 and s["needs_action"]
    files = {f["version"]: f for f in s["files"]}
    assert files[2]["checksum"] == files[2]["recorded_checksum"] == sha(lf)
    assert files[3]["recorded_checksum"] != files[3]["checksum"]
    assert files[6]["checksum"] is None and files[6]["name"] == "gone"
    assert "42601" in files[7]["error"]
    assert files[8]["has_down"] and not files[1]["has_down"]
    assert files[10]["no_transaction"]
    assert files[8]["duration_ms"] == 7
    assert files[8]["applied_at"].endswith("Z")

    # by default a summary: the counts, and only the versions to act on
    st, summary = states(ok(d, "SchemaStatus", {"set": "app"}))
    assert st == {3: "edited", 5: "out_of_order", 6: "missing",
                  7: "failed", 10: "pending"}
    assert summary["all"] is False
    assert summary["counts"] == {
        "applied": 2, "baseline": 1, "adopted": 1, "pending": 1,
        "out_of_order": 1, "failed": 1, "edited": 1, "missing": 1}
    for key in ("current", "pending", "needs_action"):
        assert summary[key] == s[key]

    # the CLI: a table, and exit 4 when something needs action
    rc, out, e = d.ctl("schema", "status")
    assert rc == 4, (rc, out, e)
    assert "edited" in out and "out_of_order" in out and "missing" in out
    lines = out.splitlines()
    assert lines[1] == ("Versions: 2 applied, 1 baseline, 1 adopted, "
                        "1 pending, 1 out_of_order, 1 failed, 1 edited, "
                        "1 missing"), out
    listed = versions(out)
    assert listed == ["3", "5", "6", "7", "10"], out
    rc, out, e = d.ctl("schema", "status", "--all")
    assert rc == 4, (rc, out, e)
    listed = versions(out)
    assert listed == ["1", "2", "3", "4", "5", "6", "7", "8", "10"], out
    rc, out, e = d.ctl("--json", "schema", "status", "app")
    assert rc == 4
    assert json.loads(out)["sets"][0]["name"] == "app"
    assert len(json.loads(out)["sets"][0]["files"]) == 5
    rc, out, e = d.ctl("--json", "schema", "status", "app", "--all")
    assert rc == 4
    assert len(json.loads(out)["sets"][0]["files"]) == 9


def test_status_sees_an_edit_that_keeps_size_and_mtime(pg, make_daemon):
    """The checksums kept between calls go by size, mtime, ctime and
    inode: an edit of the same length whose mtime is set back is seen."""
    d = make_daemon()
    write(d, "001_a.sql", "SELECT 1;\n")
    schema_conf(d)
    d.start()
    path = d.dir / "schema" / "app" / "001_a.sql"
    old = time.time() - 3600
    os.utime(path, (old, old))
    time.sleep(1.2)  # older than a second: now the daemon keeps its sum
    pg.psql(ENSURE)
    history_row(pg, 1, "a", sha("SELECT 1;\n"), "applied")
    for _ in range(2):  # read, then from what it kept
        st, s = states(ok(d, "SchemaStatus", {"all": True}))
        assert st == {1: "applied"}, s
    path.write_text("SELECT 2;\n")
    os.utime(path, (old, old))
    st, s = states(ok(d, "SchemaStatus", {}))
    assert st == {1: "edited"}, s
    assert s["files"][0]["checksum"] == sha("SELECT 2;\n")


def test_status_clean_set_exits_zero(pg, make_daemon):
    d = make_daemon()
    write(d, "001_a.sql", "SELECT 1;\n")
    schema_conf(d)
    d.start()
    pg.psql(ENSURE)
    history_row(pg, 1, "a", sha("SELECT 1;\n"), "applied")
    rc, out, e = d.ctl("schema", "status")
    assert rc == 0, (rc, out, e)
    assert "applied" in out and "app" in out


def test_status_unknown_set_and_several_sets(make_daemon):
    d = make_daemon()
    write(d, "001_a.sql", "SELECT 1;\n")
    write(d, "001_b.sql", "SELECT 1;\n", sub="two")
    schema_conf(d, sets=("app", "two"))
    d.start()
    assert err(d, "SchemaStatus", {"set": "nope"}) == (NO_SET,
                                                       {"name": "nope"})
    assert len(ok(d, "SchemaStatus")["sets"]) == 2
    # baseline without set is ambiguous with two sets
    assert err(d, "SchemaBaseline", {"version": 1}) == (NO_SET, {"name": ""})
    rc, out, e = d.ctl("schema", "status", "nope")
    assert rc != 0 and "nope" in e


# --- SchemaBaseline -------------------------------------------------------------

def test_baseline_twice_and_conflict(pg, make_daemon):
    d = make_daemon()
    write(d, "001_a.sql", "SELECT 1;\n")
    write(d, "002_b.sql", "SELECT 2;\n")
    write(d, "005_c.sql", "SELECT 5;\n")
    schema_conf(d)
    d.start()
    assert ok(d, "SchemaBaseline", {"version": 2}) == {"recorded": [1, 2]}
    # twice: nothing changes
    assert ok(d, "SchemaBaseline", {"set": "app", "version": 2}) == {
        "recorded": []}
    assert q(pg, "SELECT count(*) FROM migrated.schema_history"
             " WHERE set_name = 'app'") == "2"
    row = q(pg, "SELECT kind, outcome, checksum, uid IS NOT NULL"
                  " FROM migrated.schema_history WHERE version = 1"
                  " AND set_name = 'app'")
    assert row == "baseline|succeeded|%s|t" % sha("SELECT 1;\n")
    st, s = states(ok(d, "SchemaStatus", {"all": True}))
    assert st == {1: "baseline", 2: "baseline", 5: "pending"}

    # a version applied for real is recorded differently: nothing recorded
    history_row(pg, 5, "c", sha("SELECT 5;\n"), "applied")
    write(d, "006_d.sql", "SELECT 6;\n")
    e, p = err(d, "SchemaBaseline", {"version": 6})
    assert e == CONFLICT and p["version"] == 5 and p["set"] == "app", p
    assert "already recorded (kind applied)" in p["message"]
    assert q(pg, "SELECT count(*) FROM migrated.schema_history"
             " WHERE set_name = 'app'") == "3"

    # a baselined file edited since: a conflict too
    write(d, "001_a.sql", "SELECT 1; -- edited\n")
    e, p = err(d, "SchemaBaseline", {"version": 2})
    assert e == CONFLICT and p["version"] == 1
    assert "repair" in p["message"]

    rc, out, e = d.ctl("schema", "baseline", "app", "0")
    assert rc != 0 and "no file" in e, (rc, out, e)


# --- SchemaRepair ---------------------------------------------------------------

def test_repair_accept_and_forget(pg, make_daemon):
    d = make_daemon()
    write(d, "001_a.sql", "SELECT 1;\n")
    write(d, "002_b.sql", "SELECT 2;\n")
    schema_conf(d)
    d.start()
    ok(d, "SchemaBaseline", {"version": 2})
    pg.psql(ENSURE)
    history_row(pg, 3, "gone", sha("x"), "applied")
    write(d, "002_b.sql", "SELECT 2; -- fixed a comment\n")
    st, s = states(ok(d, "SchemaStatus", {"all": True}))
    assert st == {1: "baseline", 2: "edited", 3: "missing"}

    # refusals first
    e, p = err(d, "SchemaRepair", {"version": 2, "action": "drop"})
    assert e == IFACE + "InvalidParameterValue" and p["parameter"] == "action"
    e, p = err(d, "SchemaRepair", {"version": 1, "action": "accept"})
    assert e == CONFLICT and "not edited" in p["message"]
    e, p = err(d, "SchemaRepair", {"version": 2, "action": "forget"})
    assert e == CONFLICT and "still has its file" in p["message"]
    e, p = err(d, "SchemaRepair", {"version": 3, "action": "accept"})
    assert e == CONFLICT and "no file" in p["message"]
    e, p = err(d, "SchemaRepair", {"version": 9, "action": "accept"})
    assert e == CONFLICT

    ok(d, "SchemaRepair", {"version": 2, "action": "accept"})
    rc, out, e = d.ctl("schema", "repair", "app", "3", "forget")
    assert rc == 0, (rc, out, e)
    st, s = states(ok(d, "SchemaStatus", {"all": True}))
    assert st == {1: "baseline", 2: "applied", 3: None} or st == {
        1: "baseline", 2: "applied"}
    assert not s["needs_action"]
    assert q(pg, "SELECT kind || ' ' || checksum FROM"
                   " migrated.schema_history WHERE version = 2"
                   " ORDER BY id DESC LIMIT 1") == "repaired %s" % sha(
                       "SELECT 2; -- fixed a comment\n")
    # audited
    log = q(pg, "SELECT action FROM migrated.audit ORDER BY id")
    assert "io.migrated.SchemaRepair" in log and \
        "io.migrated.SchemaBaseline" in log


# --- baseline and repair never wait behind an apply ------------------------------

def test_baseline_and_repair_refuse_at_once_while_an_apply_runs(
        pg, make_daemon):
    """They only try the set's lock: while an apply holds it they fail with
    SchemaConflict naming the job, and the apply goes on undisturbed."""
    pg.psql("DROP SCHEMA IF EXISTS app CASCADE")
    d = make_daemon()
    write(d, "001_slow.sql", "CREATE SCHEMA app; SELECT pg_sleep(5);\n")
    write(d, "002_t.sql", "CREATE TABLE app.t (id int);\n")
    schema_conf(d)
    d.start()
    job = ok(d, "SchemaApply", {"set": "app"})["job"]
    wait_for("the apply to run its file", lambda: q(
        pg, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE"
        " '%pg_sleep(5)%' AND pid <> pg_backend_pid()") == "1", 20)
    for method, params in (("SchemaBaseline", {"version": 2}),
                           ("SchemaRepair", {"version": 1,
                                             "action": "accept"})):
        e, p = err(d, method, dict(params, set="app"))
        assert e == CONFLICT, (method, e, p)
        assert p["set"] == "app", p
        assert ("the history of schema set app is being written by "
                "migrated job %d (schema app) (backend " % job) \
            in p["message"], p
        assert "try again when it has ended" in p["message"], p
    rc, out, e = d.ctl("schema", "baseline", "app", "2")
    assert rc == 1 and "migrated job %d (schema app)" % job in e, (rc, e)
    # nothing recorded, and the apply still runs
    assert q(pg, "SELECT count(*) FROM migrated.schema_history"
             " WHERE set_name = 'app'") == "0"
    j = d.call("io.migrated.ShowJob", {"id": job})["parameters"]["job"]
    assert j["state"] == "running", j
    wait_for("the apply to end", lambda: d.call(
        "io.migrated.ShowJob", {"id": job})["parameters"]["job"]["state"]
        == "succeeded", 30)
    # the lock is free again: repair gets as far as the history
    e, p = err(d, "SchemaRepair", {"set": "app", "version": 1,
                                   "action": "accept"})
    assert e == CONFLICT and "is not edited" in p["message"], p
