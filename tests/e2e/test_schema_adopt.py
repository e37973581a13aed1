"""SchemaAdopt: another tool's history table imported into a schema set's
migrated.schema_history. Every adoptable tool's real layout (the real tool
where it can run here), the report row by row, adopting twice, and the
refusals: a dirty golang-migrate version, an unfinished Prisma row, a row
without a local file, a version recorded differently. All or nothing:
when one row is refused, nothing is recorded."""

import os
from pathlib import Path
import shutil
import subprocess

import pytest

from adopt_layouts import (HOMEMADE_DDL, LAYOUTS, NODE_TOOLS, SMALL,
                           golang_migrate_rows, goose_rows, homemade_rows,
                           knex_rows, migrations, prisma_rows, write_set)
from conftest import PSQL, run, wait_for
from safety_util import INVALID, err, ok

DB = "adoptdb"
E2E = os.path.dirname(os.path.abspath(__file__))
# A node_modules with pg, drizzle-orm, knex and kysely: the real tools run.
NODE_MODULES = os.environ.get(
    "ADOPT_NODE_MODULES",
    str(Path(__file__).resolve().parents[2] / "build" / "npm" /
        "node_modules"))
REFUSED = {"conflict", "unmatched", "dirty", "failed"}


def db_conninfo(pg):
    return pg.conninfo.replace("dbname=migrated", "dbname=" + DB)


def psql(pg, sql):
    rc, out, e = run([PSQL, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1",
                      "-d", db_conninfo(pg), "-c", sql])
    assert rc == 0, e
    return out.strip()


@pytest.fixture
def adopt_db(pg):
    """A fresh database for the set (its history and the foreign tables)."""
    pg.start()
    pg.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % DB)
    pg.psql("CREATE DATABASE %s" % DB)
    return pg


def start(make_daemon, pg, migs):
    d = make_daemon()
    setdir = d.dir / "schema" / "app"
    write_set(setdir, migs)
    d.write_conf(d.conf_text() + "\n[database app]\nconninfo = %s\n"
                 "\n[schema app]\ndatabase = app\ndir = %s\n"
                 % (db_conninfo(pg), setdir))
    d.start()
    d.setdir = setdir
    return d


def adopt(d, tool, **params):
    return ok(d, "SchemaAdopt", dict({"set": "app", "from": tool}, **params))


def history(pg):
    return psql(pg, "SELECT version || ' ' || name || ' ' || kind || ' ' ||"
                " coalesce(adopted_from, '-') || ' ' || outcome"
                " FROM migrated.schema_history ORDER BY id")


def outcomes(reply):
    return [(r["version"], r["outcome"]) for r in reply["rows"]]


def real_tool(tool, pg, setdir, work):
    """Lets the real tool apply the set; False when it is not installed."""
    if tool in NODE_TOOLS:
        if not (shutil.which("node") and
                os.path.isdir(os.path.join(NODE_MODULES, "drizzle-orm"))):
            return False
        rc, out, e = run(["node", os.path.join(E2E, "adopt_tools.js"), tool,
                          "%s/sock" % pg.dir, pg.port, DB, setdir, work],
                         env={"NODE_PATH": NODE_MODULES}, timeout=60)
        assert rc == 0, out + e
        return True
    return False


def check_adopted(pg, d, layout, migs, reply):
    label = "%s (%s)" % ({"flyway": "Flyway", "liquibase": "Liquibase",
                          "drizzle": "Drizzle", "kysely": "Kysely",
                          "typeorm": "TypeORM", "knex": "Knex",
                          "rails": "Rails", "prisma": "Prisma",
                          "alembic": "Alembic"}.get(layout.tool, layout.tool),
                         layout.table)
    assert reply["adopted"] == 3, reply
    # goose's version 0 row is reported, as ignored
    assert [o for o in outcomes(reply) if o != (0, "ignored")] == [
        (m.version, "adopted") for m in migs], reply
    assert "no longer needed" in reply["note"], reply
    assert history(pg).split("\n") == [
        "%d %s adopted %s succeeded" % (m.version, m.name, label)
        for m in migs]
    # the checksum recorded is the file's (line ends normalised), as apply's
    sums = psql(pg, "SELECT checksum FROM migrated.schema_history"
                " ORDER BY version").split("\n")
    assert all(len(s) == 64 for s in sums)
    uid = psql(pg, "SELECT DISTINCT uid FROM migrated.schema_history")
    assert uid == str(os.getuid())


@pytest.mark.parametrize("tool", sorted(LAYOUTS))
def test_each_tools_history_is_adopted_once(adopt_db, make_daemon, tool,
                                            tmp_path):
    layout = LAYOUTS[tool]
    migs = migrations(layout.versions)
    d = start(make_daemon, adopt_db, migs)
    if not real_tool(tool, adopt_db, d.setdir, tmp_path):
        psql(adopt_db, layout.sql(migs))
    reply = adopt(d, tool)
    check_adopted(adopt_db, d, layout, migs, reply)
    if layout.cumulative:
        assert "current version" in reply["rows"][0]["message"], reply
    before = history(adopt_db)
    again = adopt(d, tool)
    assert again["adopted"] == 0, again
    assert [o for o in outcomes(again) if o != (0, "ignored")] == [
        (m.version, "already") for m in migs], again
    assert history(adopt_db) == before


@pytest.mark.parametrize("tool", NODE_TOOLS)
def test_real_node_tools_make_the_tables_adopt_reads(adopt_db, make_daemon,
                                                     tool, tmp_path):
    """The real drizzle-orm, knex and kysely (from npm) migrate the set;
    their own tables are adopted. Skipped when they are not installed."""
    migs = migrations(SMALL)
    d = start(make_daemon, adopt_db, migs)
    if not real_tool(tool, adopt_db, d.setdir, tmp_path):
        pytest.skip("node with %s not found (ADOPT_NODE_MODULES)" % tool)
    assert psql(adopt_db, "SELECT count(*) FROM users") == "0"
    check_adopted(adopt_db, d, LAYOUTS[tool], migs, adopt(d, tool))


def test_sqitch_real_registry_when_installed(adopt_db, make_daemon, tmp_path):
    """sqitch itself deploys three changes (names without numbers, matched
    by name); skipped when sqitch is not installed."""
    if shutil.which("sqitch") is None:
        pytest.skip("sqitch not installed")
    migs = migrations(SMALL)
    d = start(make_daemon, adopt_db, migs)
    proj = tmp_path / "sq"
    proj.mkdir()
    env = dict(os.environ, HOME=str(tmp_path), SQITCH_USER_CONFIG="/dev/null")
    target = "db:pg://postgres@/%s?host=%s/sock&port=%d" % (
        DB, adopt_db.dir, adopt_db.port)

    def sq(*args):
        p = subprocess.run(["sqitch", *args], cwd=proj, env=env,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
    sq("init", "app", "--engine", "pg")
    sq("config", "user.name", "Dev")
    sq("config", "user.email", "dev@example.org")
    for m in migs:
        sq("add", m.name, "-n", "add " + m.name)
        (proj / "deploy" / (m.name + ".sql")).write_text(m.text)
    sq("deploy", target)
    reply = adopt(d, "sqitch")
    check_adopted(adopt_db, d, LAYOUTS["sqitch"], migs, reply)


def test_dirty_golang_migrate_version_is_refused(adopt_db, make_daemon):
    migs = migrations(SMALL)
    d = start(make_daemon, adopt_db, migs)
    layout = LAYOUTS["golang-migrate"]
    psql(adopt_db, layout.ddl + golang_migrate_rows(migs, dirty=True))
    reply = adopt(d, "golang-migrate")
    assert reply["adopted"] == 0
    assert outcomes(reply) == [(3, "dirty")], reply
    assert "dirty" in reply["rows"][0]["message"]
    assert "migrate force" in reply["rows"][0]["message"]
    assert reply["note"].startswith("nothing recorded"), reply
    assert history(adopt_db) == ""


def test_goose_version_zero_ignored_and_rolled_back_not_applied(
        adopt_db, make_daemon):
    migs = migrations(SMALL)
    d = start(make_daemon, adopt_db, migs)
    # 3 was applied, then rolled back (goose down): its newest row says so
    psql(adopt_db, LAYOUTS["goose"].ddl + goose_rows(migs, rolled_back=[3]))
    reply = adopt(d, "goose")
    assert outcomes(reply) == [(0, "ignored"), (1, "adopted"),
                               (2, "adopted"), (3, "ignored")], reply
    assert "version 0" in reply["rows"][0]["message"]
    assert "is_applied = false" in reply["rows"][3]["message"]
    assert reply["adopted"] == 2
    assert [h.split(" ")[0] for h in history(adopt_db).split("\n")] == [
        "1", "2"]


def test_prisma_unfinished_row_refuses_everything(adopt_db, make_daemon):
    layout = LAYOUTS["prisma"]
    migs = migrations(layout.versions)
    d = start(make_daemon, adopt_db, migs)
    psql(adopt_db, layout.ddl + prisma_rows(
        migs, unfinished=[migs[2].version],
        rolled_back_then_reapplied=[migs[0].version]))
    reply = adopt(d, "prisma")
    assert reply["adopted"] == 0
    assert outcomes(reply) == [
        (migs[0].version, "ignored"), (migs[0].version, "adopted"),
        (migs[1].version, "adopted"), (migs[2].version, "failed")], reply
    assert "unfinished" in reply["rows"][3]["message"]
    assert "migrate resolve" in reply["rows"][3]["message"]
    assert "nothing recorded" in reply["note"]
    assert history(adopt_db) == ""


def test_row_without_local_file_is_unmatched_and_nothing_recorded(
        adopt_db, make_daemon):
    migs = migrations(SMALL)
    d = start(make_daemon, adopt_db, migs)
    psql(adopt_db, LAYOUTS["knex"].ddl +
         knex_rows(migs, extra=["004_add_orders.js"]))
    reply = adopt(d, "knex")
    assert reply["adopted"] == 0
    assert reply["rows"][3] == {
        "foreign": "004_add_orders.js", "version": 4, "outcome": "unmatched",
        "message": reply["rows"][3]["message"]}
    assert "no file 4_*.sql in %s" % d.setdir in reply["rows"][3]["message"]
    assert reply["note"].startswith("nothing recorded: 1 row of Knex "
                                    "(public.knex_migrations)"), reply
    assert history(adopt_db) == ""
    # the missing file arrives: now everything matches
    (d.setdir / "004_add_orders.sql").write_text("CREATE TABLE orders ();\n")
    reply = adopt(d, "knex")
    assert reply["adopted"] == 4, reply


def test_plain_home_made_table(adopt_db, make_daemon):
    migs = migrations(SMALL)
    d = start(make_daemon, adopt_db, migs)
    psql(adopt_db, HOMEMADE_DDL + homemade_rows(migs))
    reply = adopt(d, "table", table="public.schema_migrations",
                  version_column="version", name_column="name")
    assert reply["adopted"] == 3, reply
    assert outcomes(reply) == [(1, "adopted"), (2, "adopted"),
                               (3, "adopted")]
    assert history(adopt_db).split("\n")[0] == (
        "1 create_users adopted table (public.schema_migrations) succeeded")
    again = adopt(d, "table", table="schema_migrations",
                  version_column="version", name_column="name")
    assert [o for _, o in outcomes(again)] == ["already"] * 3


def test_plain_table_name_that_differs_is_a_conflict(adopt_db, make_daemon):
    migs = migrations(SMALL)
    d = start(make_daemon, adopt_db, migs)
    psql(adopt_db, HOMEMADE_DDL + homemade_rows(migs, {2: "add_phone"}))
    reply = adopt(d, "table", table="schema_migrations",
                  version_column="version", name_column="name")
    assert outcomes(reply) == [(1, "adopted"), (2, "conflict"),
                               (3, "adopted")], reply
    assert '"add_phone"' in reply["rows"][1]["message"]
    assert reply["adopted"] == 0
    assert history(adopt_db) == ""


def test_version_applied_with_another_checksum_is_a_conflict(
        adopt_db, make_daemon):
    migs = migrations(SMALL)
    d = start(make_daemon, adopt_db, migs)
    psql(adopt_db, LAYOUTS["kysely"].sql(migs))
    assert adopt(d, "kysely")["adopted"] == 3
    # the file was edited after it was recorded
    (d.setdir / migs[1].file).write_text("ALTER TABLE users ADD mail text;\n")
    reply = adopt(d, "kysely")
    assert outcomes(reply) == [(1, "already"), (2, "conflict"),
                               (3, "already")], reply
    assert "schema repair" in reply["rows"][1]["message"]
    assert len(history(adopt_db).split("\n")) == 3


def test_history_on_the_target(pg, make_daemon):
    """database = target: the history and the tool's table in the target."""
    migs = migrations(SMALL)
    d = make_daemon()
    setdir = d.dir / "schema" / "app"
    write_set(setdir, migs)
    d.write_conf(d.conf_text() + "\n[schema app]\ndatabase = target\n"
                 "dir = %s\n" % setdir)
    pg.psql("DROP TABLE IF EXISTS public.goose_db_version")
    pg.psql(LAYOUTS["goose"].sql(migs))
    try:
        d.start()
        reply = ok(d, "SchemaAdopt", {"from": "goose"})  # the only set
        assert reply["adopted"] == 3, reply
        assert pg.psql("SELECT count(*) FROM migrated.schema_history"
                       " WHERE adopted_from = 'goose (public.goose_db_version)'"
                       ).strip() == "3"
    finally:
        pg.psql("DROP TABLE IF EXISTS public.goose_db_version")


def test_refusals(adopt_db, make_daemon):
    migs = migrations(SMALL)
    d = start(make_daemon, adopt_db, migs)
    e, p = err(d, "SchemaAdopt", {"set": "app", "from": "flyway"})
    assert e == "io.migrated.SchemaConflict", (e, p)
    assert "has no table flyway_schema_history" in p["message"]
    assert "--table" in p["message"]
    e, p = err(d, "SchemaAdopt", {"set": "app", "from": "sqlalchemy"})
    assert e == "io.migrated.InvalidParameterValue"
    assert p["parameter"] == "from" and "alembic" in p["message"]
    e, p = err(d, "SchemaAdopt", {"set": "app", "from": "table",
                                  "table": "t"})
    assert (e, p["parameter"]) == ("io.migrated.InvalidParameterValue",
                                   "version_column")
    e, p = err(d, "SchemaAdopt", {"set": "app", "from": "knex",
                                  "version_column": "v"})
    assert (e, p["parameter"]) == ("io.migrated.InvalidParameterValue",
                                   "version_column")
    e, p = err(d, "SchemaAdopt", {"set": "nope", "from": "knex"})
    assert (e, p) == ("io.migrated.NoSuchSchemaSet", {"name": "nope"})
    e, p = err(d, "SchemaAdopt", {"set": "app"})
    assert (e, p) == (INVALID, {"parameter": "from"})
    # a table that is not the tool's layout
    psql(adopt_db, "CREATE TABLE public.knex_migrations (x int)")
    e, p = err(d, "SchemaAdopt", {"set": "app", "from": "knex"})
    assert e == "io.migrated.SchemaConflict"
    assert "does not have the layout" in p["message"], p


def test_alembic_revision_that_is_not_a_number(adopt_db, make_daemon):
    """alembic's own revision ids: the file whose name starts with it is
    the current one; every file up to it counts as applied."""
    migs = migrations(SMALL)
    migs[1].name = "ae1027a6acf_" + migs[1].name
    migs[1].stem = "002_" + migs[1].name
    migs[1].file = migs[1].stem + ".sql"
    d = start(make_daemon, adopt_db, migs)
    psql(adopt_db, LAYOUTS["alembic"].ddl +
         "INSERT INTO alembic_version VALUES ('ae1027a6acf');")
    reply = adopt(d, "alembic")
    assert outcomes(reply) == [(1, "adopted"), (2, "adopted")], reply
    assert reply["rows"][0]["foreign"] == "ae1027a6acf"
    assert "every file up to 2 counts as applied" in reply["rows"][0][
        "message"]
    assert reply["adopted"] == 2


def test_local_file_the_tool_never_ran_is_named_in_the_note(
        adopt_db, make_daemon):
    migs = migrations(SMALL)
    d = start(make_daemon, adopt_db, migs)
    psql(adopt_db, LAYOUTS["knex"].ddl + knex_rows([migs[0], migs[2]]))
    reply = adopt(d, "knex")
    assert reply["adopted"] == 2, reply
    assert outcomes(reply) == [(1, "adopted"), (3, "adopted")]
    assert "no longer needed" in reply["note"]
    assert "%s; they stay pending" % (d.setdir / migs[1].file) in reply[
        "note"], reply


def test_adopt_while_the_sets_history_is_being_written(adopt_db, make_daemon):
    """Another writer (an apply on some daemon) holds the set's lock: adopt
    says so at once and records nothing."""
    migs = migrations(SMALL)
    d = start(make_daemon, adopt_db, migs)
    psql(adopt_db, LAYOUTS["kysely"].sql(migs))
    holder = subprocess.Popen(
        [PSQL, "-X", "-q", "-d", db_conninfo(adopt_db), "-c",
         "SELECT pg_advisory_lock(hashtext('migrated.schema_history'),"
         " hashtext('app')), pg_sleep(30)"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for("the lock to be held", lambda: psql(
            adopt_db, "SELECT count(*) FROM pg_locks WHERE locktype ="
            " 'advisory' AND granted") == "1", 10)
        e, p = err(d, "SchemaAdopt", {"set": "app", "from": "kysely"})
        assert e == "io.migrated.SchemaConflict", (e, p)
        assert "is being written" in p["message"]
    finally:
        psql(adopt_db, "SELECT pg_terminate_backend(pid) FROM pg_locks"
             " WHERE locktype = 'advisory' AND granted")
        holder.wait(10)
    assert adopt(d, "kysely")["adopted"] == 3


def test_migratectl_schema_adopt(adopt_db, make_daemon):
    """The CLI shows every row and the note; exit 4 while a row is refused,
    0 once everything matched."""
    migs = migrations(SMALL)
    d = start(make_daemon, adopt_db, migs)
    psql(adopt_db, LAYOUTS["knex"].ddl +
         knex_rows(migs, extra=["004_add_orders.js"]))
    rc, out, e = d.ctl("schema", "adopt", "app", "--from", "knex")
    assert rc == 4, (rc, out, e)
    assert "004_add_orders.js" in out and "unmatched" in out, out
    assert "nothing recorded" in out
    (d.setdir / "004_add_orders.sql").write_text("CREATE TABLE orders ();\n")
    rc, out, e = d.ctl("--json", "schema", "adopt", "app", "--from", "knex")
    assert rc == 0, (rc, out, e)
    assert '"adopted": 4' in out.replace('"adopted":4', '"adopted": 4'), out
    rc, out, e = d.ctl("schema", "adopt", "--from", "table", "--table",
                       "knex_migrations", "--version-column", "name")
    assert rc == 0, (rc, out, e)  # the only set; the same versions: already
    assert out.count("  already  ") == 4, out
    assert "drop it once the runner that writes it no longer runs" in out


def test_daemon_stops_cleanly_with_an_adopt_under_way(adopt_db, make_daemon):
    """SIGTERM while an adopt waits on the foreign table: the daemon exits
    0, its transaction rolls back with its connection (nothing recorded),
    and the adopt is freed: under MIGRATED_VALGRIND=1 the leak check at
    teardown fails without it."""
    import threading
    migs = migrations(SMALL)
    d = start(make_daemon, adopt_db, migs)
    psql(adopt_db, HOMEMADE_DDL + homemade_rows(migs))
    holder = subprocess.Popen(
        [PSQL, "-X", "-q", "-d", db_conninfo(adopt_db), "-c",
         "BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE;"
         " SELECT pg_sleep(30);"], stdout=subprocess.DEVNULL)
    try:
        wait_for("the lock", lambda: psql(
            adopt_db, "SELECT count(*) FROM pg_locks l JOIN pg_class c"
            " ON c.oid = l.relation WHERE c.relname = 'schema_migrations'"
            " AND l.mode = 'AccessExclusiveLock' AND l.granted") == "1", 20)
        got = {}

        def call():
            try:
                got["reply"] = d.call("io.migrated.SchemaAdopt", {
                    "set": "app", "from": "table",
                    "table": "schema_migrations", "version_column":
                    "version", "name_column": "name"}, timeout=60)
            except Exception as e:  # noqa: BLE001 - closed at the stop
                got["closed"] = e
        t = threading.Thread(target=call, daemon=True)
        t.start()
        wait_for("the adopt to wait on the table", lambda: psql(
            adopt_db, "SELECT count(*) FROM pg_stat_activity WHERE"
            " application_name = 'migrated adopt' AND wait_event_type ="
            " 'Lock'") == "1", 30)
        d.stop()  # asserts exit status 0
        t.join(10)
        # the loop has ended: the answer cannot go out any more
        assert "closed" in got or got["reply"].get("error"), got
    finally:
        holder.kill()
        holder.wait()
    assert psql(adopt_db, "SELECT count(*) FROM migrated.schema_history"
                ) == "0"
