"""[database NAME] sections: what `migrated -n` refuses, and the databases
GetStatus reports (the target first, then each section in file order) while
they come, go and change on reload."""

import re

import pytest

from conftest import (MIGRATED, check_status, free_port, require_binaries,
                      run, wait_for)
from jobs_util import (assert_counters, counter_plan, counter_step,
                       make_tables, reload, submit, wait_state, write_plan)

# --- migrated -n ------------------------------------------------------------

# (id, config text, line of the error, the whole message after "file:line: ")
REFUSED = [
    ("unknown-key",
     "[database legacy]\nconninfo = dbname=legacy\nhost = db1\n", 3,
     "unknown key 'host' in [database legacy]"),
    ("sqlite-then-conninfo",
     "[daemon]\nworkers = 2\n\n[database legacy]\nsqlite = /srv/legacy.db\n"
     "conninfo = dbname=legacy\n", 6,
     "[database legacy]: conninfo and sqlite are both set; a database is "
     "either PostgreSQL (conninfo) or SQLite (sqlite)"),
    ("both-keys",
     "[daemon]\nworkers = 2\n\n[database legacy]\nconninfo = dbname=legacy\n"
     "sqlite = /srv/legacy.db\n", 6,
     "[database legacy]: conninfo and sqlite are both set; a database is "
     "either PostgreSQL (conninfo) or SQLite (sqlite)"),
    ("neither-key",
     "[daemon]\nworkers = 2\n[database legacy]\n# later\n\n[target]\n"
     "conninfo = dbname=migrated\n", 3,
     "[database legacy]: set conninfo (PostgreSQL) or sqlite (a SQLite "
     "file)"),
    ("neither-key-at-end",
     "[database a]\nconninfo = dbname=a\n[database legacy]\n", 3,
     "[database legacy]: set conninfo (PostgreSQL) or sqlite (a SQLite "
     "file)"),
    ("bad-name",
     "[daemon]\n[database legacy.v1]\nconninfo = dbname=legacy\n", 2,
     "[database legacy.v1]: a database name is 1 to 63 letters, digits, "
     "'_' or '-'"),
    ("name-too-long",
     "[database %s]\nconninfo = dbname=legacy\n" % ("x" * 64), 1,
     "[database %s]: a database name is 1 to 63 letters, digits, '_' or "
     "'-'" % ("x" * 64)),
    ("no-name", "[database]\nconninfo = dbname=legacy\n", 1,
     "[database] needs a name: [database NAME]"),
    ("duplicate",
     "[database legacy]\nconninfo = dbname=legacy\n\n[database other]\n"
     "conninfo = dbname=other\n[database legacy]\nconninfo = dbname=x\n", 6,
     "[database legacy] is defined twice (first at line 1)"),
    ("reserved-target",
     "[target]\nconninfo = dbname=migrated\n[database target]\n"
     "conninfo = dbname=migrated\n", 3,
     "[database target]: the name 'target' is reserved for the [target] "
     "section"),
    ("malformed-conninfo",
     "[database legacy]\nconninfo = host=db1 dbname\n", 2,
     "[database legacy] conninfo: missing \"=\" after \"dbname\" in "
     "connection info string"),
    ("unknown-conninfo-option",
     "[database legacy]\nconninfo = host=db1 dbnmae=legacy\n", 2,
     "[database legacy] conninfo: invalid connection option \"dbnmae\""),
    ("empty-conninfo", "[database legacy]\nconninfo =\n", 2,
     "[database legacy] conninfo: empty; give a libpq connection string or "
     "service=NAME"),
]


@pytest.mark.parametrize("text,line,message", [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
def test_check_refuses_with_file_and_line(tmp_path, text, line, message):
    require_binaries()
    conf = tmp_path / "migrated.conf"
    conf.write_text(text)
    rc, out, err = run([MIGRATED, "-n", "-c", conf])
    assert rc == 1, (rc, out, err)
    assert err == "%s:%d: %s\n" % (conf, line, message)
    assert out == ""


def test_check_counts_the_databases_and_connects_to_none(tmp_path):
    require_binaries()
    (tmp_path / "plans").mkdir()
    conf = tmp_path / "migrated.conf"
    # Nothing listens on these: -n must not try.
    conf.write_text(
        "[daemon]\nplan_dir = %s/plans\n"
        "[database legacy]\nconninfo = host=127.0.0.1 port=1 dbname=legacy\n"
        "[database crm]\nconninfo = service=crm\n"
        "[database tumi]\nconninfo = postgresql://ro@127.0.0.1:1/tumi\n"
        % tmp_path)
    rc, out, err = run([MIGRATED, "-n", "-c", conf], timeout=10)
    assert (rc, err) == (0, ""), (rc, out, err)
    assert out == "%s: configuration, 3 database(s), 0 plan(s) and 0 " \
        "schema set(s) are valid\n" % conf


# --- GetStatus --------------------------------------------------------------

@pytest.fixture
def legacy(pg):
    """The conninfo of database legacy in the session's cluster."""
    if not pg.psql("SELECT 1 FROM pg_database WHERE datname = 'legacy'"):
        pg.psql("CREATE DATABASE legacy")
    return pg.conninfo.replace("dbname=migrated", "dbname=legacy")


def down_conninfo():
    """A PostgreSQL where nothing listens."""
    return "host=127.0.0.1 port=%d dbname=legacy connect_timeout=5" % (
        free_port())


def with_databases(daemon, **databases):
    """The daemon's config with a [database NAME] per keyword, in order."""
    text = daemon.conf_text()
    for name, conninfo in databases.items():
        text += "\n[database %s]\nconninfo = %s\n" % (name, conninfo)
    return text


def databases(daemon):
    """Status.databases from a raw GetStatus, checked against the IDL."""
    status = daemon.status()
    check_status(status)
    return status["databases"]


def wait_databases(daemon, what, predicate, timeout=15):
    """Polls GetStatus until predicate(databases) holds; returns them."""
    def check():
        daemon.check_alive()
        dbs = databases(daemon)
        return dbs if predicate(dbs) else None
    return wait_for(what, check, timeout)


def by_name(dbs):
    return {db["name"]: db for db in dbs}


def monitor_sessions(pg, name, datname):
    """Sessions the daemon holds for [database name] in datname."""
    return int(pg.psql(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
        "'migrated-db-%s' AND datname = '%s'" % (name, datname)))


TARGET = {"name": "target", "engine": "postgresql", "state": "connected",
          "error": None}


def test_status_lists_the_target_then_a_connected_database(
        make_daemon, pg, legacy):
    d = make_daemon()
    d.write_conf(with_databases(d, legacy=legacy))
    d.start()
    dbs = wait_databases(d, "[database legacy] connected", lambda dbs: len(
        dbs) == 2 and dbs[1]["state"] == "connected")
    assert dbs == [TARGET, {"name": "legacy", "engine": "postgresql",
                            "state": "connected", "error": None}]
    # One connection, to the database the section names.
    assert monitor_sessions(pg, "legacy", "legacy") == 1
    d.stop()


def test_status_without_databases_lists_the_target(daemon):
    assert databases(daemon) == [TARGET]


def test_unreachable_database_is_disconnected_and_jobs_still_run(
        make_daemon, pg, legacy):
    make_tables(pg, ["a", "b"], 30)
    d = make_daemon()
    write_plan(d, "cnt", counter_plan([counter_step("one", batch=10)]))
    d.write_conf(with_databases(d, down=down_conninfo(), legacy=legacy))
    d.start()
    dbs = wait_databases(
        d, "[database down] disconnected with a reason",
        lambda dbs: dbs[1]["state"] == "disconnected" and dbs[1]["error"]
        and dbs[2]["state"] == "connected")
    assert [db["name"] for db in dbs] == ["target", "down", "legacy"]
    assert dbs[0] == TARGET
    assert dbs[1]["engine"] == "postgresql"
    assert re.search(r"(?i)refused|could not connect", dbs[1]["error"]), dbs
    d.wait_log(r"(?m)^migrated\[%d\]: warning: \[database down\]: cannot "
               r"connect: .+; retrying" % d.pid)

    # The daemon keeps answering, and jobs on the target run.
    jobs = submit(d, "cnt", ["a", "b"])
    wait_state(d, jobs)
    assert_counters(pg, ["a", "b"], 30)
    assert by_name(databases(d))["down"]["state"] in (
        "disconnected", "connecting")
    # Reconnect attempts are not logged again and again.
    assert d.log().count("[database down]: cannot connect") == 1, d.log()
    d.stop()


def test_reload_adds_changes_and_removes_databases(make_daemon, pg, legacy):
    d = make_daemon().start()
    assert databases(d) == [TARGET]

    # Added: connected after the reload.
    d.write_conf(with_databases(d, legacy=legacy))
    reload(d)
    wait_databases(d, "[database legacy] after the reload",
                   lambda dbs: len(dbs) == 2
                   and dbs[1]["state"] == "connected")
    assert monitor_sessions(pg, "legacy", "legacy") == 1
    d.wait_log(r"reload: \[database legacy\] added")

    # Changed: the new settings connect, the old connection goes.
    d.write_conf(with_databases(d, legacy=down_conninfo()))
    reload(d)
    wait_databases(d, "[database legacy] to point at nothing",
                   lambda dbs: dbs[1]["state"] == "disconnected")
    wait_for("the old connection to close",
             lambda: monitor_sessions(pg, "legacy", "legacy") == 0, 10)
    d.wait_log(r"reload: \[database legacy\] changed")

    # Another added before it, in file order; an unchanged one keeps its
    # connection across reloads.
    d.write_conf(with_databases(d, first=legacy, legacy=legacy))
    reload(d)
    dbs = wait_databases(d, "both connected", lambda dbs: [
        (db["name"], db["state"]) for db in dbs] == [
        ("target", "connected"), ("first", "connected"),
        ("legacy", "connected")])
    pid = pg.psql("SELECT pid FROM pg_stat_activity WHERE application_name "
                  "= 'migrated-db-first'").strip()
    assert pid
    d.write_conf(with_databases(d, first=legacy))
    reload(d)
    assert [db["name"] for db in databases(d)] == ["target", "first"]
    wait_for("[database legacy]'s connection to close",
             lambda: monitor_sessions(pg, "legacy", "legacy") == 0, 10)
    assert pg.psql("SELECT pid FROM pg_stat_activity WHERE application_name "
                   "= 'migrated-db-first'").strip() == pid
    d.wait_log(r"reload: \[database legacy\] removed")
    d.stop()


def test_bad_reload_keeps_the_databases(make_daemon, pg, legacy):
    d = make_daemon()
    d.write_conf(with_databases(d, legacy=legacy))
    d.start()
    wait_databases(d, "[database legacy] connected",
                   lambda dbs: dbs[1]["state"] == "connected")
    good = d.conf_text()
    d.write_conf(with_databases(d, legacy=legacy) +
                 "[database legacy]\nconninfo = %s\n" % legacy)
    reply = d.call("io.migrated.Reload")
    assert reply.get("error") == "io.migrated.ReloadFailed", reply
    line = good.count("\n") + 4
    assert reply["parameters"]["message"] == (
        "%s:%d: [database legacy] is defined twice (first at line %d)"
        % (d.conf_path, line, good.count("\n") + 2)), reply
    assert databases(d) == [TARGET, {"name": "legacy", "engine": "postgresql",
                                     "state": "connected", "error": None}]
    assert monitor_sessions(pg, "legacy", "legacy") == 1
    d.stop()
