"""Schema sets applied and reverted as jobs (kind "schema"): one
transaction per file with its history row, failures with the server's
message, SQLSTATE and file:line:column, no-transaction files, the lock
that keeps two appliers apart, kill -9 in the middle of a file, dry runs
and reverts with down files.

Every set here creates its objects in a schema of its own (app), dropped
before each test; the history lives in migrated.schema_history, which
pg.reset drops with the rest of the migrated schema.
"""

import os
import signal
import time
from pathlib import Path

from conftest import PSQL, run, wait_for
from jobs_util import show
from safety_util import err, ok

ENDED = ("succeeded", "failed", "cancelled")


def psql_db(pg, db, sql):
    conninfo = pg.conninfo.replace("dbname=migrated", "dbname=%s" % db)
    rc, out, e = run([PSQL, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1",
                      "-d", conninfo, "-c", sql])
    assert rc == 0, e
    return out


def write_files(directory, files, crlf=False):
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        if crlf:
            text = text.replace("\n", "\r\n")
        (directory / name).write_bytes(text.encode())


def start(pg, make_daemon, files, database="target", extra="", **kw):
    pg.psql("DROP SCHEMA IF EXISTS app CASCADE")
    d = make_daemon()
    directory = Path(d.dir) / "schema"
    write_files(directory, files, **kw)
    d.write_conf(d.conf_text() + extra + "\n[schema app]\ndatabase = %s\n"
                 "dir = %s\n" % (database, directory))
    d.start()
    d.schema_dir = directory
    return d


def apply(d, **params):
    return ok(d, "SchemaApply", dict({"set": "app"}, **params))["job"]


def revert(d, **params):
    return ok(d, "SchemaRevert", dict({"set": "app"}, **params))["job"]


def wait_job(d, job, timeout=30):
    def ended():
        j = show(d, job, unavailable_ok=True)
        return j if j is not None and j["state"] in ENDED else None
    return wait_for("schema job %d to end" % job, ended, timeout)


def history(pg, db="migrated"):
    """[(version, kind, outcome, error)] in order of id."""
    out = psql_db(pg, db, "SELECT version, kind, outcome, coalesce(error, '')"
                  " FROM migrated.schema_history WHERE set_name = 'app'"
                  " ORDER BY id")
    return [tuple(int(f) if i == 0 else f for i, f in enumerate(
        line.split("|", 3))) for line in out.splitlines()]


def tables(pg, db="migrated"):
    return psql_db(pg, db, "SELECT string_agg(tablename, ',' ORDER BY"
                   " tablename) FROM pg_tables WHERE schemaname = 'app'"
                   ).strip()


FIVE = {
    "001_schema.sql": "CREATE SCHEMA app;\n",
    "002_users.sql": "CREATE TABLE app.users (id bigint PRIMARY KEY);\n",
    "003_orders.sql": ("-- orders of users\n"
                       "CREATE TABLE app.orders (id bigint PRIMARY KEY);\n"
                       "INSERT INTO app.orders\n"
                       "  SELECT id FROM app.nope;\n"),
    "004_items.sql": "CREATE TABLE app.items (id bigint);\n",
    "005_tags.sql": "CREATE TABLE app.tags (id bigint);\n",
}


def test_failure_in_the_middle_of_five_then_fixed(pg, make_daemon):
    d = start(pg, make_daemon, FIVE)
    job = apply(d)
    j = wait_job(d, job)
    assert j["state"] == "failed", j
    assert j["kind"] == "schema" and j["plan"] == "schema:app", j
    assert j["tenant"] == "target", j
    path = str(d.schema_dir / "003_orders.sql")
    # the position of "app.nope": line 4, column 18 of the file
    assert "%s:4:18: relation \"app.nope\" does not exist" % path in \
        j["error"], j["error"]
    assert "SQLSTATE 42P01" in j["error"], j["error"]
    assert "versions after it did not run" in j["error"], j["error"]
    h = history(pg)
    assert [(v, k, o) for v, k, o, _ in h] == [
        (1, "applied", "succeeded"), (2, "applied", "succeeded"),
        (3, "applied", "failed")], h
    assert "%s:4:18" % path in h[2][3]
    assert tables(pg) == "users"  # 003 rolled back with its history row
    steps = {s["name"]: s["state"] for s in j["steps"]}
    assert steps["001_schema"] == "done" and steps["002_users"] == "done"
    assert steps["004_items"] == "pending", steps

    # fixed: the next apply goes on from 003
    (d.schema_dir / "003_orders.sql").write_text(
        "CREATE TABLE app.orders (id bigint PRIMARY KEY);\n")
    j = wait_job(d, apply(d))
    assert j["state"] == "succeeded", j
    assert [s["name"] for s in j["steps"]] == [
        "003_orders", "004_items", "005_tags"], j["steps"]
    assert j["rows_done"] == 3, j
    assert tables(pg) == "items,orders,tags,users"
    ok_rows = [v for v, k, o, _ in history(pg) if o == "succeeded"]
    assert ok_rows == [1, 2, 3, 4, 5]
    who = psql_db(pg, "migrated", "SELECT DISTINCT uid, job_id IS NOT NULL,"
                  " duration_ms >= 0, finished >= started FROM"
                  " migrated.schema_history WHERE set_name = 'app'").strip()
    assert who == "%d|t|t|t" % os.getuid(), who
    # nothing pending: a job that does nothing
    j = wait_job(d, apply(d))
    assert j["state"] == "succeeded" and j["steps"] == [], j


def test_edited_applied_file_stops_apply(pg, make_daemon):
    d = start(pg, make_daemon, {k: FIVE[k] for k in ("001_schema.sql",
                                                     "002_users.sql")})
    assert wait_job(d, apply(d))["state"] == "succeeded"
    (d.schema_dir / "002_users.sql").write_text(
        "CREATE TABLE app.users (id bigint PRIMARY KEY, x int);\n")
    (d.schema_dir / "004_items.sql").write_text(FIVE["004_items.sql"])
    # refused by the method: no job
    e, p = err(d, "SchemaApply", {"set": "app"})
    assert e == "io.migrated.SchemaConflict", (e, p)
    assert p["set"] == "app" and p["version"] == 2, p
    assert "002_users.sql was edited since it was applied" in p["message"]
    assert "schema repair app 2 accept" in p["message"], p
    rc, out, e = d.ctl("schema", "apply", "app")
    assert rc != 0 and "edited since it was applied" in out + e, (out, e)
    assert tables(pg) == "users"  # 004 did not run
    os.unlink(d.schema_dir / "002_users.sql")
    e, p = err(d, "SchemaApply", {"set": "app"})
    assert e == "io.migrated.SchemaConflict"
    assert "version 2 (users) is recorded as applied" in p["message"], p
    assert [x["kind"] for x in d.call("io.migrated.ListJobs", {})[
        "parameters"]["jobs"]] == ["schema"]  # only the first apply


def test_crlf_and_lf_files_apply_alike(pg, make_daemon):
    files = {"001_schema.sql": "CREATE SCHEMA app;\n",
             "002_t.sql": "-- a table\nCREATE TABLE app.t (\n  id int,\n"
                          "  x nope\n);\n"}
    d = start(pg, make_daemon, files, crlf=True)
    j = wait_job(d, apply(d))
    assert j["state"] == "failed"
    # the same line and column as with LF line ends
    assert "002_t.sql:4:5: type \"nope\" does not exist" in j["error"], j
    (d.schema_dir / "002_t.sql").write_bytes(
        b"CREATE TABLE app.t (\r\n  id int\r\n);\r\n")
    assert wait_job(d, apply(d))["state"] == "succeeded"
    crlf_sum = psql_db(pg, "migrated", "SELECT checksum FROM"
                       " migrated.schema_history WHERE set_name = 'app'"
                       " AND version = 2 AND outcome = 'succeeded'").strip()
    # the LF version of the file is the same file: nothing edited
    (d.schema_dir / "002_t.sql").write_bytes(
        b"CREATE TABLE app.t (\n  id int\n);\n")
    (d.schema_dir / "003_u.sql").write_bytes(b"CREATE TABLE app.u ();\n")
    assert wait_job(d, apply(d))["state"] == "succeeded"
    assert tables(pg) == "t,u"
    assert len(crlf_sum) == 64


def test_no_transaction_and_the_hint_without_it(pg, make_daemon):
    files = {
        "001_t.sql": "CREATE SCHEMA app;\n"
                     "CREATE TABLE app.t (id int, v text);\n",
        "002_idx.sql": "CREATE INDEX CONCURRENTLY t_v ON app.t (v);\n",
    }
    d = start(pg, make_daemon, files)
    j = wait_job(d, apply(d))
    assert j["state"] == "failed"
    assert "002_idx.sql:1:1: CREATE INDEX CONCURRENTLY cannot run inside a" \
        " transaction block (SQLSTATE 25001)" in j["error"], j["error"]
    assert "-- migrated: no-transaction" in j["error"]
    (d.schema_dir / "002_idx.sql").write_text(
        "-- migrated: no-transaction\n"
        "CREATE INDEX CONCURRENTLY t_v ON app.t (v);\n"
        "-- a second one; the semicolon in 'a;b' is not an end\n"
        "CREATE INDEX CONCURRENTLY t_w ON app.t (v) WHERE v <> 'a;b';\n")
    j = wait_job(d, apply(d))
    assert j["state"] == "succeeded", j
    assert psql_db(pg, "migrated", "SELECT string_agg(indexname, ','"
                   " ORDER BY indexname) FROM pg_indexes"
                   " WHERE schemaname = 'app'").strip() == "t_v,t_w"
    assert [(v, o) for v, k, o, _ in history(pg)] == [
        (1, "succeeded"), (2, "failed"), (2, "succeeded")]
    # a failing statement of a no-transaction file: the ones before stay;
    # without a position from the server, the statement's start
    (d.schema_dir / "003_more.sql").write_text(
        "-- migrated: no-transaction\n"
        "CREATE INDEX CONCURRENTLY t_id ON app.t (id);\n"
        "\n"
        "CREATE INDEX CONCURRENTLY t_x ON app.t (nope);\n")
    j = wait_job(d, apply(d))
    assert j["state"] == "failed"
    assert "003_more.sql:4:1: column \"nope\" does not exist" in \
        j["error"], j["error"]
    assert "statements before the failing one took effect" in j["error"]
    assert history(pg)[-1][:3] == (3, "applied", "failed")


def test_a_file_that_commits_itself_is_refused(pg, make_daemon):
    files = {"001_schema.sql": "CREATE SCHEMA app;\nCOMMIT;\n"
                               "CREATE TABLE app.t ();\n"}
    d = start(pg, make_daemon, files)
    j = wait_job(d, apply(d))
    assert j["state"] == "failed"
    assert "001_schema.sql:2:1: the file ends or starts a transaction" in \
        j["error"], j["error"]
    assert history(pg) == [] and tables(pg) == ""


def test_dry_run_changes_nothing(pg, make_daemon):
    files = {"001_schema.sql": "CREATE SCHEMA app;\n",
             "002_t.sql": "CREATE TABLE app.t (id int);\n"
                          "INSERT INTO app.t SELECT generate_series(1, 3);\n"}
    d = start(pg, make_daemon, files)
    j = wait_job(d, apply(d, dry_run=True))
    assert j["state"] == "succeeded", j
    assert j["dry_run"] is True
    assert any("002_t: CREATE TABLE, INSERT 0 3" in w
               for w in j["warnings"]), j["warnings"]
    assert j["rows_changed"] == 3, j
    assert tables(pg) == ""
    assert history(pg) == []
    # and the real thing afterwards
    assert wait_job(d, apply(d))["state"] == "succeeded"
    assert tables(pg) == "t"


def test_apply_to_and_revert(pg, make_daemon):
    files = dict(FIVE)
    files["003_orders.sql"] = "CREATE TABLE app.orders (id bigint);\n"
    files["002_users.down.sql"] = "DROP TABLE app.users;\n"
    files["004_items.down.sql"] = "DROP TABLE app.items;\n"
    files["005_tags.down.sql"] = "DROP TABLE app.tags;\n"
    d = start(pg, make_daemon, files)
    assert wait_job(d, apply(d, to=4))["state"] == "succeeded"
    assert tables(pg) == "items,orders,users"
    assert wait_job(d, apply(d))["state"] == "succeeded"
    # without to: the newest version only
    j = wait_job(d, revert(d))
    assert j["state"] == "succeeded", j
    assert [s["name"] for s in j["steps"]] == ["005_tags"]
    assert tables(pg) == "items,orders,users"
    # 003 has no down file: refused before anything runs
    e, p = err(d, "SchemaRevert", {"set": "app", "to": 1})
    assert (e, p["version"]) == ("io.migrated.SchemaConflict", 3), (e, p)
    assert "version 3 (orders) has no down file" in p["message"], p
    assert tables(pg) == "items,orders,users"
    # a down file changed since its version was applied: the job refuses
    (d.schema_dir / "004_items.down.sql").write_text(
        "DROP TABLE app.items CASCADE;\n")
    j = wait_job(d, revert(d, to=3))
    assert j["state"] == "failed"
    assert "004_items.down.sql changed since version 4 was applied" in \
        j["error"], j["error"]
    (d.schema_dir / "004_items.down.sql").write_text(
        "DROP TABLE app.items;\n")
    j = wait_job(d, revert(d, to=3))
    assert j["state"] == "succeeded", j
    assert tables(pg) == "orders,users"
    kinds = [(v, k) for v, k, o, _ in history(pg)][-2:]
    assert kinds == [(5, "reverted"), (4, "reverted")], kinds
    # reverted versions are pending again
    j = wait_job(d, apply(d))
    assert [s["name"] for s in j["steps"]] == ["004_items", "005_tags"]


def test_second_apply_is_refused_while_one_runs(pg, make_daemon):
    files = {"001_slow.sql": "CREATE SCHEMA app; SELECT pg_sleep(2);\n"}
    d = start(pg, make_daemon, files)
    first = apply(d)
    e, p = err(d, "SchemaApply", {"set": "app"})
    assert e == "io.migrated.JobExists", (e, p)
    assert p == {"plan": "schema:app", "tenant": "target", "id": first}
    e, p = err(d, "SchemaRevert", {"set": "app"})
    assert e == "io.migrated.JobExists"
    e, p = err(d, "SchemaApply", {"set": "nope"})
    assert (e, p) == ("io.migrated.NoSuchSchemaSet", {"name": "nope"})
    assert wait_job(d, first)["state"] == "succeeded"
    listed = d.call("io.migrated.ListJobs", {})["parameters"]["jobs"]
    assert [x["kind"] for x in listed] == ["schema"]
    assert listed[0]["parameters"]["op"] == "apply", listed


def test_two_daemons_on_one_state_database(pg, make_daemon):
    """Both have the set: whichever claims the job runs it, alone; the other
    daemon's submit is refused while it runs."""
    files = {"001_slow.sql": "CREATE SCHEMA app; SELECT pg_sleep(2);\n",
             "002_t.sql": "CREATE TABLE app.t (id int);\n"}
    a = start(pg, make_daemon, files)
    b = make_daemon()
    b.write_conf(b.conf_text() + "\n[schema app]\ndatabase = target\n"
                 "dir = %s\n" % a.schema_dir)
    b.start()
    job = apply(b)
    e, p = err(a, "SchemaApply", {"set": "app"})
    assert (e, p["id"]) == ("io.migrated.JobExists", job)
    j = wait_job(a, job)
    assert j["state"] == "succeeded", j
    assert [(v, o) for v, k, o, _ in history(pg)] == [
        (1, "succeeded"), (2, "succeeded")]
    assert wait_job(a, apply(a))["steps"] == []


def test_two_daemons_with_different_state_databases_take_turns(
        pg, make_daemon):
    """Two daemons whose state lives in different databases apply one set to
    one shared database: the lock there makes the second wait, and then find
    nothing left to apply."""
    files = {"001_slow.sql": "CREATE SCHEMA app; SELECT pg_sleep(2);\n",
             "002_t.sql": "CREATE TABLE app.t (id int);\n"}
    a, b = two_state_databases(pg, make_daemon, files)
    ja = apply(a)
    a.wait_log("applying 2 version", timeout=10)
    jb = apply(b)
    ra, rb = wait_job(a, ja), wait_job(b, jb)
    assert ra["state"] == rb["state"] == "succeeded", (ra, rb)
    assert len(ra["steps"]) == 2 and rb["steps"] == [], (ra, rb)
    h = history(pg, "shared")
    assert [(v, k, o) for v, k, o, _ in h] == [
        (1, "applied", "succeeded"), (2, "applied", "succeeded")], h


def two_state_databases(pg, make_daemon, files):
    for db in ("shared", "state2"):
        if not pg.psql("SELECT 1 FROM pg_database WHERE datname = '%s'" % db):
            pg.psql("CREATE DATABASE %s" % db)
    psql_db(pg, "shared", "DROP SCHEMA IF EXISTS app CASCADE;"
            " DROP SCHEMA IF EXISTS migrated CASCADE")
    psql_db(pg, "state2", "DROP SCHEMA IF EXISTS migrated CASCADE")
    shared = pg.conninfo.replace("dbname=migrated", "dbname=shared")
    extra = "\n[database shared]\nconninfo = %s\n" % shared
    a = start(pg, make_daemon, files, database="shared", extra=extra)
    b = make_daemon(conninfo=pg.conninfo.replace("dbname=migrated",
                                                 "dbname=state2"))
    b.write_conf(b.conf_text() + extra + "\n[schema app]\ndatabase = shared\n"
                 "dir = %s\n" % a.schema_dir)
    b.start()
    return a, b


def test_the_job_checks_again_under_the_lock(pg, make_daemon):
    """Accepted at submit, refused by the job: the file was edited while it
    waited for the other daemon's apply to end."""
    files = {"001_slow.sql": "CREATE SCHEMA app; SELECT pg_sleep(2);\n",
             "002_t.sql": "CREATE TABLE app.t (id int);\n"}
    a, b = two_state_databases(pg, make_daemon, files)
    ja = apply(a)
    a.wait_log("applying 2 version", timeout=10)
    jb = apply(b)
    b.wait_log("waiting for the lock|job started", timeout=10)
    (a.schema_dir / "002_t.sql").write_text("CREATE TABLE app.t (x int);\n")
    assert wait_job(a, ja)["state"] == "succeeded"
    j = wait_job(b, jb)
    assert j["state"] == "failed", j
    assert "refused before running anything" in j["error"], j["error"]
    assert "002_t.sql was edited since it was applied" in j["error"]


def test_kill9_during_a_long_file(pg, make_daemon):
    files = {"001_schema.sql": "CREATE SCHEMA app;\n",
             "002_slow.sql": "CREATE TABLE app.slow (id int);\n"
                             "SELECT pg_sleep(3);\n",
             "003_t.sql": "CREATE TABLE app.t (id int);\n"}
    d = start(pg, make_daemon, files)
    job = apply(d)
    wait_for("002 running", lambda: psql_db(
        pg, "migrated", "SELECT count(*) FROM pg_stat_activity WHERE"
        " query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid()"
        ).strip() == "1", 10)
    os.killpg(d.pid, signal.SIGKILL)
    d.proc.wait()
    # the file's transaction never commits: the server ends it
    wait_for("the killed session to end", lambda: psql_db(
        pg, "migrated", "SELECT count(*) FROM pg_stat_activity WHERE"
        " query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid()"
        ).strip() == "0", 15)
    assert tables(pg) == ""
    assert [v for v, k, o, _ in history(pg)] == [1]
    d.start()
    j = wait_job(d, job, timeout=40)
    assert j["state"] == "succeeded", j
    assert tables(pg) == "slow,t"
    assert [(v, o) for v, k, o, _ in history(pg)] == [
        (1, "succeeded"), (2, "succeeded"), (3, "succeeded")]
    assert time.time()  # history and schema agree


def test_migratectl_schema_apply_and_revert_wait(pg, make_daemon):
    files = {"001_schema.sql": "CREATE SCHEMA app;\n",
             "002_t.sql": "CREATE TABLE app.t (id int);\n",
             "002_t.down.sql": "DROP TABLE app.t;\n"}
    d = start(pg, make_daemon, files)
    rc, out, e = d.ctl("schema", "apply", "app", "--wait")
    assert rc == 0, (out, e)
    st = ok(d, "SchemaStatus", {"set": "app", "all": True})["sets"][0]
    assert [f["state"] for f in st["files"]] == ["applied", "applied"], st
    assert st["current"] == 2 and not st["needs_action"], st
    rc, out, e = d.ctl("schema", "revert", "app", "--wait")
    assert rc == 0, (out, e)
    st = ok(d, "SchemaStatus", {"set": "app", "all": True})["sets"][0]
    assert [f["state"] for f in st["files"]] == ["applied", "pending"], st
    # a failing apply: the exit status says so
    (d.schema_dir / "002_t.sql").write_text("CREATE TABLE app.t (id nope);\n")
    rc, out, e = d.ctl("schema", "apply", "app", "--wait")
    assert rc != 0, (out, e)
    st = ok(d, "SchemaStatus", {"set": "app", "all": True})["sets"][0]
    assert st["files"][1]["state"] == "failed", st
    assert "002_t.sql:1:24: type \"nope\" does not exist" in \
        st["files"][1]["error"], st


def test_schema_writes_are_admin_only_and_the_job_is_watched(pg,
                                                            make_daemon):
    """Apply, revert, baseline, repair and adopt need an admin (nobody is
    refused, and the refusal is audited; status is for anyone who can
    connect); the apply job is followed by watch until it ends."""
    from safety_util import DENIED, calls_as
    pg.psql("DROP SCHEMA IF EXISTS app CASCADE")
    d = make_daemon(socket_mode="0666")
    directory = Path(d.dir) / "schema"
    write_files(directory, {"001_schema.sql": "CREATE SCHEMA app;\n",
                            "002_t.sql": "CREATE TABLE app.t (id int);\n"})
    os.chmod(d.dir, 0o755)
    d.write_conf(d.conf_text() + "\n[schema app]\ndatabase = target\n"
                 "dir = %s\n" % directory)
    d.start()
    writes = [("SchemaApply", {"set": "app"}),
              ("SchemaRevert", {"set": "app"}),
              ("SchemaBaseline", {"set": "app", "version": 1}),
              ("SchemaRepair", {"set": "app", "version": 1,
                                "action": "accept"}),
              ("SchemaAdopt", {"set": "app", "from": "flyway"})]
    replies = calls_as("nobody", d.socket,
                       writes + [("SchemaStatus", {"set": "app"})])
    assert [r.get("error") for r in replies] == [DENIED] * 5 + [None], \
        replies
    assert replies[-1]["parameters"]["sets"][0]["counts"]["pending"] == 2
    audited = pg.psql("SELECT action || ' ' || result FROM migrated.audit"
                      " WHERE uid = 65534 ORDER BY id").strip().split("\n")
    assert audited == ["io.migrated.%s %s" % (m, DENIED)
                       for m, _ in writes], audited
    assert tables(pg) == "" and history(pg) == []
    job = apply(d)
    rc, out, e = d.ctl("watch", str(job))
    assert rc == 0, (rc, out, e)
    assert "succeeded" in out, out
    j = show(d, job)
    assert j["kind"] == "schema" and j["state"] == "succeeded", j
    assert tables(pg) == "t"
