"""Source-vs-target compare (Verify with compare = true) end to end: a
legacy database in the session's cluster is the source of a copy plan, the
target holds what the merge wrote, and the daemon compares the two per step.

The import is real: Submit with a pair and a submit-time parameter runs
the plan's copy steps. Jobs with other values, for Verify only, are
written by hand. The
counts and checksums the daemon reports are checked against the
definition in migrated(8), computed here independently from the rows'
text forms.
"""

import pytest

from conftest import PSQL, free_port, run, wait_for
import varlink
from jobs_util import lit, reload, write_plan
from safety_util import err, ok, wait_ended

UNAVAILABLE = "io.migrated.DatabaseUnavailable"
DB_ERROR = "io.migrated.DatabaseError"

TENANT, DOMAIN, SINCE = "tumi", "tumi.example", "2020-01-01"
OTHER, OTHER_DOMAIN = "kala", "kala.example"
NUSERS = 20  # users of each tenant; the first 3 are older than SINCE
OLD = 3
ROLES = ("admin", "editor", "viewer")

PLAN = """[plan]
description = Import legacy users and roles
tenants = SELECT DISTINCT tenant FROM users ORDER BY 1
source = legacy
pair = domain
parameters = since

[step users]
source = legacy
select = SELECT id, auth0_id, email, display_name AS name, legacy_flag,
         CAST(:domain AS text) AS domain
         FROM users WHERE tenant = :tenant AND created >= CAST(:since AS date)
key = id
into = users
upsert = auth0_id
defaults = communication_email = email

[step roles]
after = users
source = legacy
select = SELECT id, CAST(:domain AS text) AS domain, name, level
         FROM roles WHERE tenant = :tenant
key = id
into = roles
upsert = domain, name

[step notes]
source = legacy
select = SELECT id, body FROM notes WHERE tenant = :tenant
key = id
into = notes
apply = INSERT INTO notes (body) SELECT body FROM staged
"""


# --- the reference hash (migrated(8), "Compare") ------------------------------

M64 = (1 << 64) - 1


def _fnv1a(h, data):
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) & M64
    return h


def row_hash(values):
    """FNV-1a 64 over each value (NULL: byte 0; else byte 1, its length as 8
    bytes little-endian, its UTF-8 bytes), then the avalanche step."""
    h = 0xcbf29ce484222325
    for v in values:
        if v is None:
            h = _fnv1a(h, b"\0")
            continue
        b = v.encode()
        h = _fnv1a(_fnv1a(_fnv1a(h, b"\1"), len(b).to_bytes(8, "little")), b)
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & M64
    h ^= h >> 33
    h = (h * 0xc4ceb9fe1a85ec53) & M64
    return h ^ (h >> 33)


def checksum(rows):
    return "%016x" % (sum(row_hash(r) for r in rows) & M64)


# --- databases ------------------------------------------------------------------

def legacy_conninfo(pg):
    return pg.conninfo.replace("dbname=migrated", "dbname=legacy")


FIELD_SEP, NULL_MARK = "\x1f", "\x1e"  # keys hold '|'


def psql_on(conninfo, sql):
    rc, out, errout = run([PSQL, "-X", "-q", "-tA", "-F", FIELD_SEP, "-P",
                           "null=" + NULL_MARK, "-v", "ON_ERROR_STOP=1",
                           "-d", conninfo, "-c", sql])
    assert rc == 0, errout
    return out


def legacy_psql(pg, sql):
    return psql_on(legacy_conninfo(pg), sql)


def rows_on(conninfo, sql):
    """The rows of a query as tuples of text forms, None for NULL."""
    return [tuple(None if f == NULL_MARK else f
                  for f in line.split(FIELD_SEP))
            for line in psql_on(conninfo, sql).split("\n") if line]


def user(tenant, i):
    return {"id": i + (0 if tenant == TENANT else 1000),
            "auth0": "auth0|%s%02d" % (tenant[0], i),
            "email": "u%02d@%s.example" % (i, tenant),
            "name": "User '%02d' %s" % (i, tenant),
            "created": "2019-06-01" if i < OLD else "2021-03-%02d" % (i + 1)}


def make_source(pg):
    """The legacy database: users and roles of two tenants alike."""
    if not pg.psql("SELECT 1 FROM pg_database WHERE datname = 'legacy'"):
        pg.psql("CREATE DATABASE legacy")
    sql = ["DROP TABLE IF EXISTS users, roles, notes",
           "CREATE TABLE users (id bigint PRIMARY KEY, tenant text NOT NULL,"
           " auth0_id text NOT NULL, email varchar(200),"
           " display_name text, legacy_flag integer NOT NULL DEFAULT 7,"
           " created date NOT NULL)",
           "CREATE TABLE roles (id integer PRIMARY KEY, tenant text NOT NULL,"
           " name text NOT NULL, level integer)",
           "CREATE TABLE notes (id integer PRIMARY KEY, tenant text,"
           " body text)"]
    for tenant in (TENANT, OTHER):
        for i in range(NUSERS):
            u = user(tenant, i)
            sql.append("INSERT INTO users (id, tenant, auth0_id, email,"
                       " display_name, created) VALUES (%d, %s, %s, %s, %s,"
                       " %s)" % (u["id"], lit(tenant), lit(u["auth0"]),
                                 lit(u["email"]), lit(u["name"]),
                                 lit(u["created"])))
        for j, role in enumerate(ROLES):
            sql.append("INSERT INTO roles VALUES (%d, %s, %s, %s)" % (
                j + (1 if tenant == TENANT else 100), lit(tenant), lit(role),
                "NULL" if role == "viewer" else str(j * 10)))
    # one user without a display name
    sql.append("UPDATE users SET display_name = NULL WHERE id = 5")
    legacy_psql(pg, ";\n".join(sql))


def make_target(pg):
    """The target's tables, empty: the import fills them (users merged by
    auth0_id with new ids and communication_email from defaults, roles by
    (domain, name))."""
    pg.psql(";\n".join([
        "DROP TABLE IF EXISTS users, roles, notes",
        "CREATE TABLE users (id bigserial PRIMARY KEY,"
        " auth0_id text NOT NULL UNIQUE, email text, name text,"
        " domain text, communication_email text)",
        "CREATE TABLE roles (id serial PRIMARY KEY, domain text NOT NULL,"
        " name text NOT NULL, level bigint, UNIQUE (domain, name))",
        "CREATE TABLE notes (id serial PRIMARY KEY, body text)"]))


def submit_import(d, tenant=TENANT, pair=DOMAIN, since=SINCE):
    """Submits plan imp for one pair, with since, and waits for it."""
    job, = ok(d, "Submit", {"plan": "imp",
                            "pairs": [{"old": tenant, "new": pair}],
                            "params": {"since": since}})["jobs"]
    j = wait_ended(d, job)
    assert j["state"] == "succeeded", j
    return job


def add_job(pg, plan="imp", tenant=TENANT, pair=DOMAIN, since=SINCE,
            steps=None):
    """A job of plan that ran with these values, for Verify to compare."""
    return int(pg.psql(
        "INSERT INTO migrated.jobs (plan, tenant, pair, args, state, steps,"
        " started, finished) VALUES (%s, %s, %s, %s::jsonb, 'succeeded',"
        " %s, now(), now()) RETURNING id" % (
            lit(plan), lit(tenant), lit(pair) if pair else "NULL",
            lit('{"since": "%s"}' % since),
            "NULL" if steps is None else "ARRAY[%s]" % ", ".join(
                lit(s) for s in steps))).split()[0])


def with_legacy(daemon, conninfo):
    return daemon.conf_text() + "\n[database legacy]\nconninfo = %s\n" % (
        conninfo)


@pytest.fixture
def imp(make_daemon, pg):
    """A daemon with plan imp and [database legacy] that imported both
    tenants: imp.jobs[tenant] is each one's job."""
    make_source(pg)
    make_target(pg)
    d = make_daemon()
    d.write_conf(with_legacy(d, legacy_conninfo(pg)))
    write_plan(d, "imp", PLAN)
    d.start()
    d.jobs = {TENANT: submit_import(d),
              OTHER: submit_import(d, tenant=OTHER, pair=OTHER_DOMAIN)}
    return d


# --- what each side should say ------------------------------------------------

def source_users(pg, tenant=TENANT, domain=DOMAIN):
    """Compared columns of users on the source, in select order: auth0_id,
    email, name, domain (id is the walk key, legacy_flag not in the
    target)."""
    return rows_on(legacy_conninfo(pg),
                   "SELECT auth0_id, email, display_name, %s FROM users"
                   " WHERE tenant = %s AND created >= %s ORDER BY auth0_id"
                   % (lit(domain), lit(tenant), lit(SINCE)))


def target_users(pg, domain=DOMAIN):
    return rows_on(pg.conninfo,
                   "SELECT auth0_id, email, name, domain FROM users"
                   " WHERE domain = %s ORDER BY auth0_id" % lit(domain))


def source_roles(pg, tenant=TENANT, domain=DOMAIN):
    return rows_on(legacy_conninfo(pg),
                   "SELECT %s, name, level FROM roles WHERE tenant = %s"
                   % (lit(domain), lit(tenant)))


def target_roles(pg, domain=DOMAIN):
    return rows_on(pg.conninfo, "SELECT domain, name, level FROM roles"
                   " WHERE domain = %s" % lit(domain))


def report(name, src, tgt, differing=()):
    return {"step": name, "source_rows": len(src), "target_rows": len(tgt),
            "source_checksum": checksum(src),
            "target_checksum": checksum(tgt),
            "ok": not differing, "differing": list(differing)}


def verify(d, job, **params):
    return ok(d, "Verify", dict({"id": job, "compare": True}, **params),
              timeout=30)


# --- tests --------------------------------------------------------------------

def test_compare_of_matching_sides_is_ok(imp, pg):
    job = imp.jobs[TENANT]
    src_u, tgt_u = source_users(pg), target_users(pg)
    assert len(src_u) == NUSERS - OLD and src_u == tgt_u
    reply = verify(imp, job)
    assert reply == {
        "job": job, "plan": "imp", "tenant": TENANT, "ok": True,
        "checks": [],
        # notes merges with free SQL: not compared, not listed
        "compare": [report("users", src_u, tgt_u),
                    report("roles", source_roles(pg), target_roles(pg))]}
    assert reply["compare"][0]["source_checksum"] != "0" * 16
    # plan and tenant find the same job
    assert ok(imp, "Verify", {"plan": "imp", "tenant": TENANT,
                              "compare": True}) == reply
    # without compare, no compare
    plain = ok(imp, "Verify", {"id": job})
    assert plain["ok"] is True and plain.get("compare") is None
    imp.wait_log(r"compare: users 17 rows match; roles 3 rows match")


def test_compare_lists_the_keys_that_differ(imp, pg):
    job = imp.jobs[TENANT]
    # one target row changed, one source row changed, one target row gone
    pg.psql("UPDATE users SET email = 'changed@x' WHERE auth0_id = 'auth0|t04'")
    legacy_psql(pg, "UPDATE users SET display_name = 'Renamed'"
                " WHERE auth0_id = 'auth0|t09'")
    pg.psql("DELETE FROM users WHERE auth0_id = 'auth0|t12'")
    # and a role's level, keyed by two columns
    pg.psql("UPDATE roles SET level = 11 WHERE domain = %s AND"
            " name = 'editor'" % lit(DOMAIN))
    # the other tenant's rows differ a lot, and do not count
    pg.psql("UPDATE users SET name = 'x' WHERE domain = %s"
            % lit(OTHER_DOMAIN))
    legacy_psql(pg, "UPDATE users SET email = NULL WHERE tenant = %s"
                % lit(OTHER))

    src_u, tgt_u = source_users(pg), target_users(pg)
    assert (len(src_u), len(tgt_u)) == (NUSERS - OLD, NUSERS - OLD - 1)
    reply = verify(imp, job)
    assert reply["ok"] is False
    assert reply["compare"] == [
        report("users", src_u, tgt_u,
               ["auth0|t04", "auth0|t09", "auth0|t12"]),
        report("roles", source_roles(pg), target_roles(pg),
               ["(tumi.example, editor)"])]
    imp.wait_log(r"compare found differences: users: source 17 rows, "
                 r"target 16, differing keys auth0\|t04, auth0\|t09, "
                 r"auth0\|t12; roles: source 3 rows, target 3, differing "
                 r"keys \(tumi.example, editor\)")

    # the other tenant's job compares its own rows only
    other = imp.jobs[OTHER]
    reply = verify(imp, other)
    users = reply["compare"][0]
    assert users["source_rows"] == users["target_rows"] == NUSERS - OLD
    assert len(users["differing"]) == 10  # the first ten of 17
    assert users["differing"] == sorted(users["differing"])
    assert reply["compare"][1]["ok"] is True


def test_compare_binds_the_job_values_and_steps(imp, pg):
    # since binds the job's own parameter: an earlier date takes in the
    # users that were never imported
    job = add_job(pg, since="2019-01-01")
    reply = verify(imp, job)
    users = reply["compare"][0]
    assert (users["source_rows"], users["target_rows"]) == (NUSERS, NUSERS - OLD)
    assert users["differing"] == ["auth0|t00", "auth0|t01", "auth0|t02"]
    # the pair binds domain: the same users (auth0_id is their natural key)
    # go to another new tenant, whose roles are not there
    job = add_job(pg, pair="new.example")
    users, roles = verify(imp, job)["compare"]
    assert users["source_rows"] == users["target_rows"] == NUSERS - OLD
    assert len(users["differing"]) == 10  # domain differs on each
    assert (roles["source_rows"], roles["target_rows"]) == (3, 0)
    assert roles["differing"] == ["(new.example, admin)",
                                  "(new.example, editor)",
                                  "(new.example, viewer)"]
    # a job of some steps compares those
    job = add_job(pg, steps=["roles"])
    reply = verify(imp, job)
    assert [s["step"] for s in reply["compare"]] == ["roles"]
    assert reply["ok"] is True
    job = add_job(pg, steps=["notes"])
    assert verify(imp, job)["compare"] == []


def test_unreachable_source_is_database_unavailable(make_daemon, pg):
    make_source(pg)
    d = make_daemon()
    d.write_conf(with_legacy(
        d, "host=127.0.0.1 port=%d dbname=legacy connect_timeout=5"
        % free_port()))
    write_plan(d, "imp", PLAN)
    d.start()
    make_target(pg)
    job = add_job(pg)
    name, params = err(d, "Verify", {"id": job, "compare": True}, timeout=30)
    assert name == UNAVAILABLE, params
    assert params["message"].startswith(
        "[database legacy]: cannot connect: "), params
    # the daemon is fine, and so is Verify without compare
    assert ok(d, "Verify", {"id": job})["ok"] is True


def test_sql_errors_are_database_errors(imp, pg):
    job = imp.jobs[TENANT]
    legacy_psql(pg, "ALTER TABLE users RENAME COLUMN email TO mail")
    name, params = err(imp, "Verify", {"id": job, "compare": True},
                       timeout=30)
    assert name == DB_ERROR
    assert params["sqlstate"] == "42703"
    assert params["message"] == (
        "step users: on [database legacy]: column \"email\" does not "
        "exist"), params
    legacy_psql(pg, "ALTER TABLE users RENAME COLUMN mail TO email")
    pg.psql("DROP TABLE roles")
    name, params = err(imp, "Verify", {"id": job, "compare": True},
                       timeout=30)
    assert (name, params) == (DB_ERROR, {
        "message": "step roles: the target has no table roles",
        "sqlstate": "42P01"})


def test_compare_must_be_a_boolean(imp, pg):
    job = imp.jobs[TENANT]
    assert err(imp, "Verify", {"id": job, "compare": "yes"}) == (
        "org.varlink.service.InvalidParameter", {"parameter": "compare"})


def slow_plan(seconds):
    """PLAN whose users select takes seconds on the source."""
    return PLAN.replace("FROM users WHERE tenant = :tenant",
                        "FROM pg_sleep(%s), users WHERE tenant = :tenant"
                        % seconds, 1)


def compare_sessions(pg):
    return int(pg.psql("SELECT count(*) FROM pg_stat_activity WHERE"
                       " application_name = 'migrated compare'"))


def test_client_gone_or_daemon_stopping_ends_a_compare(imp, pg):
    write_plan(imp, "slow", slow_plan(3))
    reload(imp)
    job = add_job(pg, plan="slow")
    # a client that hangs up while its compare runs
    with imp.client() as c:
        c.send_call("io.migrated.Verify", {"id": job, "compare": True})
        wait_for("the compare to read the source",
                 lambda: compare_sessions(pg) == 2, 10)
    # the daemon closes its connections; the next compare runs as usual
    wait_for("the compare's sessions to end",
             lambda: compare_sessions(pg) == 0, 10)
    assert verify(imp, imp.jobs[TENANT])["ok"] is True
    # a stop during a compare is clean and quick (Daemon.stop checks)
    with imp.client() as c:
        c.send_call("io.migrated.Verify", {"id": job, "compare": True})
        wait_for("the compare to read the source",
                 lambda: compare_sessions(pg) == 2, 10)
        imp.stop()
        # the daemon hangs up without an answer
        with pytest.raises(varlink.Closed):
            c.read_message(timeout=5)



def test_migratectl_verify_compare(imp, pg):
    job = imp.jobs[TENANT]
    head = ("Job %d (plan imp, tenant tumi): %%s\n"
            "The plan has no [verify] sections.\n\n"
            "STEP   SOURCE ROWS  TARGET ROWS  MATCH  DIFFERING KEYS\n" % job)
    assert imp.ctl("verify", str(job), "--compare") == (0, head % "OK" + (
        "users           17           17  yes\n"
        "roles            3            3  yes\n"), "")
    pg.psql("DELETE FROM users WHERE auth0_id IN ('auth0|t12', 'auth0|t13')")
    assert imp.ctl("verify", str(job), "--compare") == (4, head % "FAILED" + (
        "users           17           15  no     auth0|t12, auth0|t13\n"
        "roles            3            3  yes\n"), "")
