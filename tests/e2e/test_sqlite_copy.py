"""Copy steps from a SQLite file ([database NAME] sqlite = PATH): the rows
read on the source's worker thread, converted to the target's types and
merged through the same staged COPY and upsert as PostgreSQL sources;
exactly once across kill -9, resumed, rolled back; a locked file waits; a
file written meanwhile is read consistently per batch; the socket answers
while a large file is read."""

import json
import os
import sqlite3
import threading
import time

from conftest import VALGRIND, wait_for
from jobs_util import kill9, write_plan
from safety_util import ok, run_job, wait_ended, fingerprints, submit


TARGET_SETUP = """
DROP TABLE IF EXISTS users;
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    auth0_id text NOT NULL, tenant text NOT NULL,
                    email text, name text, UNIQUE (tenant, auth0_id));
"""

PLAN = """
[plan]
description = Import users from a legacy SQLite file
tenants = SELECT 'tumi'

[step users]
source = legacy
select = SELECT id, tenant, auth0_id, email, display_name AS name
         FROM users WHERE tenant = :tenant
key = id
into = users
upsert = tenant, auth0_id
backup = %(backup)s
batch = %(batch)d
"""

CHECKSUM = ("SELECT count(*) || ':' || coalesce(md5(string_agg(tenant || '/' "
            "|| auth0_id || '/' || coalesce(email, '-') || '/' || "
            "coalesce(name, '-'), ',' ORDER BY tenant, auth0_id)), '-') "
            "FROM users WHERE tenant = 'tumi'")


def make_legacy(path, rows):
    if os.path.exists(path):
        os.unlink(path)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, tenant TEXT, "
               "auth0_id TEXT, email TEXT, display_name TEXT)")
    db.executemany(
        "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
        ((i, "other" if i % 3 == 0 else "tumi",
          "auth0|%d" % (i - 1 if i % 3 == 0 else i),
          None if i % 7 == 0 else "u%d@exämple.org" % i,
          "Ünïcode %d\ttab" % i) for i in range(1, rows + 1)))
    db.commit()
    db.close()


def expected(path):
    """count:md5 of what the target must hold, computed in Python."""
    import hashlib
    db = sqlite3.connect(path)
    rows = db.execute("SELECT tenant, auth0_id, email, display_name FROM "
                      "users WHERE tenant = 'tumi' ORDER BY id").fetchall()
    db.close()
    last = {}
    for t, a, e, n in rows:
        last[(t, a)] = (e, n)
    keys = sorted(last, key=lambda k: (k[0].encode(), k[1].encode()))
    text = ",".join("%s/%s/%s/%s" % (t, a, last[(t, a)][0] or "-",
                                     last[(t, a)][1] or "-")
                    for t, a in keys)
    return "%d:%s" % (len(keys), hashlib.md5(text.encode()).hexdigest())


def start(pg, make_daemon, rows=3000, batch=100, backup="no", plan=None,
          setup=TARGET_SETUP, legacy=None):
    pg.psql(setup)
    d = make_daemon()
    path = str(d.dir / "legacy.db")
    if legacy is None:
        make_legacy(path, rows)
    else:
        legacy(path)
    d.write_conf(d.conf_text() + "\n[database legacy]\nsqlite = %s\n" % path)
    write_plan(d, "import", plan or PLAN % {"batch": batch,
                                             "backup": backup})
    d.start()
    d.path = path
    return d


def rows_done(pg, job):
    return int(pg.psql("SELECT coalesce(sum(rows_done), 0) FROM "
                       "migrated.job_steps WHERE job_id = %d" % job))


def test_sqlite_import_merges_and_is_idempotent(pg, make_daemon):
    d = start(pg, make_daemon)
    # status shows the file
    wait_for("legacy shown connected", lambda: {
        x["name"]: x for x in d.status()["databases"]}["legacy"] == {
        "name": "legacy", "engine": "sqlite", "state": "connected",
        "error": None}, 10)
    job = run_job(d, "import", "tumi", timeout=60)
    assert job["steps"][0]["rows_done"] == 2000
    assert pg.psql(CHECKSUM).strip() == expected(d.path)
    again = run_job(d, "import", "tumi", timeout=60)
    assert again["rows_changed"] == 0, again
    db = sqlite3.connect(d.path)
    db.execute("UPDATE users SET email = 'new@example.org' WHERE id = "
               "(SELECT max(id) FROM users WHERE tenant = 'tumi')")
    db.commit()
    db.close()
    third = run_job(d, "import", "tumi", timeout=60)
    assert third["rows_changed"] == 1, third
    assert pg.psql(CHECKSUM).strip() == expected(d.path)


def test_check_sqlite_file(tmp_path):
    from conftest import MIGRATED, require_binaries, run
    require_binaries()
    (tmp_path / "plans").mkdir()
    conf = tmp_path / "migrated.conf"
    path = tmp_path / "legacy.db"
    conf.write_text("[daemon]\nplan_dir = %s/plans\n\n[database legacy]\n"
                    "sqlite = %s\n" % (tmp_path, path))
    rc, out, e = run([MIGRATED, "-n", "-c", conf])
    assert (rc, out) == (1, ""), (rc, out, e)
    assert e == "%s:4: [database legacy]: sqlite = %s: No such file or " \
        "directory\n" % (conf, path)
    path.write_text("not a database, just text in a file\n")
    rc, out, e = run([MIGRATED, "-n", "-c", conf])
    assert e == "%s:4: [database legacy]: sqlite = %s is not a SQLite " \
        "database file\n" % (conf, path)
    path.unlink()
    make_legacy(str(path), 3)
    rc, out, e = run([MIGRATED, "-n", "-c", conf])
    assert (rc, e) == (0, ""), (rc, out, e)
    assert "1 database(s)" in out


# --- conversions and rejects ------------------------------------------------

VALS_TARGET = """
DROP TABLE IF EXISTS vals;
CREATE TABLE vals (id bigint PRIMARY KEY, i integer, r double precision,
                   n numeric, t text, b bytea, flag boolean, d date,
                   ts timestamp, tstz timestamptz, j jsonb);
"""

VALS_PLAN = """
[plan]
tenants = SELECT 'all'

[step vals]
source = legacy
select = SELECT id, i, r, n, t, b, flag, d, ts, tstz, j FROM vals
key = id
into = vals
upsert = id
batch = 3
%s
"""

# (SQLite values, what the target shows: psql -tA, tstz in UTC)
GOOD = [
    ((1, 42, 1.5, 7, 'héllo "q" \\ back', b"\x00\xff", 1, "2024-02-29",
      "2024-02-29T13:45:30.25", "2024-02-29T13:45:30+02:00",
      '{"a": [1, 2]}'),
     "1|42|1.5|7|héllo \"q\" \\ back|\\x00ff|t|2024-02-29|"
     "2024-02-29 13:45:30.25|2024-02-29 11:45:30|{\"a\": [1, 2]}"),
    ((2, "17", 3, " 2.50 ", 12, "abc", "yes", 1709164800, 1709214330,
      1709214330.5, "[1]"),
     "2|17|3|2.50|12|\\x616263|t|2024-02-29|2024-02-29 13:45:30|"
     "2024-02-29 13:45:30.5|[1]"),
    ((3, 5.0, "2.5e3", 0.25, 0.1, None, "F", "2024-03-01 00:00:00",
      "2024-02-29 13:45", "2024-02-29T11:45:30Z", '"s"'),
     "3|5|2500|0.25|0.1||f|2024-03-01|2024-02-29 13:45:00|"
     "2024-02-29 11:45:30|\"s\""),
    ((4, None, None, None, None, None, None, None, None, None, None),
     "4||||||||||"),
    ((5, -3, -0.5, -1e3, "x", "", "t", "1970-01-01", -1, 0, "null"),
     "5|-3|-0.5|-1000|x|\\x|t|1970-01-01|1969-12-31 23:59:59|"
     "1970-01-01 00:00:00|null"),
    ((6, 0, 0, 0, "ünï", b"\x01", "off", 0, "2024-02-29T23:59:59.999999",
      "2024-02-29 13:45:30-05:30", "true"),
     "6|0|0|0|ünï|\\x01|f|1970-01-01|2024-02-29 23:59:59.999999|"
     "2024-02-29 19:15:30|true"),
    ((7, 1, 1, 1, "on", b"", "no", "2000-01-01", 951782400, 951782400,
      "1"),
     "7|1|1|1|on|\\x|f|2000-01-01|2000-02-29 00:00:00|"
     "2000-02-29 00:00:00|1"),
    ((8, 2, 2, 2, "y", b"\xfe", "True", "2000-02-29", "2000-02-29T00:00",
      "2000-02-29T00:00:00.5Z", "{}"),
     "8|2|2|2|y|\\xfe|t|2000-02-29|2000-02-29 00:00:00|"
     "2000-02-29 00:00:00.5|{}"),
]

# (row, column, shown value, reason)
BAD = [
    ((20, "abc", 1, 1, "x", None, 1, None, None, None, None),
     "i", "'abc'", "not an integer"),
    ((21, 1.5, 1, 1, "x", None, 1, None, None, None, None),
     "i", "1.5", "not an integer"),
    ((22, 1, "1,5", 1, "x", None, 1, None, None, None, None),
     "r", "'1,5'", "not a number"),
    ((23, 1, 1, 1, b"\xff\xfe", None, 1, None, None, None, None),
     "t", "x'fffe'", "not valid UTF-8 text"),
    ((24, 1, 1, 1, "x", 7, 1, None, None, None, None),
     "b", "7", "not bytes"),
    ((25, 1, 1, 1, "x", None, "maybe", None, None, None, None),
     "flag", "'maybe'",
     "not a boolean (0/1, true/false, t/f, yes/no, on/off)"),
    ((26, 1, 1, 1, "x", None, 2, None, None, None, None),
     "flag", "2", "not a boolean (0/1, true/false, t/f, yes/no, on/off)"),
    ((27, 1, 1, 1, "x", None, 1, "2024-02-30", None, None, None),
     "d", "'2024-02-30'",
     "not a date (YYYY-MM-DD or unix epoch seconds at midnight UTC)"),
    ((28, 1, 1, 1, "x", None, 1, 1709214330, None, None, None),
     "d", "1709214330",
     "not a date (YYYY-MM-DD or unix epoch seconds at midnight UTC)"),
    ((29, 1, 1, 1, "x", None, 1, None, "yesterday", None, None),
     "ts", "'yesterday'", "not a timestamp (ISO 8601 or unix epoch seconds)"),
    ((30, 1, 1, 1, "x", None, 1, None, None, "2024-02-29T25:00", None),
     "tstz", "'2024-02-29T25:00'",
     "not a timestamp (ISO 8601 or unix epoch seconds)"),
    ((31, 1, 1, 1, "x", None, 1, None, None, None, "{bad"),
     "j", "'{bad'", "not JSON"),
]

SHOW_VALS = ("SELECT id, i, r, n, t, b, flag, d, ts, tstz AT TIME ZONE 'UTC', "
             "j FROM vals ORDER BY id")


def make_vals(rows):
    def make(path):
        if os.path.exists(path):
            os.unlink(path)
        db = sqlite3.connect(path)
        # no declared types: every value keeps the storage class it is given
        db.execute("CREATE TABLE vals (id INTEGER PRIMARY KEY, i, r, n, t, b,"
                   " flag, d, ts, tstz, j)")
        db.executemany("INSERT INTO vals VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       rows)
        db.commit()
        db.close()
    return make


def test_sqlite_conversion_rules(pg, make_daemon):
    d = start(pg, make_daemon, plan=VALS_PLAN % "", setup=VALS_TARGET,
              legacy=make_vals([r for r, _ in GOOD]))
    job = run_job(d, "import", "all", timeout=60)
    assert job["rows_changed"] == len(GOOD), job
    assert pg.psql(SHOW_VALS).strip().split("\n") == [s for _, s in GOOD]


def test_sqlite_bad_value_fails_the_job_naming_it(pg, make_daemon):
    for row, col, shown, why in BAD:
        d = start(pg, make_daemon, plan=VALS_PLAN % "", setup=VALS_TARGET,
                  legacy=make_vals([GOOD[0][0], row]))
        job = run_job(d, "import", "all", want="failed", timeout=60)
        assert job["error"].endswith(
            "table vals, key id = %d, column %s: value %s is %s (rejects = "
            "keep keeps such rows in migrated.rejects)"
            % (row[0], col, shown, why)), job["error"]
        # nothing of the failed batch landed
        assert pg.psql("SELECT count(*) FROM vals").strip() == "0"
        d.stop()


def test_sqlite_rejects_keep(pg, make_daemon):
    rows = [r for r, _ in GOOD] + [r for r, _, _, _ in BAD]
    d = start(pg, make_daemon, plan=VALS_PLAN % "rejects = keep",
              setup=VALS_TARGET, legacy=make_vals(rows))
    job = run_job(d, "import", "all", timeout=60)
    assert job["rows_done"] == len(rows)
    assert job["rows_changed"] == len(GOOD)
    assert job["rows_rejected"] == len(BAD)
    assert pg.psql(SHOW_VALS).strip().split("\n") == [s for _, s in GOOD]
    rc, out, e = d.ctl("rejects", str(job["id"]), "--json")
    assert rc == 0, e
    got = json.loads(out)["rejects"]
    assert [(r["job"], r["step"], r["key"], r["column"], r["value"],
             r["error"]) for r in got] == [
        (job["id"], "vals", str(row[0]), col, shown, why)
        for row, col, shown, why in BAD]
    rc, out, e = d.ctl("rejects", str(job["id"]))
    assert rc == 0, e
    assert "'maybe'" in out and "COLUMN" in out
    rc, out, e = d.ctl("show", str(job["id"]))
    assert "Rows rejected:" in out and " %d" % len(BAD) in out, out
    # idempotent: a second run keeps the same rejects again, changes nothing
    again = run_job(d, "import", "all", timeout=60)
    assert again["rows_changed"] == 0 and again["rows_rejected"] == len(BAD)
    rc, out, e = d.ctl("rejects", "999999")
    assert rc != 0 and "999999" in e, (rc, out, e)


# --- exactly once, rollback, locks, concurrent writers, latency -------------

def count_merges(pg, sleep=0.0005):
    """Counts the rows each merge's INSERT sees, slowing each a little."""
    pg.psql("CREATE TABLE IF NOT EXISTS merges (n bigint); TRUNCATE merges;"
            "CREATE OR REPLACE FUNCTION count_merge() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN INSERT INTO merges VALUES (1);"
            " PERFORM pg_sleep(%s); RETURN NEW; END $$;"
            "CREATE TRIGGER count_merge BEFORE INSERT ON users FOR EACH ROW "
            "EXECUTE FUNCTION count_merge()" % sleep)


def test_sqlite_exactly_once_across_kill9(pg, make_daemon):
    d = start(pg, make_daemon, rows=30000, batch=50)
    count_merges(pg)
    job = submit(d, "import", ["tumi"])[0]

    def done():
        return rows_done(pg, job)
    for threshold in (2000, 8000, 14000):
        wait_for("import past %d" % threshold, lambda: done() > threshold,
                 40, interval=0.02)
        kill9(d)
        d.start()
    j = wait_ended(d, job, timeout=80)
    assert j["state"] == "succeeded", j
    assert j["steps"][0]["rows_done"] == 20000
    assert pg.psql(CHECKSUM).strip() == expected(d.path)
    # every source row went through the merge's INSERT exactly once
    assert pg.psql("SELECT count(*) FROM merges").strip() == "20000"
    assert "resuming after key" in d.log()


def test_sqlite_rollback_restores_the_target(pg, make_daemon):
    d = start(pg, make_daemon, backup="yes")
    pg.psql("INSERT INTO users (auth0_id, tenant, email, name) "
            "SELECT 'auth0|' || i, 'tumi', 'old' || i, 'Old' FROM "
            "generate_series(1, 300) i")
    before = fingerprints(pg, ["users"])
    job = run_job(d, "import", "tumi", timeout=60)
    assert job["rows_changed"] == 2000, job
    assert fingerprints(pg, ["users"]) != before
    rb = ok(d, "Rollback", {"id": job["id"]})["job"]
    assert wait_ended(d, rb, timeout=60)["state"] == "succeeded"
    assert fingerprints(pg, ["users"]) == before


def test_sqlite_locked_file_waits_then_finishes(pg, make_daemon):
    d = start(pg, make_daemon, rows=3000, batch=100)
    writer = sqlite3.connect(d.path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("UPDATE users SET email = 'locked@example.org' "
                   "WHERE id = 1")
    job = submit(d, "import", ["tumi"])[0]
    d.wait_log("is locked by a writer; the job waits and retries",
               timeout=20)
    time.sleep(1.5)
    j = ok(d, "ShowJob", {"id": job})["job"]
    assert j["state"] == "running" and j["rows_done"] == 0, j
    writer.execute("COMMIT")
    writer.close()
    j = wait_ended(d, job, timeout=60)
    assert j["state"] == "succeeded", j
    assert pg.psql(CHECKSUM).strip() == expected(d.path)
    assert pg.psql("SELECT email FROM users WHERE auth0_id = 'auth0|1'"
                   ).strip() == "locked@example.org"
    assert "no longer locked" in d.log()


def test_sqlite_written_meanwhile_reads_each_batch_consistently(
        pg, make_daemon):
    d = start(pg, make_daemon, rows=6000, batch=100)
    stop = threading.Event()
    versions = []

    def write():
        # each transaction rewrites every row with one new version
        db = sqlite3.connect(d.path, timeout=10)
        v = 0
        while not stop.is_set():
            v += 1
            db.execute("UPDATE users SET email = 'v%d'" % v)
            db.commit()
            versions.append(v)
        db.close()
    t = threading.Thread(target=write)
    t.start()
    try:
        job = run_job(d, "import", "tumi", timeout=120)
    finally:
        stop.set()
        t.join()
    assert job["steps"][0]["rows_done"] == 4000
    assert len(versions) > 5, versions
    rows = pg.psql("SELECT auth0_id, email FROM users").split()
    got = sorted((int(a.split("|")[1]), int(e[1:]))
                 for a, e in (r.rsplit("|", 1) for r in rows))
    assert len(got) == 4000
    # batches walk ids in order, 100 rows each: one version per batch,
    # never older than the batch before
    chunks = [{v for _, v in got[i:i + 100]} for i in range(0, 4000, 100)]
    assert all(len(c) == 1 for c in chunks), chunks
    seen = [c.pop() for c in chunks]
    assert seen == sorted(seen)
    assert len(set(seen)) > 1, seen


def test_socket_answers_while_a_large_sqlite_file_is_read(pg, make_daemon):
    # under valgrind (about 30 times slower) a smaller file, to finish
    # within the test's time
    rows, batch = (60000, 20000) if VALGRIND else (300000, 100000)
    d = start(pg, make_daemon, rows=rows, batch=batch)
    job = submit(d, "import", ["tumi"])[0]
    times = []
    while ok(d, "ShowJob", {"id": job})["job"]["state"] in ("queued",
                                                            "running"):
        t = time.monotonic()
        d.status()
        times.append(time.monotonic() - t)
        time.sleep(0.005)
    assert ok(d, "ShowJob", {"id": job})["job"]["state"] == "succeeded"
    times.sort()
    print("GetStatus during the SQLite import: %d calls, median %.1f ms, "
          "slowest %.1f ms" % (len(times), times[len(times) // 2] * 1000,
                               times[-1] * 1000))
    # one batch reads 100,000 rows: on the loop that would take the
    # loop away for a large part of a second (valgrind slows every call)
    slow = 5 if VALGRIND else 1
    assert times[len(times) // 2] < 0.01 * slow, times
    if not VALGRIND:   # valgrind's daemons share two cores: no bound on the slowest
        assert times[-1] < 0.1, times


def test_sqlite_verify_compare(pg, make_daemon):
    rows = [r for r, _ in GOOD] + [r for r, _, _, _ in BAD]
    d = start(pg, make_daemon, plan=VALS_PLAN % "rejects = keep",
              setup=VALS_TARGET, legacy=make_vals(rows))
    job = run_job(d, "import", "all", timeout=60)
    reply = ok(d, "Verify", {"id": job["id"], "compare": True}, timeout=30)
    assert reply["ok"] is True, reply
    (c,) = reply["compare"]
    # every type's converted text form matches the target's; the rejected
    # rows are not on either side
    assert (c["step"], c["source_rows"], c["target_rows"], c["ok"],
            c["differing"]) == ("vals", len(GOOD), len(GOOD), True, []), c
    pg.psql("UPDATE vals SET t = 'changed' WHERE id = 3")
    db = sqlite3.connect(d.path)
    db.execute("UPDATE vals SET r = 9.5 WHERE id = 5")
    db.commit()
    db.close()
    reply = ok(d, "Verify", {"id": job["id"], "compare": True}, timeout=30)
    assert reply["ok"] is False
    assert reply["compare"][0]["differing"] == ["3", "5"], reply
