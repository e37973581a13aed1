"""Schema diff, drift, dump and squash against a real PostgreSQL: the
normalised catalog snapshot finds a changed default, a dropped index and
an extra enum value, but not a renamed constraint or reordered columns; a
pg_dump baseline applied to an empty database shows no difference; a set's
files are built in a scratch database that is always dropped."""

import time
from pathlib import Path

import pytest

from conftest import PSQL, ROOT, run
from safety_util import err, ok

# A schema with what a baseline must carry: enums, functions, triggers,
# views, partial and expression indexes, foreign keys, checks, identity and
# generated columns, sequences, a policy.
RICH = """
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE app.users (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    mood app.mood DEFAULT 'ok',
    age int CONSTRAINT adult CHECK (age >= 18),
    created timestamptz NOT NULL DEFAULT now(),
    lower_email text GENERATED ALWAYS AS (lower(email)) STORED
);
CREATE TABLE app.orders (
    id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint REFERENCES app.users (id) ON DELETE CASCADE,
    total numeric(10, 2) NOT NULL DEFAULT 0 CHECK (total >= 0),
    note text
);
CREATE INDEX orders_noted ON app.orders (user_id) WHERE note IS NOT NULL;
CREATE INDEX users_lower ON app.users (lower(email));
CREATE VIEW app.spend AS
    SELECT u.email, sum(o.total) AS total
      FROM app.users u JOIN app.orders o ON o.user_id = u.id
     GROUP BY u.email;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.note := coalesce(NEW.note, 'none');
    RETURN NEW;
END
$$;
CREATE TRIGGER orders_touch BEFORE INSERT ON app.orders
    FOR EACH ROW EXECUTE FUNCTION app.touch();
ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY positive ON app.orders USING (total >= 0);
CREATE SEQUENCE app.counter START 5 INCREMENT 2;
COMMENT ON TABLE app.users IS 'people';
"""


def db_conninfo(pg, name):
    return pg.conninfo.replace("dbname=migrated", "dbname=%s" % name)


def psql_on(pg, db, sql, single=False):
    args = [PSQL, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1"]
    if single:
        args.append("--single-transaction")
    rc, out, e = run(args + ["-d", db_conninfo(pg, db), "-f", "-"],
                     input=sql)
    assert rc == 0, "psql on %s failed: %s" % (db, e)
    return out


def fresh_db(pg, name):
    pg.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
    pg.psql("CREATE DATABASE %s TEMPLATE template0" % name)


def scratch_dbs(pg):
    return pg.psql("SELECT datname FROM pg_database"
                   " WHERE datname LIKE 'migrated\\_scratch\\_%'").split()


def config_knows_schema_sets():
    return '"schema"' in (ROOT / "daemon" / "config.c").read_text()


needs_sets = pytest.mark.skipif(
    not config_knows_schema_sets(),
    reason="[schema NAME] sections are not parsed by this build yet")


def start(make_daemon, pg, dbs=(), sets=()):
    d = make_daemon()
    text = d.conf_text()
    for name in dbs:
        text += "\n[database %s]\nconninfo = %s\n" % (name,
                                                      db_conninfo(pg, name))
    for name, database, directory in sets:
        text += "\n[schema %s]\ndatabase = %s\ndir = %s\n" % (
            name, database, directory)
    d.write_conf(text)
    return d.start()


def kinds(differences):
    return sorted((x["kind"], x["name"], x["change"]) for x in differences)


@pytest.fixture
def rich(pg):
    pg.psql("DROP SCHEMA IF EXISTS app CASCADE")
    psql_on(pg, "migrated", RICH)
    fresh_db(pg, "copy")
    yield
    pg.psql("DROP SCHEMA IF EXISTS app CASCADE")


def test_dump_round_trip_shows_no_difference(pg, make_daemon, rich):
    d = start(make_daemon, pg, dbs=["copy"])
    sql = ok(d, "SchemaDump", {"database": "target"}, timeout=30)["sql"]
    assert "CREATE TYPE app.mood AS ENUM" in sql
    assert "migrated." not in sql  # the daemon's own schema is left out
    assert "\\restrict" not in sql and "\\unrestrict" not in sql
    assert "SET LOCAL statement_timeout = 0;" in sql
    psql_on(pg, "copy", sql, single=True)
    same = ok(d, "SchemaDiff", {"a": "target", "b": "copy"}, timeout=30)
    assert same == {"same": True, "differences": []}


def test_real_differences_are_found_names_and_order_are_not(
        pg, make_daemon, rich):
    d = start(make_daemon, pg, dbs=["copy"])
    sql = ok(d, "SchemaDump", {"database": "target"}, timeout=30)["sql"]
    psql_on(pg, "copy", sql, single=True)
    # names, column order and comments do not count
    psql_on(pg, "copy", """
        ALTER TABLE app.users RENAME CONSTRAINT adult TO grown_up;
        ALTER INDEX app.users_lower RENAME TO users_by_lower_email;
        ALTER TRIGGER orders_touch ON app.orders RENAME TO fill_note;
        COMMENT ON TABLE app.users IS 'someone else';
        CREATE TABLE app.pair (b text NOT NULL, a int);
    """)
    psql_on(pg, "migrated", "CREATE TABLE app.pair (a int, b text NOT NULL)")
    got = ok(d, "SchemaDiff", {"a": "target", "b": "copy"}, timeout=30)
    assert got == {"same": True, "differences": []}
    # a changed default, a dropped index, an extra enum value do
    psql_on(pg, "copy", """
        ALTER TABLE app.orders ALTER COLUMN total SET DEFAULT 1;
        DROP INDEX app.orders_noted;
        ALTER TYPE app.mood ADD VALUE 'ecstatic';
    """)
    got = ok(d, "SchemaDiff", {"a": "target", "b": "copy"}, timeout=30)
    assert got["same"] is False
    assert kinds(got["differences"]) == [
        ("column", "app.orders.total", "differs"),
        ("enum", "app.mood", "differs"),
        ("index", "CREATE INDEX ON app.orders USING btree (user_id)"
                  " WHERE (note IS NOT NULL)", "only_in_a"),
    ]
    by_kind = {x["kind"]: x for x in got["differences"]}
    assert by_kind["column"]["a"] == "numeric(10,2) not null default 0"
    assert by_kind["column"]["b"] == "numeric(10,2) not null default 1"
    assert by_kind["enum"]["b"] == "'sad', 'ok', 'happy', 'ecstatic'"
    assert by_kind["index"]["b"] is None


def test_unknown_sides_are_refused(pg, make_daemon):
    d = start(make_daemon, pg)
    e, p = err(d, "SchemaDiff", {"a": "target", "b": "nowhere"})
    assert e == "io.migrated.InvalidParameterValue"
    assert p["parameter"] == "b"
    assert "no [database nowhere]" in p["message"]
    e, p = err(d, "SchemaDiff", {"a": "files:nope", "b": "target"})
    assert (e, p) == ("io.migrated.NoSuchSchemaSet", {"name": "nope"})
    e, p = err(d, "SchemaDrift", {})
    assert e == "io.migrated.NoSuchSchemaSet"
    e, p = err(d, "SchemaDump", {"database": "nowhere"})
    assert e == "io.migrated.InvalidParameterValue"
    e, p = err(d, "SchemaSquash", {"set": "nope", "to": 1})
    assert (e, p) == ("io.migrated.NoSuchSchemaSet", {"name": "nope"})


def write_set(directory, files):
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


SET_FILES = {
    "001_users.sql": "CREATE SCHEMA app;\n"
                     "CREATE TABLE app.users (id bigint PRIMARY KEY,"
                     " email text NOT NULL);\n",
    "002_mood.sql": "CREATE TYPE app.mood AS ENUM ('sad', 'ok');\n"
                    "ALTER TABLE app.users ADD mood app.mood DEFAULT 'ok';\n"
                    "CREATE INDEX ON app.users (lower(email));\n",
    "002_mood.down.sql": "ALTER TABLE app.users DROP mood;\n",
    "010_orders.sql": "CREATE TABLE app.orders (id int PRIMARY KEY,"
                      " user_id bigint REFERENCES app.users (id));\n",
}


@needs_sets
def test_drift_builds_the_files_in_a_scratch_database(pg, make_daemon,
                                                      tmp_path):
    # a database of its own: drift compares the whole database, and the
    # target's holds what other tests left
    fresh_db(pg, "drift")
    sets = write_set(tmp_path / "app", SET_FILES)
    d = start(make_daemon, pg, dbs=["drift"], sets=[("app", "drift", sets)])
    for name in sorted(n for n in SET_FILES if ".down." not in n):
        psql_on(pg, "drift", SET_FILES[name])
    got = ok(d, "SchemaDrift", {}, timeout=30)
    assert got == {"same": True, "differences": []}
    assert scratch_dbs(pg) == []
    # a change made by hand on the live database is drift
    psql_on(pg, "drift", "ALTER TABLE app.orders ADD note text")
    got = ok(d, "SchemaDrift", {"set": "app"}, timeout=30)
    assert got["same"] is False
    assert kinds(got["differences"]) == [
        ("column", "app.orders.note", "only_in_a")]
    got = ok(d, "SchemaDiff", {"a": "files:app", "b": "drift"}, timeout=30)
    assert kinds(got["differences"]) == [
        ("column", "app.orders.note", "only_in_b")]
    assert scratch_dbs(pg) == []


@needs_sets
def test_a_failing_file_is_reported_and_the_scratch_dropped(pg, make_daemon,
                                                            tmp_path):
    files = dict(SET_FILES)
    files["010_orders.sql"] = ("-- orders\nCREATE TABLE app.orders (\n"
                               "    id int PRIMARY KEY,\n"
                               "    user_id bigint,, -- oops\n);\n")
    sets = write_set(tmp_path / "app", files)
    d = start(make_daemon, pg, sets=[("app", "target", sets)])
    e, p = err(d, "SchemaDiff", {"a": "files:app", "b": "target"},
               timeout=30)
    assert e == "io.migrated.DatabaseError"
    assert "%s/010_orders.sql:4:20: syntax error at or near \",\"" % sets \
        in p["message"]
    assert "SQLSTATE 42601" in p["message"]
    assert scratch_dbs(pg) == []


@needs_sets
def test_squash_is_the_baseline_of_the_first_versions(pg, make_daemon,
                                                      tmp_path):
    sets = write_set(tmp_path / "app", SET_FILES)
    first = write_set(tmp_path / "first",
                      {k: v for k, v in SET_FILES.items()
                       if k.startswith(("001", "002"))})
    fresh_db(pg, "squashed")
    d = start(make_daemon, pg, dbs=["squashed"],
              sets=[("app", "target", sets), ("first", "target", first)])
    sql = ok(d, "SchemaSquash", {"set": "app", "to": 9}, timeout=30)["sql"]
    assert "CREATE TYPE app.mood" in sql and "orders" not in sql
    assert scratch_dbs(pg) == []
    psql_on(pg, "squashed", sql, single=True)
    got = ok(d, "SchemaDiff", {"a": "files:first", "b": "squashed"},
             timeout=30)
    assert got == {"same": True, "differences": []}
    e, p = err(d, "SchemaSquash", {"set": "app", "to": 0})
    assert (e, p["parameter"]) == ("io.migrated.InvalidParameterValue", "to")


def many_tables(n, extra=""):
    parts = ["CREATE SCHEMA big;"]
    for i in range(n):
        parts.append(
            "CREATE TABLE big.t%d (id bigint PRIMARY KEY, name text NOT NULL"
            " DEFAULT 'x', ref bigint REFERENCES big.t%d (id), n int CHECK"
            " (n > 0), at timestamptz DEFAULT now());"
            " CREATE INDEX ON big.t%d (name) WHERE n > 1;"
            % (i, max(i - 1, 0) if i > 0 else 0, i))
    return "\n".join(parts) + extra


def test_two_500_table_schemas_diff_to_the_one_difference(pg, make_daemon):
    """The time is make bench-schema's to report, not a test's to assert."""
    fresh_db(pg, "big_a")
    fresh_db(pg, "big_b")
    psql_on(pg, "big_a", many_tables(500), single=True)
    psql_on(pg, "big_b", many_tables(500, "\nALTER TABLE big.t7 ADD x int;"),
            single=True)
    d = start(make_daemon, pg, dbs=["big_a", "big_b"])
    t0 = time.monotonic()
    got = ok(d, "SchemaDiff", {"a": "big_a", "b": "big_b"}, timeout=30)
    took = time.monotonic() - t0
    assert kinds(got["differences"]) == [("column", "big.t7.x", "only_in_b")]
    print("diff of two 500-table schemas: %.3f s" % took)


@needs_sets
def test_a_scratch_database_left_by_kill9_is_dropped_at_start(
        pg, make_daemon, tmp_path):
    """A daemon killed while it builds files:SET leaves its scratch
    database behind; the next start drops it (its name says which host and
    process made it, and that process is gone). A scratch database of a
    live process, or one somebody is connected to, is left alone."""
    import os
    import signal
    import threading
    from conftest import wait_for
    sets = write_set(tmp_path / "app", {
        "001_slow.sql": "CREATE TABLE slow (id int); SELECT pg_sleep(3);\n"})
    d = start(make_daemon, pg, sets=[("app", "target", sets)])
    def diff():
        try:
            d.call("io.migrated.SchemaDiff",
                   {"a": "files:app", "b": "target"}, timeout=30)
        except Exception:  # noqa: BLE001 - the daemon is killed under it
            pass
    threading.Thread(target=diff, daemon=True).start()
    (name,) = wait_for("the scratch database", lambda: pg.psql(
        "SELECT datname FROM pg_database d WHERE datname LIKE"
        " 'migrated\\_scratch\\_%' AND EXISTS (SELECT 1 FROM"
        " pg_stat_activity a WHERE a.datid = d.oid AND a.query LIKE"
        " '%pg_sleep%')").split() or None, 20)
    assert name.startswith("migrated_scratch_") and \
        "_%d_" % d.pid in name, name
    # one of a process that runs (this test's) is kept
    live = name.replace("_%d_" % d.pid, "_%d_" % os.getpid())
    pg.psql("CREATE DATABASE %s TEMPLATE template0" % live)
    killed = d.pid
    os.killpg(d.pid, signal.SIGKILL)
    d.proc.wait()
    wait_for("the killed build's session to end", lambda: pg.psql(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'"
        % name).strip() == "0", 20)
    assert name in scratch_dbs(pg)
    d.start()
    d.wait_log("dropping scratch database %s, left by migrated process %d"
               % (name, killed), timeout=20)
    wait_for("the leftover to be dropped",
             lambda: name not in scratch_dbs(pg), 20)
    assert live in scratch_dbs(pg)
    pg.psql("DROP DATABASE %s" % live)
    assert scratch_dbs(pg) == []
