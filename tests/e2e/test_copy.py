"""Copy steps: a tenant's rows read from a legacy PostgreSQL database with
COPY and merged into the target by natural key, exactly once across kill -9,
idempotent on a second run, and rolled back exactly."""

import json
import os
import pty
import subprocess

from conftest import MIGRATECTL, run, wait_for
from jobs_util import kill9, write_plan, reload
from safety_util import ok, err, run_job, wait_ended, fingerprints, submit


LEGACY_SETUP = """
DROP TABLE IF EXISTS users;
CREATE TABLE users (id integer PRIMARY KEY, tenant text NOT NULL,
                    auth0_id text, email text, display_name text);
INSERT INTO users
SELECT i, CASE WHEN i %% 3 = 0 THEN 'other' ELSE 'tumi' END,
       -- each 'other' user shares its natural key with a 'tumi' one
       'auth0|' || CASE WHEN i %% 3 = 0 THEN i - 1 ELSE i END,
       CASE WHEN i %% 7 = 0 THEN NULL ELSE 'u' || i || '@exämple.org' END,
       'Ünïcode ' || i || E' tab\\there'
FROM generate_series(1, %(rows)d) i;
"""

TARGET_SETUP = """
DROP TABLE IF EXISTS users;
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    auth0_id text NOT NULL, tenant text NOT NULL,
                    email text, name text, communication_email text,
                    UNIQUE (tenant, auth0_id));
"""

PLAN = """
[plan]
description = Import users from the legacy database
tenants = SELECT DISTINCT tenant FROM users ORDER BY 1
source = legacy

[step users]
source = legacy
select = SELECT id, tenant, auth0_id, email, display_name AS name
         FROM users WHERE tenant = :tenant
key = id
into = users
upsert = tenant, auth0_id
defaults = communication_email = email
backup = %(backup)s
batch = %(batch)d
"""

CHECKSUM = ("SELECT count(*) || ':' || coalesce(md5(string_agg(tenant || '/' "
            "|| auth0_id || '/' || coalesce(email, '-') || '/' || "
            "coalesce(name, '-'), ',' ORDER BY tenant, auth0_id)), '-') "
            "FROM %s WHERE tenant = 'tumi'")


def legacy_psql(pg, sql):
    conninfo = pg.conninfo.replace("dbname=migrated", "dbname=legacy")
    from conftest import PSQL
    rc, out, e = run([PSQL, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1",
                      "-d", conninfo, "-c", sql])
    assert rc == 0, e
    return out.strip()


def start_import(pg, make_daemon, rows=3000, batch=100, backup="no"):
    if not pg.psql("SELECT 1 FROM pg_database WHERE datname = 'legacy'"):
        pg.psql("CREATE DATABASE legacy")
    legacy_psql(pg, LEGACY_SETUP % {"rows": rows})
    pg.psql(TARGET_SETUP)
    d = make_daemon()
    legacy = pg.conninfo.replace("dbname=migrated", "dbname=legacy")
    d.write_conf(d.conf_text() + "\n[database legacy]\nconninfo = %s\n"
                 % legacy)
    write_plan(d, "import", PLAN % {"batch": batch, "backup": backup})
    d.start()
    return d


def expected(pg):
    """What the target must hold for tenant tumi: the legacy rows, the last
    one per natural key winning (keys walk in id order)."""
    return legacy_psql(pg, CHECKSUM % (
        "(SELECT DISTINCT ON (tenant, auth0_id) tenant, auth0_id, email, "
        "display_name AS name FROM users WHERE tenant = 'tumi' "
        "ORDER BY tenant, auth0_id, id DESC) u"))


def count_merges(pg, sleep=0.0005):
    """Counts the rows each merge's INSERT sees, slowing each a little."""
    pg.psql("CREATE TABLE IF NOT EXISTS merges (n bigint); TRUNCATE merges;"
            "CREATE OR REPLACE FUNCTION count_merge() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN INSERT INTO merges VALUES (1);"
            " PERFORM pg_sleep(%s); RETURN NEW; END $$;"
            "CREATE TRIGGER count_merge BEFORE INSERT ON users FOR EACH ROW "
            "EXECUTE FUNCTION count_merge()" % sleep)


def rows_done(pg, job):
    return int(pg.psql("SELECT coalesce(sum(rows_done), 0) FROM "
                       "migrated.job_steps WHERE job_id = %d" % job))


def test_copy_imports_merges_and_is_idempotent(pg, make_daemon):
    d = start_import(pg, make_daemon)
    job = run_job(d, "import", "tumi", timeout=60)
    assert job["steps"][0]["rows_done"] == 2000
    assert pg.psql(CHECKSUM % "users").strip() == expected(pg)
    # defaults fill the new column of inserted rows only: each key keeps
    # the email of its first legacy row
    firsts = ("SELECT md5(string_agg(auth0_id || '/' || coalesce(%s, '-'),"
              " ',' ORDER BY auth0_id)) FROM %s")
    assert pg.psql(firsts % ("communication_email", "users")).strip() == \
        legacy_psql(pg, firsts % ("email", "(SELECT DISTINCT ON (auth0_id) "
                                  "auth0_id, email FROM users WHERE tenant = "
                                  "'tumi' ORDER BY auth0_id, id) u"))
    # the other tenant's rows stayed on the source
    assert pg.psql("SELECT count(DISTINCT tenant) FROM users").strip() == "1"
    # the same import again changes nothing
    again = run_job(d, "import", "tumi", timeout=60)
    assert again["rows_changed"] == 0, again
    # a changed source row is merged, and only it
    legacy_psql(pg, "UPDATE users SET email = 'new@example.org' "
                    "WHERE id = (SELECT max(id) FROM users "
                    "WHERE tenant = 'tumi')")
    third = run_job(d, "import", "tumi", timeout=60)
    assert third["rows_changed"] == 1, third
    assert pg.psql(CHECKSUM % "users").strip() == expected(pg)


def test_copy_exactly_once_across_kill9(pg, make_daemon):
    d = start_import(pg, make_daemon, rows=30000, batch=50)
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
    assert pg.psql(CHECKSUM % "users").strip() == expected(pg)
    # every source row went through the merge's INSERT exactly once
    assert pg.psql("SELECT count(*) FROM merges").strip() == "20000"


def test_copy_rollback_restores_the_target(pg, make_daemon):
    d = start_import(pg, make_daemon, backup="yes")
    # some rows exist before: the import updates them, inserts the rest
    pg.psql("INSERT INTO users (auth0_id, tenant, email, name) "
            "SELECT 'auth0|' || i, 'tumi', 'old' || i, 'Old' FROM "
            "generate_series(1, 300) i")
    before = fingerprints(pg, ["users"])
    job = run_job(d, "import", "tumi", timeout=60)
    # 200 of the 300 were updated, 1,800 rows inserted
    assert job["rows_changed"] == 2000, job
    assert fingerprints(pg, ["users"]) != before
    rb = ok(d, "Rollback", {"id": job["id"]})["job"]
    assert wait_ended(d, rb, timeout=60)["state"] == "succeeded"
    assert fingerprints(pg, ["users"]) == before


def test_source_down_holds_the_job_and_it_resumes(pg, make_daemon):
    d = start_import(pg, make_daemon, rows=30000, batch=50)
    count_merges(pg)
    job = submit(d, "import", ["tumi"])[0]

    def done():
        return rows_done(pg, job)
    wait_for("import under way", lambda: done() > 1000, 40, interval=0.02)
    # the source goes away: new sessions are refused, the daemon's ended
    pg.psql("ALTER DATABASE legacy ALLOW_CONNECTIONS false")
    pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = 'legacy'")
    d.wait_log("source legacy unavailable", timeout=20)
    stalled = done()
    wait_for("the job to be held", lambda: done() == stalled, 10)
    # held, not failed; the socket answers; status says why
    j = ok(d, "ShowJob", {"id": job})["job"]
    assert j["state"] == "running", j
    dbs = {x["name"]: x for x in d.status()["databases"]}
    wait_for("legacy shown disconnected", lambda: {
        x["name"]: x for x in d.status()["databases"]}["legacy"]["state"]
        != "connected", 20)
    pg.psql("ALTER DATABASE legacy ALLOW_CONNECTIONS true")
    j = wait_ended(d, job, timeout=90)
    assert j["state"] == "succeeded", j
    assert j["steps"][0]["rows_done"] == 20000
    assert pg.psql(CHECKSUM % "users").strip() == expected(pg)
    assert dbs is not None


def test_socket_answers_while_batches_stream(pg, make_daemon):
    d = start_import(pg, make_daemon, rows=300000, batch=20000)
    job = submit(d, "import", ["tumi"])[0]
    slowest = 0.0
    import time
    while ok(d, "ShowJob", {"id": job})["job"]["state"] in ("queued",
                                                            "running"):
        t = time.monotonic()
        d.status()
        slowest = max(slowest, time.monotonic() - t)
        time.sleep(0.01)
    assert ok(d, "ShowJob", {"id": job})["job"]["state"] == "succeeded"
    print("slowest GetStatus during the copy: %.1f ms" % (slowest * 1000))
    # a blocking COPY would hold the loop for a whole batch (seconds)
    assert slowest < 0.5, slowest


PAIR_LEGACY = """
DROP TABLE IF EXISTS tenants, members;
CREATE TABLE tenants (id integer PRIMARY KEY, short_name text UNIQUE,
                      name text);
INSERT INTO tenants VALUES (1, 'tumi', 'Tumi Ltd'), (2, 'acme', 'Acmé'),
                           (3, 'zed', 'Zed');
CREATE TABLE members (id integer PRIMARY KEY, tenant text, auth0_id text,
                      email text);
INSERT INTO members SELECT i, (ARRAY['tumi', 'acme', 'zed'])[1 + i % 3],
       'auth0|' || (i / 3), 'm' || i || '@example.org'
FROM generate_series(1, 300) i;
"""

PAIR_TARGET = """
DROP TABLE IF EXISTS members, orgs;
CREATE TABLE orgs (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                   domain text UNIQUE NOT NULL, name text);
CREATE TABLE members (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                      org_id bigint NOT NULL REFERENCES orgs,
                      auth0_id text NOT NULL, email text,
                      UNIQUE (org_id, auth0_id));
INSERT INTO orgs (domain, name) VALUES ('keep.example', 'untouched');
"""

PAIR_PLAN = """
[plan]
tenants = SELECT short_name FROM tenants ORDER BY 1
source = legacy
pair = domain

[step orgs]
source = legacy
select = SELECT id, name FROM tenants WHERE short_name = :tenant
key = id
into = orgs
apply = INSERT INTO orgs (domain, name) SELECT :domain, name FROM staged
        ON CONFLICT (domain) DO UPDATE SET name = excluded.name
        WHERE orgs.name IS DISTINCT FROM excluded.name
clear = DELETE FROM orgs WHERE domain = :domain

[step members]
after = orgs
source = legacy
select = SELECT id, auth0_id, email FROM members WHERE tenant = :tenant
key = id
into = members
apply = INSERT INTO members (org_id, auth0_id, email)
        SELECT o.id, s.auth0_id, s.email FROM staged s
        JOIN orgs o ON o.domain = :domain
        ON CONFLICT (org_id, auth0_id) DO UPDATE SET email = excluded.email
        WHERE members.email IS DISTINCT FROM excluded.email
clear = DELETE FROM members m USING orgs o
        WHERE m.org_id = o.id AND o.domain = :domain
"""


def start_pairs(pg, make_daemon):
    if not pg.psql("SELECT 1 FROM pg_database WHERE datname = 'legacy'"):
        pg.psql("CREATE DATABASE legacy")
    legacy_psql(pg, PAIR_LEGACY)
    pg.psql(PAIR_TARGET)
    d = make_daemon()
    legacy = pg.conninfo.replace("dbname=migrated", "dbname=legacy")
    d.write_conf(d.conf_text() + "\n[database legacy]\nconninfo = %s\n"
                 % legacy)
    write_plan(d, "pairs", PAIR_PLAN)
    d.start()
    return d


def ctl_on_terminal(d, *args):
    """migratectl with its standard output on a terminal (a pty); returns
    (rc, what it wrote there)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([MIGRATECTL, "--socket", d.socket, *args],
                            stdout=slave, stderr=subprocess.DEVNULL)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:             # EIO: the other end is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return proc.wait(timeout=30), out.decode()


def ended(d, ids):
    return [wait_ended(d, i, timeout=60) for i in ids]


def members_of(pg, domain):
    return pg.psql("SELECT count(*) FROM members m JOIN orgs o ON "
                   "o.id = m.org_id WHERE o.domain = '%s'" % domain).strip()


def test_pairs_features_and_fresh(pg, make_daemon):
    d = start_pairs(pg, make_daemon)
    # one old tenant into two new ones, and another tenant
    rc, out, e = d.ctl("submit", "pairs", "--pair", "tumi:tumi.example",
                       "--pair", "tumi:tumi2.example", "--pair",
                       "acme:acme.example", "--steps", "orgs", "--json")
    assert rc == 0, e
    jobs = json.loads(out)["jobs"]
    assert len(jobs) == 3
    assert all(j["state"] == "succeeded" for j in ended(d, jobs))
    # list names each job's pair: NEW (from OLD) in TENANT; --json has both
    rc, out, e = d.ctl("list", "--plan", "pairs")
    assert rc == 0, e
    rows = {l.split()[0]: l for l in out.splitlines()[1:]}
    assert [" tumi.example (from tumi) " in rows[str(jobs[0])],
            " tumi2.example (from tumi) " in rows[str(jobs[1])],
            " acme.example (from acme) " in rows[str(jobs[2])]] == [
        True] * 3, out
    # ... and so does watch, on a terminal
    rc, out = ctl_on_terminal(d, "watch", *map(str, jobs))
    assert rc == 0, out
    assert [" tumi.example (from tumi) " in out,
            " tumi2.example (from tumi) " in out,
            " acme.example (from acme) " in out] == [True] * 3, out
    rc, out, e = d.ctl("--json", "list", "--plan", "pairs")
    assert rc == 0, e
    assert sorted((j["tenant"], j["pair"]) for j in json.loads(out)["jobs"]) == [
        ("acme", "acme.example"), ("tumi", "tumi.example"),
        ("tumi", "tumi2.example")], out
    assert pg.psql("SELECT string_agg(domain || '=' || name, ',' ORDER BY "
                   "domain) FROM orgs").strip() == (
        "acme.example=Acmé,keep.example=untouched,tumi.example=Tumi Ltd,"
        "tumi2.example=Tumi Ltd")
    # the members feature alone: its dependency succeeded for the pair
    r = ok(d, "Submit", {"plan": "pairs", "steps": ["members"],
                         "pairs": [{"old": "tumi", "new": "tumi.example"}]})
    assert ended(d, r["jobs"])[0]["state"] == "succeeded"
    assert members_of(pg, "tumi.example") == "100"
    # ... but not for a pair whose orgs step never ran
    name, params = err(d, "Submit", {
        "plan": "pairs", "steps": ["members"],
        "pairs": [{"old": "zed", "new": "zed.example"}]})
    assert (name, params) == ("io.migrated.StepDependency", {
        "plan": "pairs", "step": "members", "after": "orgs",
        "tenant": "zed", "pair": "zed.example"}), params
    # ... named by the first pair refused, the one done passing
    name, params = err(d, "Submit", {
        "plan": "pairs", "steps": ["members"],
        "pairs": [{"old": "tumi", "new": "tumi.example"},
                  {"old": "zed", "new": "zed.example"}]})
    assert (params["tenant"], params["pair"]) == ("zed", "zed.example")
    rc, out, e = d.ctl("submit", "pairs", "--pair", "zed:zed.example",
                       "--steps", "members")
    assert rc == 1 and "for tenant 'zed' (pair zed:zed.example); add " \
        "--steps orgs" in e, (rc, e)
    # again: nothing changes
    r = ok(d, "Submit", {"plan": "pairs", "pairs": [
        {"old": "tumi", "new": "tumi.example"}]})
    again = ended(d, r["jobs"])[0]
    assert again["state"] == "succeeded" and again["rows_changed"] == 0, again
    # a fresh re-import clears the tenant first, reverse step order
    pg.psql("UPDATE members SET email = 'edited' WHERE org_id = (SELECT id "
            "FROM orgs WHERE domain = 'tumi.example')")
    old_id = pg.psql("SELECT id FROM orgs WHERE domain = 'tumi.example'")
    r = ok(d, "Submit", {"plan": "pairs", "fresh": True, "pairs": [
        {"old": "tumi", "new": "tumi.example"}]})
    fresh = ended(d, r["jobs"])[0]
    assert fresh["state"] == "succeeded", fresh
    assert fresh["fresh"] is True
    assert members_of(pg, "tumi.example") == "100"
    assert pg.psql("SELECT count(*) FROM members WHERE email = 'edited'"
                   ).strip() == "0"
    assert pg.psql("SELECT id FROM orgs WHERE domain = 'tumi.example'") \
        != old_id
    # the clears are audited, members first
    log = pg.psql("SELECT parameters->>'step' FROM migrated.audit WHERE "
                  "action = 'clear' AND job_id = %d ORDER BY id"
                  % r["jobs"][0]).split()
    assert log == ["members", "orgs"], log
    # neighbours untouched
    assert members_of(pg, "tumi2.example") == "0"
    assert pg.psql("SELECT name FROM orgs WHERE domain = 'keep.example'"
                   ).strip() == "untouched"


def test_all_tenants_come_from_the_source(pg, make_daemon):
    d = start_pairs(pg, make_daemon)
    write_plan(d, "plain", PAIR_PLAN.replace("pair = domain\n", "").replace(
        ":domain", ":tenant"))
    reload(d)
    r = ok(d, "Submit", {"plan": "plain", "all": True})
    assert [j["tenant"] for j in ended(d, r["jobs"])] == ["acme", "tumi",
                                                         "zed"]
    assert pg.psql("SELECT count(*) FROM members").strip() == "300"


def test_fresh_with_backup_rolls_back_to_before_the_clear(pg, make_daemon):
    d = start_import(pg, make_daemon, backup="yes")
    write_plan(d, "import", (PLAN % {"batch": 100, "backup": "yes"}) +
               "clear = DELETE FROM users WHERE tenant = :tenant\n")
    reload(d)
    run_job(d, "import", "tumi", timeout=60)
    # an operator's edit, and a row only the target has
    pg.psql("UPDATE users SET name = 'edited' WHERE auth0_id = 'auth0|1';"
            "INSERT INTO users (auth0_id, tenant, email) VALUES "
            "('local|1', 'tumi', 'local@example.org')")
    before = fingerprints(pg, ["users"])
    fresh = run_job(d, "import", "tumi", timeout=60, fresh=True)
    assert fresh["fresh"] is True
    # the clear removed the local row and the edit; the import is whole
    assert pg.psql("SELECT count(*) FROM users WHERE auth0_id LIKE 'local%' "
                   "OR name = 'edited'").strip() == "0"
    assert pg.psql(CHECKSUM % "users").strip() == expected(pg)
    rb = ok(d, "Rollback", {"id": fresh["id"]})["job"]
    assert wait_ended(d, rb, timeout=60)["state"] == "succeeded"
    assert fingerprints(pg, ["users"]) == before


def test_parameters_bind_into_select(pg, make_daemon):
    d = start_import(pg, make_daemon)
    write_plan(d, "since", (PLAN % {"batch": 100, "backup": "no"}).replace(
        "source = legacy\n\n[step", "source = legacy\nparameters = min_id"
        "\n\n[step").replace("WHERE tenant = :tenant",
                             "WHERE tenant = :tenant AND id > :min_id"))
    reload(d)
    name, params = err(d, "Submit", {"plan": "since", "tenants": ["tumi"]})
    assert name == "io.migrated.InvalidParameterValue", params
    # a value that would be SQL if it were pasted stays a value
    name, params = err(d, "Submit", {"plan": "since", "tenants": ["tumi"],
                                     "params": {"nope": "1"}})
    assert name == "io.migrated.InvalidParameterValue", params
    job = run_job(d, "since", "tumi", timeout=60, params={"min_id": "2700"})
    assert job["steps"][0]["rows_done"] == 200, job
    bad = run_job(d, "since", "tumi", want="failed", timeout=60,
                  params={"min_id": "1); DROP TABLE users; --"})
    assert "invalid input syntax for type integer" in bad["error"], bad
    assert legacy_psql(pg, "SELECT count(*) FROM users") == "3000"


def test_exactly_once_across_database_restarts(pg, make_daemon):
    d = start_import(pg, make_daemon, rows=30000, batch=50)
    count_merges(pg)
    job = submit(d, "import", ["tumi"])[0]

    def done():
        return rows_done(pg, job)
    for threshold in (3000, 10000):
        wait_for("import past %d" % threshold, lambda: done() > threshold,
                 60, interval=0.05)
        pg.restart()   # source and target are both in this cluster
        wait_for("the daemon back on the database",
                 lambda: d.status()["database"] == "connected", 30)
    j = wait_ended(d, job, timeout=90)
    assert j["state"] == "succeeded", j
    assert j["steps"][0]["rows_done"] == 20000
    assert pg.psql(CHECKSUM % "users").strip() == expected(pg)
    assert pg.psql("SELECT count(*) FROM merges").strip() == "20000"


def test_compare_yes_checks_the_import(pg, make_daemon):
    d = start_import(pg, make_daemon)
    write_plan(d, "checked", (PLAN % {"batch": 500, "backup": "no"}).replace(
        "source = legacy\n\n[step", "source = legacy\ncompare = yes\n\n[step"))
    reload(d)
    job = run_job(d, "checked", "tumi", timeout=60)
    assert d.wait_log("compare: ", timeout=10)
    # a target that rewrites what it is given: the compare catches it
    pg.psql("TRUNCATE users;"
            "CREATE OR REPLACE FUNCTION mangle() RETURNS trigger LANGUAGE "
            "plpgsql AS $$ BEGIN IF NEW.auth0_id = 'auth0|5' THEN "
            "NEW.email = 'mangled'; END IF; RETURN NEW; END $$;"
            "CREATE TRIGGER mangle BEFORE INSERT ON users FOR EACH ROW "
            "EXECUTE FUNCTION mangle()")
    bad = run_job(d, "checked", "tumi", want="failed", timeout=60)
    assert "compare found differences" in bad["error"], bad
    assert "auth0|5" in bad["error"], bad
    assert job["state"] == "succeeded"


def test_dry_run_counts_and_changes_nothing(pg, make_daemon):
    d = start_import(pg, make_daemon, backup="yes")
    before = fingerprints(pg, ["users"])
    job = run_job(d, "import", "tumi", timeout=60, dry_run=True)
    assert job["rows_changed"] == 2000, job
    assert fingerprints(pg, ["users"]) == before
    assert pg.psql("SELECT count(*) FROM migrated.backups").strip() == "0"


def test_clear_errors_fail_the_job(pg, make_daemon):
    d = start_import(pg, make_daemon)
    cases = {
        # the source refuses select: the job says where and why
        "badsel": ("display_name AS name", "display_nam AS name",
                   'select on source legacy: column "display_nam" does '
                   'not exist'),
        # no unique index for the natural key
        "nouniq": ("upsert = tenant, auth0_id", "upsert = email",
                   "there is no unique or exclusion constraint matching"),
        # a target table that is not there
        "notab": ("into = users", "into = userz",
                  'there is no table "userz" on the target'),
    }
    base = PLAN % {"batch": 100, "backup": "no"}
    for name, (old, new, _) in cases.items():
        write_plan(d, name, base.replace(old, new))
    reload(d)
    for name, (_, _, message) in cases.items():
        job = run_job(d, name, "tumi", want="failed", timeout=30)
        assert message in job["error"], (name, job["error"])
        assert job["error"].startswith("step users"), job["error"]
    assert pg.psql("SELECT count(*) FROM users").strip() == "0"


def test_pause_and_resume_a_copy(pg, make_daemon):
    d = start_import(pg, make_daemon, rows=30000, batch=50)
    count_merges(pg)
    job = submit(d, "import", ["tumi"])[0]
    wait_for("import under way", lambda: rows_done(pg, job) > 1000, 40,
             interval=0.02)
    ok(d, "Pause", {"ids": [job]})
    wait_for("paused", lambda: ok(d, "ShowJob", {"id": job})["job"][
        "state"] == "paused", 20)
    held = rows_done(pg, job)
    import time
    time.sleep(1)
    assert rows_done(pg, job) == held
    # no copy session is left open on the source while paused
    assert pg.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                   "'legacy' AND state LIKE 'idle in transaction%'"
                   ).strip() == "0"
    ok(d, "Resume", {"ids": [job]})
    j = wait_ended(d, job, timeout=90)
    assert j["state"] == "succeeded", j
    assert pg.psql("SELECT count(*) FROM merges").strip() == "20000"


def test_backup_with_a_natural_key_from_defaults(pg, make_daemon):
    """An upsert column that defaults computes (the target's tenant, found
    from staged) is computed for the backup's match too."""
    d = start_import(pg, make_daemon)
    write_plan(d, "keyed", """
[plan]
tenants = SELECT 'tumi'

[step users]
source = legacy
select = SELECT id, auth0_id, email, display_name AS name FROM users
         WHERE tenant = :tenant
key = id
into = users
upsert = tenant, auth0_id
defaults = tenant = upper('tumi')
backup = yes
""")
    reload(d)
    pg.psql("INSERT INTO users (auth0_id, tenant, email) VALUES "
            "('auth0|1', 'TUMI', 'before')")
    before = fingerprints(pg, ["users"])
    job = run_job(d, "keyed", "tumi", timeout=60)
    assert job["rows_changed"] == 2000, job
    rb = ok(d, "Rollback", {"id": job["id"]})["job"]
    assert wait_ended(d, rb, timeout=60)["state"] == "succeeded"
    assert fingerprints(pg, ["users"]) == before
