"""Helpers for the safety end-to-end tests (test_safety.py, test_auth.py,
test_hostile.py): raw Varlink calls, a data set with many column types,
plans with checks, verifies and backups, table fingerprints, the audit log,
and running a client as another user.

A fingerprint (md5 of every column of every row, in key order, with the row
count) is what "exactly as before" means in these tests: a rollback that
loses one column of one row, or a dry run that leaves one change behind,
changes it.
"""

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

from conftest import MIGRATECTL, clean_env, wait_for
from jobs_util import lit, show, write_plan

E2E_DIR = Path(__file__).resolve().parent
IFACE = "io.migrated."
INVALID = "org.varlink.service.InvalidParameter"
DENIED = "org.varlink.service.PermissionDenied"
ALL_ENDED = ("succeeded", "failed", "cancelled", "rolled_back")


# --- raw calls ------------------------------------------------------------------

def method(name):
    return name if "." in name else IFACE + name


def ok(daemon, name, params=None, timeout=10):
    """A call that must succeed; returns its parameters."""
    reply = daemon.call(method(name), params if params is not None else {},
                        timeout=timeout)
    assert "error" not in reply, "%s(%r) -> %r" % (name, params, reply)
    return reply.get("parameters", {})


def err(daemon, name, params=None, timeout=10):
    """A call that must fail; returns (error, parameters)."""
    reply = daemon.call(method(name), params if params is not None else {},
                        timeout=timeout)
    assert "error" in reply, "%s(%r) should fail: %r" % (name, params, reply)
    return reply["error"], reply.get("parameters", {})


def invalid(daemon, name, params, parameter):
    """Asserts the call is refused with InvalidParameter naming parameter."""
    e = err(daemon, name, params)
    assert e == (INVALID, {"parameter": parameter}), (
        "%s(%s): %r" % (name, short(params), e))


def short(value, limit=200):
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "...(%d)" % len(text)


def submit(daemon, plan, tenants, **opts):
    """io.migrated.Submit; returns the job ids."""
    params = dict(plan=plan, tenants=list(tenants), **opts)
    return ok(daemon, "Submit", params)["jobs"]


def wait_ended(daemon, job, timeout=30, states=ALL_ENDED):
    """Waits until the job is in one of states; returns the Job."""
    def check():
        daemon.check_alive()
        j = show(daemon, job)
        return j if j["state"] in states else None
    return wait_for("job %d to reach %s" % (job, "/".join(states)), check,
                    timeout, interval=0.05)


def run_job(daemon, plan, tenant, want="succeeded", timeout=30, **opts):
    """Submits one job and waits for it; asserts its final state."""
    (job,) = submit(daemon, plan, [tenant], **opts)
    j = wait_ended(daemon, job, timeout)
    assert j["state"] == want, j
    return j


def rollback(daemon, want="succeeded", timeout=30, **params):
    """io.migrated.Rollback; waits for the rollback job; returns it."""
    job = ok(daemon, "Rollback", params)["job"]
    j = wait_ended(daemon, job, timeout)
    assert j["state"] == want, j
    return j


def steps_by_name(job):
    return {s["name"]: s for s in job["steps"]}


def log_entries(daemon, **params):
    """GetLog, newest first."""
    params.setdefault("limit", 100000)
    return ok(daemon, "GetLog", params)["entries"]


def calls_logged(daemon, since=0):
    """The audited operator calls (not job transitions) with id > since,
    oldest first, as (uid, user, action, parameters, result)."""
    return [(e["uid"], e["user"], e["action"], e["parameters"], e["result"])
            for e in reversed(log_entries(daemon))
            if e["id"] > since and not e["action"].startswith("job ")]


def last_log_id(daemon):
    entries = log_entries(daemon, limit=1)
    return entries[0]["id"] if entries else 0


# --- data -------------------------------------------------------------------------

def psql_json(pg, sql):
    """Runs a query whose single cell is JSON; returns it decoded."""
    return json.loads(pg.psql(sql))


def fingerprint(pg, table, where="true"):
    """(rows, md5 of every column of every row), of the rows where holds
    (an SQL condition on the table's alias t). Rows are ordered by their
    text, which the unique key makes unique."""
    out = pg.psql("SELECT count(*) || ' ' || coalesce(md5(string_agg(x,"
                  " E'\\n' ORDER BY x COLLATE \"C\")), '-') FROM"
                  " (SELECT t::text AS x FROM %s t WHERE %s) s"
                  % (table, where))
    n, md5 = out.strip().split(" ")
    return int(n), md5


def fingerprints(pg, tables, where="true"):
    return {t: fingerprint(pg, t, where=where) for t in tables}


def tables_in(pg, schema="public"):
    return pg.psql("SELECT string_agg(tablename, ',' ORDER BY tablename)"
                   " FROM pg_tables WHERE schemaname = %s" % lit(schema)
                   ).strip().split(",")


def job_count(pg):
    return int(pg.psql("SELECT count(*) FROM migrated.jobs"))


def state_rows(pg, exclude=()):
    """Every job and job_steps row (as text) except those of exclude."""
    ex = "ARRAY[%s]::bigint[]" % ", ".join(str(int(j)) for j in exclude)
    return pg.psql(
        "SELECT string_agg(x, E'\\n' ORDER BY x) FROM ("
        " SELECT j::text AS x FROM migrated.jobs j WHERE id <> ALL (%s)"
        " UNION ALL SELECT s::text FROM migrated.job_steps s"
        "  WHERE job_id <> ALL (%s)) u" % (ex, ex))


# The safety data set: tenants with a mapping row each (tmap), table acct
# with a column of most types (NULLs, quotes, Unicode, a generated column)
# and table item, one row of three of which the plans delete. Keys of the
# tenants interleave, so a step that forgot the tenant would show.
SAFETY_TABLES = ("acct", "item", "tmap")
TENANTS = ["acme", "globex", "initech"]
STATUS = {"acme": "active", "globex": "frozen", "initech": "active"}
ROWS = 60
BATCH = 7
ACCT_COLUMNS = ("org, name, balance, ratio, tags, data, seen, blob, active,"
                " note, born")


def make_data(pg, tenants=TENANTS, rows=ROWS, status=None):
    status = status or {t: STATUS.get(t, "active") for t in tenants}
    n = len(tenants)
    values = ", ".join("(%s, %d, %s)" % (lit(t), 100 + i, lit(status[t]))
                       for i, t in enumerate(tenants))
    sql = [
        "DROP TABLE IF EXISTS tmap, acct, item",
        "CREATE TABLE tmap (tenant_id text PRIMARY KEY, org bigint,"
        " status text NOT NULL)",
        "INSERT INTO tmap VALUES " + values,
        "CREATE TABLE acct ("
        " id bigint PRIMARY KEY, tenant_id text NOT NULL, org bigint,"
        " name text, balance numeric(14,4), ratio double precision,"
        " tags text[], data jsonb, seen timestamptz, blob bytea,"
        " active boolean, note text, born date,"
        " name_len integer GENERATED ALWAYS AS (length(name)) STORED)",
        "CREATE INDEX ON acct (tenant_id, id)",
        "CREATE TABLE item (id bigint PRIMARY KEY, tenant_id text NOT NULL,"
        " label text, qty integer)",
        "CREATE INDEX ON item (tenant_id, id)",
    ]
    for i, t in enumerate(tenants):
        # g % 10 = 3: NULL everywhere; g % 4 = 0: no balance (acct steps
        # leave those rows alone, so rows_changed < rows_done)
        sql.append(
            "INSERT INTO acct (id, tenant_id, %s)"
            " SELECT g * %d + %d, %s,"
            " CASE WHEN g %% 10 <> 3 THEN 7 END,"
            " CASE WHEN g %% 10 <> 3 THEN"
            "  'n' || g || ' O''Brien \"q\" \\ ; -- ' || %s || ' \U0001F984 \u05e9\u05dc\u05d5\u05dd' END,"
            " CASE WHEN g %% 4 <> 0 THEN g * 1.25 + 0.0001 END,"
            " CASE WHEN g %% 10 <> 3 THEN g / 3.0::float8 END,"
            " CASE WHEN g %% 10 <> 3 THEN ARRAY['a', 'b c', g::text, NULL] END,"
            " CASE WHEN g %% 10 <> 3 THEN jsonb_build_object('g', g,"
            "  'nested', jsonb_build_array(1.50, 'x', NULL, true)) END,"
            " CASE WHEN g %% 10 <> 3 THEN"
            "  timestamptz '2021-03-04 05:06:07.123456+02' + g * interval '1 h' END,"
            " CASE WHEN g %% 10 <> 3 THEN decode(md5(g::text), 'hex') END,"
            " CASE WHEN g %% 10 <> 3 THEN g %% 2 = 0 END,"
            " CASE WHEN g %% 10 <> 3 THEN E'line1\\nline2\\ttab' END,"
            " CASE WHEN g %% 10 <> 3 THEN date '1999-12-31' + g END"
            " FROM generate_series(0, %d) g"
            % (ACCT_COLUMNS, n, i + 1, lit(t), lit(t), rows - 1))
        sql.append(
            "INSERT INTO item SELECT g * %d + %d, %s, 'item ' || g, g"
            " FROM generate_series(0, %d) g" % (n, i + 1, lit(t), rows - 1))
    pg.psql(";\n".join(sql))


def acct_changes(pg, tenant):
    """Rows the acct step changes for tenant (those with a balance)."""
    return int(pg.psql("SELECT count(*) FROM acct WHERE tenant_id = %s"
                       " AND balance IS NOT NULL" % lit(tenant)))


def item_deletes(pg, tenant):
    """Rows the item step deletes for tenant (qty % 3 = 0)."""
    return int(pg.psql("SELECT count(*) FROM item WHERE tenant_id = %s"
                       " AND qty %% 3 = 0" % lit(tenant)))


# --- plans -------------------------------------------------------------------------

PLAN_HEAD = """[plan]
description = safety test plan
tenants = SELECT tenant_id FROM tmap ORDER BY tenant_id
params = SELECT org
         FROM tmap
         WHERE tenant_id = :tenant
"""

# Changes every column but the key, the tenant and the generated column,
# of the rows that have a balance.
ACCT_STEP = """[step acct]
table = acct
key = id
where = tenant_id = :tenant
apply = UPDATE acct SET org = :org, name = upper(name) || '!',
          balance = balance * 3 + 1, ratio = ratio / 7,
          tags = array_append(tags, 'moved'),
          data = coalesce(data, '{}') || '{"moved": true}',
          seen = now(), blob = NULL, active = NOT active, note = 'changed',
          born = born + 1
        WHERE tenant_id = :tenant AND id > :lo AND id <= :hi
          AND balance IS NOT NULL
batch = %(batch)d
backup = %(backup)s
"""

# Deletes one row of three, updates the others.
ITEM_STEP = """[step item]
after = acct
table = item
key = id
where = tenant_id = :tenant
apply = DELETE FROM item
        WHERE tenant_id = :tenant AND id > :lo AND id <= :hi
          AND qty %% 3 = 0
batch = %(batch)d
backup = %(backup)s
"""

CHECKS = """[check active]
sql = SELECT status FROM tmap WHERE tenant_id = :tenant
expect = active

[check no_notes]
severity = warning
sql = SELECT count(*) FROM acct WHERE tenant_id = :tenant AND note IS NULL
expect = 0
"""

# Fails unless every row of the tenant has its org (the step leaves the
# rows without a balance alone).
VERIFIES = """[verify orgs]
sql = SELECT count(*) FROM acct
      WHERE tenant_id = :tenant AND org IS DISTINCT FROM :org
expect = 0

[verify items_left]
severity = warning
sql = SELECT count(*) FROM item WHERE tenant_id = :tenant
expect = 0
"""


def safety_plan(backup=True, batch=BATCH, checks=False, verifies=False,
                item_delete=True):
    """The safety plan: step acct, then step item (apply deletes a third
    of the rows, or with item_delete=False updates them)."""
    v = {"batch": batch, "backup": "yes" if backup else "no"}
    item = ITEM_STEP % v
    if not item_delete:
        item = item.replace(
            "DELETE FROM item\n"
            "        WHERE tenant_id = :tenant AND id > :lo AND id <= :hi\n"
            "          AND qty % 3 = 0",
            "UPDATE item SET qty = qty + 1000, label = NULL\n"
            "        WHERE tenant_id = :tenant AND id > :lo AND id <= :hi")
    parts = [PLAN_HEAD, ACCT_STEP % v, item]
    if checks:
        parts.append(CHECKS)
    if verifies:
        parts.append(VERIFIES)
    return "\n".join(parts)


def slow_plan(table="slowt", batch=5, sleep=0.05):
    """A plan whose every batch sleeps: jobs that stay running a while."""
    return """[plan]
tenants = SELECT DISTINCT tenant_id FROM %(t)s ORDER BY 1

[step slow]
table = %(t)s
key = id
where = tenant_id = :tenant
apply = WITH z AS (SELECT pg_sleep(%(s)s))
        UPDATE %(t)s SET n = n + 1 FROM z
        WHERE tenant_id = :tenant AND id > :lo AND id <= :hi
batch = %(b)d
""" % {"t": table, "s": sleep, "b": batch}


def make_slow_table(pg, table="slowt", tenants=("s1",), rows=100):
    sql = ["DROP TABLE IF EXISTS %s" % table,
           "CREATE TABLE %s (id bigint PRIMARY KEY, tenant_id text NOT NULL,"
           " n integer NOT NULL DEFAULT 0)" % table]
    for i, t in enumerate(tenants):
        sql.append("INSERT INTO %s SELECT g * %d + %d, %s FROM"
                   " generate_series(0, %d) g"
                   % (table, len(tenants), i + 1, lit(t), rows - 1))
    pg.psql(";\n".join(sql))


def slow_counts(pg, table="slowt"):
    """{tenant: {n: rows}}."""
    return psql_json(pg, "SELECT coalesce(json_object_agg(tenant_id, c), '{}')"
                         " FROM (SELECT tenant_id, json_object_agg(n, k) c"
                         " FROM (SELECT tenant_id, n, count(*) k FROM %s"
                         " GROUP BY 1, 2) a GROUP BY 1) b" % table)


def install(daemon, **plans):
    """Writes plan files name -> text."""
    for name, text in plans.items():
        write_plan(daemon, name, text)


# --- other users -------------------------------------------------------------------

# Run by a separate python3 as another user: one call per connection,
# printing a JSON list of replies ({"closed": msg} for a closed connection).
_CLIENT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import varlink
out = []
for m, p in json.loads(sys.argv[3]):
    try:
        out.append(varlink.call(sys.argv[2], m, p))
    except varlink.Closed as e:
        out.append({"closed": str(e)})
    except OSError as e:
        out.append({"oserror": "%s: %s" % (type(e).__name__, e)})
print(json.dumps(out))
"""


def _drop_to(user):
    pw = pwd.getpwnam(user)
    groups = os.getgrouplist(pw.pw_name, pw.pw_gid)

    def drop():
        os.setgroups(groups)
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return drop


def calls_as(user, socket, calls):
    """Makes each (method, parameters) call on a fresh connection as user
    (with the user's primary and supplementary groups, read now); returns
    the replies."""
    p = subprocess.run(
        [sys.executable, "-c", _CLIENT, str(E2E_DIR), socket,
         json.dumps([(method(m), params) for m, params in calls])],
        env=clean_env({"PYTHONDONTWRITEBYTECODE": "1"}),
        preexec_fn=_drop_to(user), capture_output=True, text=True,
        timeout=30, cwd="/")
    assert p.returncode == 0, "client as %s failed: %s" % (user, p.stderr)
    return json.loads(p.stdout)


def ctl_as(user, socket, *args, timeout=30):
    """build/migratectl as user; returns (rc, stdout, stderr)."""
    p = subprocess.run(
        ["runuser", "-u", user, "--", str(MIGRATECTL), "--socket", socket,
         *args], env=clean_env(), capture_output=True, text=True,
        timeout=timeout, cwd="/", stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def ctl_has(command):
    """True if build/migratectl knows command (its help lists it)."""
    p = subprocess.run([str(MIGRATECTL), "--help"], capture_output=True,
                       text=True, env=clean_env(), timeout=10)
    return any(line.split()[:1] == [command]
               for line in p.stdout.splitlines())
