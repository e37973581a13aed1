"""The daemon's own `migrated` schema: created at the first start, recorded
with the checksum of the file each version came from, left alone at later
starts, and never built upon when the database's history disagrees with
the daemon's files."""

import hashlib

from conftest import ROOT, wait_for

SCHEMA_FILE = ROOT / "daemon" / "schema" / "001_jobs.sql"


def history(pg):
    return pg.psql("SELECT version || ' ' || name || ' ' || checksum"
                   " FROM migrated.schema_version ORDER BY version").split("\n")


def test_schema_recorded_with_checksums_and_stable_across_starts(pg, daemon):
    want = hashlib.md5(SCHEMA_FILE.read_bytes()).hexdigest()
    assert history(pg)[0] == "1 001_jobs.sql %s" % want
    applied = pg.psql("SELECT applied FROM migrated.schema_version")
    daemon.stop()
    daemon.start()
    assert history(pg)[0] == "1 001_jobs.sql %s" % want
    assert pg.psql("SELECT applied FROM migrated.schema_version") == applied
    assert "upgrading the migrated schema" not in daemon.log().split(
        "stopped")[-1]


def test_history_that_disagrees_with_the_files_is_refused(pg, daemon):
    daemon.stop()
    pg.psql("UPDATE migrated.schema_version SET checksum = 'edited'")
    daemon.start(wait=False)
    daemon.wait_log(r"version 1 \(001_jobs.sql\) was applied from a "
                    r"different file")
    status = wait_for("status with the schema error",
                      lambda: daemon.status()
                      if daemon.status().get("database_error") else None, 10)
    assert status["database"] != "connected"
    assert "different file" in status["database_error"]
    reply = daemon.call("io.migrated.ListJobs")
    assert reply["error"] == "io.migrated.DatabaseUnavailable"
    daemon.check_alive()


def test_own_upgrades_are_in_the_schema_history(pg, make_daemon):
    """The daemon's own schema versions are recorded like a schema set's
    (set "migrated"), with the same sha256 checksums of the files."""
    import hashlib
    from pathlib import Path
    pg.reset()
    d = make_daemon()
    d.start()
    files = sorted((Path(__file__).resolve().parents[2] / "daemon" /
                    "schema").glob("*.sql"))
    rows = pg.psql("SELECT version, name, checksum, kind, outcome FROM "
                   "migrated.schema_history WHERE set_name = 'migrated' "
                   "ORDER BY version").split()
    want = ["%d|%s|%s|applied|succeeded" % (
        i + 1, f.name.split("_", 1)[1][:-4],
        hashlib.sha256(f.read_bytes().replace(b"\r\n", b"\n")).hexdigest())
        for i, f in enumerate(files)]
    assert rows == want
    # a second start records nothing more
    d.stop()
    d.start()
    assert pg.psql("SELECT count(*) FROM migrated.schema_history WHERE "
                   "set_name = 'migrated'").strip() == str(len(files))


def test_own_upgrades_record_duration_and_one_transaction(pg, make_daemon):
    """The upgrades run through the code that applies a schema set's file
    (schema_apply_file.c): each history row has its start, end and
    duration, and the file, its history row and its schema_version row
    commit together."""
    pg.reset()
    d = make_daemon()
    d.start()
    rows = pg.psql("SELECT version, started <= finished, duration_ms >= 0,"
                   " error IS NULL FROM migrated.schema_history"
                   " WHERE set_name = 'migrated' ORDER BY id").split()
    n = len(list((ROOT / "daemon" / "schema").glob("*.sql")))
    assert rows == ["%d|t|t|t" % (i + 1) for i in range(n)], rows
    # each version's two rows in the same transaction
    assert pg.psql("SELECT count(*) FROM migrated.schema_history h"
                   " JOIN migrated.schema_version v USING (version)"
                   " WHERE h.set_name = 'migrated'"
                   " AND h.xmin <> v.xmin").strip() == "0"


def test_failed_own_upgrade_is_recorded_and_retried(pg, make_daemon):
    """A version that fails is rolled back, recorded as failed with the
    file and the server's message like a schema set's file, and tried
    again after the reconnect; once the obstacle is gone the daemon becomes
    ready."""
    pg.reset()
    pg.psql("CREATE SCHEMA migrated; CREATE TABLE migrated.jobs (x int)")
    d = make_daemon()
    d.start(wait=False)
    # the server gives no position for this error: the file alone
    d.wait_log(r"error: 001_jobs.sql: relation \"jobs\" already exists "
               r"\(SQLSTATE 42P07\)", timeout=20)
    status = wait_for("status with the schema error",
                      lambda: d.status()
                      if d.status().get("database_error") else None, 10)
    assert "001_jobs.sql:" in status["database_error"], status
    row = pg.psql("SELECT kind, outcome, error FROM migrated.schema_history"
                  " WHERE set_name = 'migrated' ORDER BY id LIMIT 1").strip()
    kind, outcome, error = row.split("|", 2)
    assert (kind, outcome) == ("applied", "failed"), row
    assert "001_jobs.sql:" in error and "42P07" in error, row
    assert pg.psql("SELECT count(*) FROM migrated.schema_version"
                   ).strip() == "0"
    pg.psql("DROP TABLE migrated.jobs")
    d.wait_ready(timeout=30)
    assert pg.psql("SELECT outcome FROM migrated.schema_history"
                   " WHERE set_name = 'migrated' AND version = 1"
                   " ORDER BY id DESC LIMIT 1").strip() == "succeeded"


def test_two_daemons_upgrading_at_once_take_turns(pg, make_daemon):
    """The upgrade holds a lock from the first read of the version to the
    last file: two daemons started together on an empty database apply
    each version once."""
    pg.reset()
    a, b = make_daemon(), make_daemon()
    a.start(wait=False)
    b.start(wait=False)
    a.wait_ready()
    b.wait_ready()
    n = len(list((ROOT / "daemon" / "schema").glob("*.sql")))
    assert pg.psql("SELECT count(*), count(DISTINCT version) FROM"
                   " migrated.schema_history WHERE set_name = 'migrated'"
                   ).strip() == "%d|%d" % (n, n)
    assert pg.psql("SELECT count(*) FROM migrated.schema_history WHERE"
                   " set_name = 'migrated' AND outcome <> 'succeeded'"
                   ).strip() == "0"
