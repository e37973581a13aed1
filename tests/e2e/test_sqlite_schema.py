"""Schema sets on SQLite files (issue 10): status, apply (one write
transaction per file with its row in migrated_schema_history, in the file
itself), its errors (a failing file as file:line:column with nothing
recorded, an edited or missing file, no-transaction files), dry runs,
baseline, repair, adopt of each tool's SQLite history table (the real
tools where npm has them), diff and drift normalised as on PostgreSQL, and
a dump that round-trips. Real SQLite files, the real daemon, driven through
`migratectl schema ... --json`.
"""

import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

import adopt_layouts_sqlite as layouts
from conftest import ROOT, run, wait_for
from jobs_util import show

E2E = os.path.dirname(os.path.abspath(__file__))
NODE_MODULES = os.environ.get(
    "ADOPT_SQLITE_NODE_MODULES",
    os.path.join(str(ROOT), "build", "npm-sqlite", "node_modules"))

FIVE = {
    "001_users.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY,\n"
                     " email TEXT NOT NULL UNIQUE);\n",
    "002_orgs.sql": "CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT);\n",
    "003_tags.sql": "CREATE TABLE tags (id INTEGER PRIMARY KEY);\n"
                    "INSERT INTO tags VALUES (1);\n",
    "004_more.sql": "ALTER TABLE users ADD org_id INTEGER REFERENCES orgs;\n",
    "005_index.sql": "CREATE INDEX users_org ON users (org_id)\n"
                     " WHERE org_id IS NOT NULL;\n",
}

RICH = """\
CREATE TABLE orgs (id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  plan TEXT DEFAULT 'free' CHECK (plan IN ('free', 'pro')));
CREATE TABLE users (id INTEGER PRIMARY KEY,
  org_id INTEGER NOT NULL REFERENCES orgs ON DELETE CASCADE,
  email TEXT NOT NULL, deleted_at TEXT,
  CONSTRAINT email_has_at CHECK (email LIKE '%@%'),
  UNIQUE (org_id, email));
CREATE INDEX users_live ON users (email) WHERE deleted_at IS NULL;
CREATE INDEX users_lower ON users (lower(email), org_id DESC);
CREATE VIEW live_users AS SELECT id, email FROM users
  WHERE deleted_at IS NULL;
CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN
  UPDATE orgs SET name = name WHERE id = NEW.org_id; END;
"""


class Lite:
    """A daemon with [database lite] (a SQLite file) and [schema app] on
    it; more databases by name."""

    def __init__(self, make_daemon, files=None, extra_dbs=()):
        self.d = make_daemon()
        base = Path(self.d.dir)
        self.path = base / "lite.db"
        self.dir = base / "schema"
        self.dir.mkdir()
        for name, text in (files or {}).items():
            (self.dir / name).write_bytes(text.encode())
        conf = self.d.conf_text() + "\n[database lite]\nsqlite = %s\n" % (
            self.path)
        self.paths = {}
        for name in extra_dbs:
            self.paths[name] = base / (name + ".db")
            conf += "\n[database %s]\nsqlite = %s\n" % (name,
                                                         self.paths[name])
            conf += "\n[schema %s]\ndatabase = %s\ndir = %s\n" % (
                name, name, base / (name + "-set"))
            (base / (name + "-set")).mkdir()
        conf += "\n[schema app]\ndatabase = lite\ndir = %s\n" % self.dir
        self.d.write_conf(conf)
        self.d.start()

    def ctl(self, *args):
        rc, out, err = self.d.ctl("--json", "schema", *args, timeout=60)
        return rc, (json.loads(out) if out.strip() else None), err

    def status(self):
        rc, out, err = self.ctl("status", "app", "--all")
        assert rc in (0, 4), (rc, out, err)
        return rc, {f["version"]: f for f in out["sets"][0]["files"]}

    def apply(self, *args, set_name="app"):
        rc, out, err = self.ctl("apply", set_name, *args)
        assert rc == 0, (rc, out, err)
        job = out["job"]
        return wait_for("schema job %d to end" % job,
                        lambda: (lambda j: j if j["state"] in (
                            "succeeded", "failed", "cancelled") else None)(
                            show(self.d, job)), 60)

    def sql(self, query, path=None):
        with sqlite3.connect(str(path or self.path)) as db:
            return db.execute(query).fetchall()

    def history(self):
        return self.sql("SELECT version, kind, outcome FROM"
                        " migrated_schema_history WHERE set_name = 'app'"
                        " ORDER BY id")

    def tables(self, path=None):
        return [r[0] for r in self.sql(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name"
            " NOT LIKE 'sqlite%' AND name <> 'migrated_schema_history'"
            " ORDER BY name", path)]


def test_status_apply_and_the_history_in_the_file(make_daemon):
    lite = Lite(make_daemon, FIVE)
    rc, files = lite.status()
    assert rc == 4 and [f["state"] for f in files.values()] == ["pending"] * 5
    job = lite.apply()
    assert job["state"] == "succeeded", job
    assert job["kind"] == "schema"
    assert lite.tables() == ["orgs", "tags", "users"]
    assert lite.history() == [(v, "applied", "succeeded")
                              for v in range(1, 6)]
    rc, files = lite.status()
    assert rc == 0 and all(f["state"] == "applied" for f in files.values()), (
        json.dumps(files, indent=1))
    assert files[1]["applied_at"].endswith("Z")
    # nothing pending: a second apply runs nothing
    assert lite.apply()["state"] == "succeeded"
    assert len(lite.history()) == 5
    # drift: the file against its set is clean, then an index is added
    rc, out, err = lite.ctl("drift", "app")
    assert rc == 0 and out["same"], (rc, out, err)
    lite.sql("CREATE INDEX sneaky ON orgs (name)")
    rc, out, err = lite.ctl("drift", "app")
    assert rc == 1, (rc, out, err)
    assert [(x["kind"], x["change"]) for x in out["differences"]] == [
        ("index", "only_in_a")]
    assert out["differences"][0]["name"] == "index on main.orgs (name)"


def test_a_failing_file_is_file_line_column_and_nothing_after_it(
        make_daemon):
    files = dict(FIVE)
    files["003_tags.sql"] = ("CREATE TABLE tags (id INTEGER PRIMARY KEY);\n"
                             "INSERT INTO tags VALUES (1);\n"
                             "INSERT INTO nowhere VALUES (1);\n")
    lite = Lite(make_daemon, files)
    job = lite.apply()
    assert job["state"] == "failed", job
    path = str(lite.dir / "003_tags.sql")
    assert path + ":3:" in job["error"], job["error"]
    assert "no such table: nowhere" in job["error"], job["error"]
    # file 3 rolled back whole (its table too); 4 and 5 never ran
    assert lite.tables() == ["orgs", "users"]
    assert lite.history() == [(1, "applied", "succeeded"),
                              (2, "applied", "succeeded"),
                              (3, "applied", "failed")]
    rc, st = lite.status()
    assert rc == 4 and st[3]["state"] == "failed"
    assert "no such table" in st[3]["error"]
    # a transaction statement in a normal file is refused before it runs
    (lite.dir / "003_tags.sql").write_text(
        "CREATE TABLE tags (id INTEGER);\nCOMMIT;\n")
    job = lite.apply()
    assert job["state"] == "failed"
    assert path + ":2:1: COMMIT would end the transaction" in job["error"]
    assert lite.tables() == ["orgs", "users"]


def test_edited_and_missing_files_stop_apply_until_repair(make_daemon):
    lite = Lite(make_daemon, FIVE)
    assert lite.apply("--to", "3")["state"] == "succeeded"
    (lite.dir / "002_orgs.sql").write_text(
        "CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT, x INT);\n")
    rc, st = lite.status()
    assert rc == 4 and st[2]["state"] == "edited"
    rc, out, err = lite.ctl("apply", "app")
    assert rc == 1 and "002_orgs.sql was edited" in err, (rc, out, err)
    rc, out, err = lite.ctl("repair", "app", "2", "accept")
    assert rc == 0, err
    os.unlink(lite.dir / "001_users.sql")
    rc, out, err = lite.ctl("apply", "app")
    assert rc == 1 and "version 1 (users) is recorded as applied" in err
    rc, out, err = lite.ctl("repair", "app", "1", "forget")
    assert rc == 0, err
    assert lite.apply()["state"] == "succeeded"
    assert [k for _, k, _ in lite.history()] == [
        "applied", "applied", "applied", "repaired", "forgotten", "applied",
        "applied"]


def test_dry_run_records_nothing_and_no_transaction_files(make_daemon):
    lite = Lite(make_daemon, {
        "001_t.sql": "CREATE TABLE t (a INT);\nINSERT INTO t VALUES (1), (2);\n"})
    job = lite.apply("--dry-run")
    assert job["state"] == "succeeded", job
    assert any("INSERT 2" in w for w in job["warnings"]), job["warnings"]
    assert lite.tables() == [] and lite.history() == []
    (lite.dir / "002_vacuum.sql").write_text("VACUUM;\n")
    # VACUUM cannot run in the file's transaction: the error says what to do
    job = lite.apply()
    assert job["state"] == "failed"
    assert "-- migrated: no-transaction" in job["error"], job["error"]
    assert str(lite.dir / "002_vacuum.sql") + ":1:1:" in job["error"]
    (lite.dir / "002_vacuum.sql").write_text(
        "-- migrated: no-transaction\nVACUUM;\n")
    assert lite.apply()["state"] == "succeeded"
    assert [(v, o) for v, _, o in lite.history()] == [
        (1, "succeeded"), (2, "failed"), (2, "succeeded")]


def test_baseline_records_without_running(make_daemon):
    lite = Lite(make_daemon, FIVE)
    rc, out, err = lite.ctl("baseline", "app", "2")
    assert rc == 0 and out["recorded"] == [1, 2], (rc, out, err)
    assert lite.tables() == []  # nothing ran
    rc, out, err = lite.ctl("baseline", "app", "2")
    assert rc == 0 and out["recorded"] == [], (rc, out, err)
    rc, st = lite.status()
    assert st[1]["state"] == "baseline" and st[3]["state"] == "pending"
    lite.sql("CREATE TABLE users (id INTEGER PRIMARY KEY,"
             " email TEXT NOT NULL UNIQUE)")
    lite.sql("CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT)")
    assert lite.apply()["state"] == "succeeded"
    rc, out, err = lite.ctl("baseline", "app", "4")
    assert rc == 1 and "version 3 is already recorded (kind applied)" in err
    rc, out, err = lite.ctl("drift", "app")
    assert rc == 0 and out["same"], out


def real_tool(tool, path, set_dir, work):
    if not (shutil.which("node") and os.path.isdir(
            os.path.join(NODE_MODULES, "better-sqlite3"))):
        return False
    rc, out, e = run(["node", os.path.join(E2E, "adopt_tools_sqlite.js"),
                      tool, str(path), str(set_dir), str(work)],
                     env={"NODE_PATH": NODE_MODULES}, timeout=120)
    assert rc == 0, e
    return True


@pytest.mark.parametrize("tool", layouts.TOOLS)
def test_adopt_each_tools_sqlite_table(make_daemon, tool):
    versions, width, script = layouts.build(tool)
    lite = Lite(make_daemon)
    layouts.write_set(lite.dir, versions, width)
    real = tool in ("drizzle", "knex", "kysely") and real_tool(
        tool, lite.path, lite.dir, Path(lite.d.dir))
    if not real:
        with sqlite3.connect(str(lite.path)) as db:
            db.executescript(script)
    rc, out, err = lite.ctl("adopt", "app", "--from", tool)
    assert rc == 0, (rc, out, err)
    assert out["adopted"] == 3, out
    assert [r["outcome"] for r in out["rows"]
            if r["outcome"] != "ignored"] == ["adopted"] * 3, out
    assert "no longer needed" in out["note"], out["note"]
    assert [k for _, k, _ in lite.history()] == ["adopted"] * 3
    rc, st = lite.status()
    assert rc == 0 and all(f["state"] == "adopted" for f in st.values())
    # twice: nothing changes
    rc, out, err = lite.ctl("adopt", "app", "--from", tool)
    assert rc == 0 and out["adopted"] == 0, (rc, out, err)
    assert len(lite.history()) == 3
    # the tool's own tables are all that differs from the set's files;
    # dropped (the note says they are no longer needed), nothing does
    rc, out, err = lite.ctl("drift", "app")
    assert rc == 1 and {re.search(r"main\.(\w+)", x["name"]).group(1)
                        for x in out["differences"]} == set(
        t for t in lite.tables() if t != "users"), out
    for t in lite.tables():
        if t != "users":
            lite.sql('DROP TABLE "%s"' % t)
    rc, out, err = lite.ctl("drift", "app")
    assert rc == 0 and out["same"], out


def test_adopt_errors(make_daemon):
    versions, width, script = layouts.build("goose")
    lite = Lite(make_daemon)
    layouts.write_set(lite.dir, versions, width)
    rc, out, err = lite.ctl("adopt", "app", "--from", "goose")
    assert rc == 1 and "has no table goose_db_version" in err, (rc, err)
    rc, out, err = lite.ctl("adopt", "app", "--from", "flyway")
    assert rc == 1 and "on a SQLite file adopt reads" in err, (rc, err)
    # a version without a file blocks the adopt: nothing is recorded
    with sqlite3.connect(str(lite.path)) as db:
        db.executescript(script)
        db.execute("INSERT INTO goose_db_version (version_id, is_applied)"
                   " VALUES (9, 1)")
    rc, out, err = lite.ctl("adopt", "app", "--from", "goose")
    assert rc == 4 and out["adopted"] == 0, (rc, out, err)
    assert "unmatched" in [r["outcome"] for r in out["rows"]]
    assert lite.history() == []


def test_dump_round_trips_and_diff_normalises(make_daemon):
    lite = Lite(make_daemon, extra_dbs=("legacy", "copy"))
    with sqlite3.connect(str(lite.paths["legacy"])) as db:
        db.executescript(RICH)
    rc, out, err = lite.d.ctl("schema", "dump", "legacy")
    assert rc == 0, err
    assert "CREATE INDEX users_live ON users (email) WHERE" in out
    set_dir = Path(lite.d.dir) / "copy-set"
    (set_dir / "001_baseline.sql").write_text(out)
    # the baseline applied to an empty file, as a schema set
    assert lite.apply(set_name="copy")["state"] == "succeeded"
    rc, diff, err = lite.ctl("diff", "legacy", "copy")
    assert rc == 0 and diff["same"], (rc, diff, err)
    # and against the baseline's own files
    rc, diff, err = lite.ctl("diff", "legacy", "files:copy")
    assert rc == 0 and diff["same"], (rc, diff, err)
    # squash: the baseline of the set's first versions, built in memory
    rc, sq, err = lite.ctl("squash", "copy", "--to", "1")
    assert rc == 0 and "CREATE VIEW live_users" in sq["sql"], (rc, err)
    # a real change shows: a view that differs
    with sqlite3.connect(str(lite.paths["copy"])) as db:
        db.executescript("DROP VIEW live_users;"
                         " CREATE VIEW live_users AS SELECT id FROM users;")
    rc, diff, err = lite.ctl("diff", "legacy", "copy")
    assert rc == 1, (rc, diff, err)
    assert [(x["kind"], x["name"], x["change"]) for x in diff["differences"]
            ] == [("view", "main.live_users", "differs")]


def test_a_file_locked_by_another_writer_makes_apply_wait(make_daemon):
    lite = Lite(make_daemon, {"001_t.sql": "CREATE TABLE t (a INT);\n"})
    for round, name in ((1, "t"), (2, "u")):
        # 1: the history table is made under the lock; 2: a file waits
        (lite.dir / ("%03d_%s.sql" % (round, name))).write_text(
            "CREATE TABLE %s (a INT);\n" % name)
        other = sqlite3.connect(str(lite.path), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # the legacy app writing
        try:
            rc, out, err = lite.ctl("apply", "app")
            assert rc == 0, err
            job = out["job"]
            wait_for("the job to wait for the lock", lambda: lite.d.log().count(
                "is locked by another writer; waiting for it") >= round, 30)
            assert show(lite.d, job)["state"] == "running"
            assert len(lite.tables()) == round - 1
        finally:
            other.execute("ROLLBACK")
            other.close()
        wait_for("the job to succeed once the lock is gone",
                 lambda: show(lite.d, job)["state"] == "succeeded", 60)
    assert lite.tables() == ["t", "u"]
    assert lite.history() == [(1, "applied", "succeeded"),
                              (2, "applied", "succeeded")]


def test_revert_with_down_files(make_daemon):
    lite = Lite(make_daemon, {
        "001_t.sql": "CREATE TABLE t (a INT);\n",
        "001_t.down.sql": "DROP TABLE t;\n",
        "002_u.sql": "CREATE TABLE u (a INT);\n"})
    assert lite.apply()["state"] == "succeeded"
    rc, out, err = lite.ctl("revert", "app")
    assert rc == 1 and "version 2 (u) has no down file" in err, (rc, err)
    (lite.dir / "002_u.down.sql").write_text("DROP TABLE u;\n")
    # a down file added after the apply is accepted (nothing to compare)
    rc, out, err = lite.ctl("revert", "app", "--to", "0")
    assert rc == 0, err
    wait_for("the revert to succeed",
             lambda: show(lite.d, out["job"])["state"] == "succeeded", 60)
    assert lite.tables() == []
    assert [(v, k) for v, k, _ in lite.history()][2:] == [
        (2, "reverted"), (1, "reverted")]
