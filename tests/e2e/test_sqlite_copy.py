"""Copy steps from a SQLite file ([database NAME] sqlite = PATH): the rows
read on the source's worker thread, converted to the target's types and
merged through the same staged COPY and upsert as PostgreSQL sources;
exactly once across kill -9, resumed, rolled back; a locked file waits; a
file written meanwhile is read consistently per batch; the socket answers
while a large file is read."""

import os
import sqlite3
import threading
import time

from conftest import wait_for
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
