"""The example plans of conf/plans load, and the legacy import of make demo
(conf/plans/legacy-import.plan over conf/demo/legacy.sql into
conf/demo/platform.sql) runs every step, links rows again by natural key,
changes nothing the second time and re-imports from scratch with --fresh.
Its databases are its own (demo_legacy, demo_platform), so the tables of
other tests are never touched."""

import json
import shutil

import pytest

from conftest import ROOT, MIGRATED, PSQL, Daemon, run
from safety_util import wait_ended

PLANS = ROOT / "conf" / "plans"
DEMO = ROOT / "conf" / "demo"
PAIRS = ["tumi:tumi.example", "tumi:tumi-archive.example",
         "acme:acme.example"]


def psql(pg, db, sql=None, file=None, variables=()):
    conninfo = pg.conninfo.replace("dbname=migrated", "dbname=" + db)
    args = [PSQL, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", conninfo]
    for v in variables:
        args += ["-v", v]
    args += ["-f", str(file)] if file else ["-c", sql]
    rc, out, err = run(args, timeout=120)
    assert rc == 0, err
    return out.strip()


@pytest.fixture
def demo_dbs(pg):
    pg.start()
    for db in ("demo_legacy", "demo_platform"):
        pg.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % db)
        pg.psql("CREATE DATABASE %s" % db)
    psql(pg, "demo_legacy", file=DEMO / "legacy.sql",
         variables=("tenants=4", "events=4000"))
    psql(pg, "demo_platform", file=DEMO / "platform.sql")
    yield pg
    for db in ("demo_legacy", "demo_platform"):
        pg.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % db)


def daemon_for(pg):
    target = pg.conninfo.replace("dbname=migrated", "dbname=demo_platform")
    legacy = pg.conninfo.replace("dbname=migrated", "dbname=demo_legacy")
    d = Daemon(pg, conninfo=target)
    d.write_conf(d.conf_text() + "\n[database legacy]\nconninfo = %s\n"
                 % legacy)
    for plan in PLANS.glob("*.plan"):
        shutil.copy(plan, d.plan_dir)
    return d


def test_example_plans_are_valid(pg):
    d = daemon_for(pg)
    try:
        rc, out, err = run([str(MIGRATED), "-n", "-c", d.conf_path])
        assert rc == 0, err
        n = len(list(PLANS.glob("*.plan")))
        assert "%d plan(s)" % n in out + err and "are valid" in out, out + err
    finally:
        d.cleanup()


def import_jobs(d, *extra, pairs=PAIRS):
    args = ["--json", "submit", "legacy-import", *extra]
    for p in pairs:
        args += ["--pair", p]
    rc, out, err = d.ctl(*args)
    assert rc == 0, err
    jobs = [wait_ended(d, j, timeout=60) for j in json.loads(out)["jobs"]]
    for j in jobs:
        assert j["state"] == "succeeded", j
    return jobs


# Per platform tenant: its legacy tenant's users (auth0_id), roles,
# assignments (auth0_id -> role name), templates and events (seq, user,
# kind), as one md5 each, computed alike on both sides.
LEGACY_VIEW = """
SELECT md5(coalesce((SELECT string_agg(auth0_id || coalesce(email, '-')
            || coalesce(display_name, '-'), ',' ORDER BY auth0_id)
        FROM users WHERE tenant_id = t.id), '')),
       md5(coalesce((SELECT string_agg(name || coalesce(description, '-'),
            ',' ORDER BY name) FROM roles WHERE tenant_id = t.id), '')),
       md5(coalesce((SELECT string_agg(u.auth0_id || r.name, ','
            ORDER BY u.auth0_id) FROM assignments a
        JOIN users u ON u.id = a.user_id JOIN roles r ON r.id = a.role_id
        WHERE a.tenant_id = t.id), '')),
       md5(coalesce((SELECT string_agg(name || subject || body, ','
            ORDER BY name) FROM templates WHERE tenant_id = t.id), '')),
       md5(coalesce((SELECT string_agg(e.id || coalesce(u.auth0_id, '-')
            || e.kind || e.detail::text, ',' ORDER BY e.id) FROM events e
        LEFT JOIN users u ON u.id = e.user_id
        WHERE e.tenant_id = t.id), ''))
FROM tenants t WHERE short_name = '%s'
"""

PLATFORM_VIEW = """
SELECT md5(coalesce((SELECT string_agg(u.auth0_id || coalesce(u.email, '-')
            || coalesce(u.name, '-'), ',' ORDER BY u.auth0_id)
        FROM users u JOIN assignments a ON a.user_id = u.id
        WHERE a.tenant_id = t.id), '')),
       md5(coalesce((SELECT string_agg(name || coalesce(description, '-'),
            ',' ORDER BY name) FROM roles WHERE tenant_id = t.id), '')),
       md5(coalesce((SELECT string_agg(u.auth0_id || r.name, ','
            ORDER BY u.auth0_id) FROM assignments a
        JOIN users u ON u.id = a.user_id JOIN roles r ON r.id = a.role_id
        WHERE a.tenant_id = t.id), '')),
       md5(coalesce((SELECT string_agg(name || subject || body, ','
            ORDER BY name) FROM templates WHERE tenant_id = t.id), '')),
       md5(coalesce((SELECT string_agg(e.seq || coalesce(u.auth0_id, '-')
            || e.kind || e.detail::text, ',' ORDER BY e.seq) FROM events e
        LEFT JOIN users u ON u.id = e.user_id
        WHERE e.tenant_id = t.id), ''))
FROM tenants t WHERE domain = '%s'
"""


def legacy_users_with_roles(pg, short):
    """The users view restricted to users who have an assignment: the
    platform knows a tenant's users only through their assignments."""
    return psql(pg, "demo_legacy", LEGACY_VIEW.replace(
        "FROM users WHERE tenant_id = t.id",
        "FROM users u0 WHERE tenant_id = t.id AND EXISTS (SELECT 1 FROM "
        "assignments a0 WHERE a0.user_id = u0.id)") % short)


def test_legacy_import_runs_links_and_is_idempotent(demo_dbs):
    pg = demo_dbs
    d = daemon_for(pg).start()
    try:
        jobs = import_jobs(d)
        for j in jobs:
            assert [s["state"] for s in j["steps"]] == ["done"] * 6, j
            assert all(s["rows_done"] > 0 for s in j["steps"]), j
        for pair in PAIRS:
            old, new = pair.split(":")
            assert psql(pg, "demo_platform", PLATFORM_VIEW % new) == \
                legacy_users_with_roles(pg, old), pair
        # one platform user per person, whatever the number of tenants
        persons = psql(pg, "demo_legacy",
                       "SELECT count(DISTINCT auth0_id) FROM users u "
                       "JOIN tenants t ON t.id = u.tenant_id "
                       "WHERE short_name IN ('tumi', 'acme')")
        assert psql(pg, "demo_platform",
                    "SELECT count(*) FROM users") == persons
        # the second time, nothing changes
        again = import_jobs(d)
        assert [j["rows_changed"] for j in again] == [0, 0, 0], again

        # a template gone from the legacy system stays on a plain
        # re-import and goes with --fresh, for that pair only
        psql(pg, "demo_legacy",
             "DELETE FROM templates WHERE name = 'template-50' AND "
             "tenant_id = (SELECT id FROM tenants WHERE short_name = 'tumi')")
        count = ("SELECT count(*) FROM templates p JOIN tenants t "
                 "ON t.id = p.tenant_id WHERE t.domain = '%s'")
        import_jobs(d, pairs=PAIRS[:1])
        assert psql(pg, "demo_platform", count % "tumi.example") == "50"
        (fresh,) = import_jobs(d, "--fresh", pairs=PAIRS[:1])
        assert fresh["fresh"], fresh
        assert psql(pg, "demo_platform", count % "tumi.example") == "49"
        assert psql(pg, "demo_platform", count % "tumi-archive.example") == \
            "50"
        assert psql(pg, "demo_platform", PLATFORM_VIEW % "tumi.example") == \
            legacy_users_with_roles(pg, "tumi")
    finally:
        d.cleanup()
