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
