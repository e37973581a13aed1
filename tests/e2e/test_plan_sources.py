"""A plan's sources ([plan] source, a copy step's source) must name a
[database NAME] of the configuration: a plan naming another is refused at
load like any bad plan, by `migrated -n` and by a reload."""

import re

from conftest import MIGRATED, run
from jobs_util import plan_names, write_plan

PLAN = """[plan]
description = Import users from the legacy database
tenants = SELECT DISTINCT tenant FROM users ORDER BY 1
source = legacy

[step users]
source = %(source)s
select = SELECT id, tenant, email FROM users WHERE tenant = :tenant
key = id
into = users
upsert = tenant, email
"""


def with_legacy(d, pg):
    """The daemon's config with [database legacy] in the session's
    cluster."""
    if not pg.psql("SELECT 1 FROM pg_database WHERE datname = 'legacy'"):
        pg.psql("CREATE DATABASE legacy")
    legacy = pg.conninfo.replace("dbname=migrated", "dbname=legacy")
    return d.conf_text() + "\n[database legacy]\nconninfo = %s\n" % legacy


def test_check_refuses_a_plan_with_an_unknown_source(pg, make_daemon):
    d = make_daemon()
    d.write_conf(with_legacy(d, pg))
    write_plan(d, "good", PLAN % {"source": "legacy"})
    write_plan(d, "typo", PLAN % {"source": "legcay"})
    rc, out, err = run([MIGRATED, "-n", "-c", d.conf_path])
    assert (rc, out) == (1, ""), (rc, out, err)
    assert err == "%s/typo.plan:7: unknown source legcay (databases: " \
        "legacy)\n" % d.plan_dir

    write_plan(d, "typo", PLAN % {"source": "legacy"})
    rc, out, err = run([MIGRATED, "-n", "-c", d.conf_path])
    assert (rc, err) == (0, ""), (rc, out, err)
    assert out == "%s: configuration, 1 database(s), 2 plan(s) and 0 schema set(s) are " \
        "valid\n" % d.conf_path


def test_reload_without_a_database_in_use_is_refused(pg, make_daemon):
    d = make_daemon()
    d.write_conf(with_legacy(d, pg))
    write_plan(d, "import", PLAN % {"source": "legacy"})
    d.start()
    assert plan_names(d) == ["import"]

    # [database legacy] goes, the plan naming it stays: all or nothing
    d.write_conf(d.conf_text())
    reply = d.call("io.migrated.Reload", {})
    assert reply.get("error") == "io.migrated.ReloadFailed", reply
    assert reply["parameters"]["message"] == \
        "1 plan(s) do not load (see above)", reply
    d.wait_log(re.escape("plan not loaded: %s/import.plan:4: unknown source "
                         "legacy (databases: none)" % d.plan_dir))
    assert plan_names(d) == ["import"]
    assert [db["name"] for db in d.status()["databases"]] == \
        ["target", "legacy"]
    d.stop()
