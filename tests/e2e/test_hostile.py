"""Hostile input end to end (issue 4): tenant names with quotes, SQL,
Unicode, NUL bytes and megabytes of text; unknown and mistyped parameters;
negative and huge ids; absurd batch sizes. Each is handled as data (the
job runs on exactly the rows of that tenant) or refused with a clear error;
nothing is executed, no table is touched that should not be, the daemon
keeps answering, and a neighbour job running all along finishes with exact
results.
"""

import json

import pytest

import varlink
from conftest import wait_for
from jobs_util import lit, show, submit as ctl_submit
from safety_util import (
    INVALID, err, install, invalid, job_count, log_entries, make_slow_table,
    ok, psql_json, short, slow_counts, slow_plan, submit, tables_in,
    wait_ended)

BIG = 1 << 20
MAX_TENANT = 1024

# Tenant names that must be plain data all the way: Varlink, the state
# tables, bound parameters of the plan's SQL, the audit log.
HOSTILE = [
    "O'Brien",
    'double"quote',
    "semi;colon",
    "'); DROP TABLE profiles; --",
    "x' OR '1'='1",
    "Robert'); DROP TABLE tmap;--",
    "$1",
    ":tenant",
    ":lo",
    "%s%n%x%%",
    "back\\slash\\'",
    "\U0001F984\U0001F680 \u00e9moji",
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
    "\u202eevil\u202c",
    "\u0645\u0631\u062d\u0628\u0627\u200f!",
    "  spaced  ",
    "tab\there",
    "new\nline",
    "/* comment */",
    "-- comment",
    "NULL",
    "*",
    "\\N",
    "a" * MAX_TENANT,
    "\U0001F984" * (MAX_TENANT // 4),
]
PLAIN = ["p1", "p2"]
ROWS = 5                 # profiles rows per tenant
NEIGHBOUR_ROWS = 300
NEIGHBOUR_BATCH = 10

PLAN = """[plan]
tenants = SELECT tenant_id FROM tmap ORDER BY tenant_id
params = SELECT org FROM tmap WHERE tenant_id = :tenant

[check mapped]
sql = SELECT count(*) FROM tmap WHERE tenant_id = :tenant
expect = 1

[step profiles]
table = profiles
key = id
where = tenant_id = :tenant
apply = UPDATE profiles SET org = :org, n = n + 1
        WHERE tenant_id = :tenant AND id > :lo AND id <= :hi
backup = yes

[verify once]
sql = SELECT count(*) FROM profiles WHERE tenant_id = :tenant AND n <> 1
expect = 0
"""


def make_hostile_data(pg, tenants):
    n = len(tenants)
    sql = ["DROP TABLE IF EXISTS tmap, profiles",
           "CREATE TABLE tmap (tenant_id text PRIMARY KEY, org bigint)",
           "INSERT INTO tmap VALUES " + ", ".join(
               "(%s, %d)" % (lit(t), 500 + i) for i, t in enumerate(tenants)),
           "CREATE TABLE profiles (id bigint PRIMARY KEY,"
           " tenant_id text NOT NULL, org bigint,"
           " n integer NOT NULL DEFAULT 0)"]
    for i, t in enumerate(tenants):
        sql.append("INSERT INTO profiles (id, tenant_id) SELECT g * %d + %d,"
                   " %s FROM generate_series(0, %d) g"
                   % (n, i + 1, lit(t), ROWS - 1))
    pg.psql(";\n".join(sql))


def profiles(pg):
    return psql_json(pg, "SELECT coalesce(json_agg(json_build_array(id,"
                         " tenant_id, org, n) ORDER BY id), '[]')"
                         " FROM profiles")


def tmap(pg):
    return psql_json(pg, "SELECT coalesce(json_object_agg(tenant_id, org),"
                         " '{}') FROM tmap")


class Hostile:
    """The daemon, its data, and the neighbour job running alongside."""

    def __init__(self, daemon, pg):
        self.d = daemon
        self.pg = pg
        self.tables = tables_in(pg)
        self.profiles = profiles(pg)
        self.tmap = tmap(pg)
        (self.neighbour,) = submit(daemon, "nb", ["neighbour"])

    def finish(self, changed=()):
        """The daemon answers; the neighbour ended exactly right; profiles
        changed on exactly the rows of the tenants in changed; nothing else
        changed."""
        d, pg = self.d, self.pg
        d.check_alive()
        assert d.status()["database"] == "connected"
        nb = wait_ended(d, self.neighbour, timeout=30)
        assert nb["state"] == "succeeded", nb
        step = nb["steps"][0]
        assert (step["rows_done"], step["batches"]) == (
            NEIGHBOUR_ROWS, -(-NEIGHBOUR_ROWS // NEIGHBOUR_BATCH)), nb
        assert slow_counts(pg, "nbt") == {
            "neighbour": {"1": NEIGHBOUR_ROWS}}
        assert tables_in(pg) == self.tables
        assert tmap(pg) == self.tmap
        changed = set(changed)
        want = [[i, t, self.tmap[t], 1] if t in changed else [i, t, o, n]
                for i, t, o, n in self.profiles]
        assert profiles(pg) == want


@pytest.fixture
def hd(make_daemon, pg):
    make_hostile_data(pg, HOSTILE + PLAIN)
    make_slow_table(pg, "nbt", tenants=("neighbour",), rows=NEIGHBOUR_ROWS)
    d = make_daemon()
    install(d, h=PLAN, nb=slow_plan("nbt", batch=NEIGHBOUR_BATCH,
                                    sleep=0.03))
    d.start()
    return Hostile(d, pg)


def only_neighbour(hd):
    assert job_count(hd.pg) == 1, "jobs were created: %r" % ok(
        hd.d, "ListJobs")


# --- tenant names -------------------------------------------------------------

def test_hostile_tenant_names_are_data(hd):
    d = hd.d
    ids = submit(d, "h", HOSTILE)
    assert len(ids) == len(HOSTILE)
    jobs = {j: wait_ended(d, j) for j in ids}
    for tenant, j in zip(HOSTILE, ids):
        job = jobs[j]
        assert (job["state"], job["tenant"], job["error"]) == (
            "succeeded", tenant, None), short(job)
        assert job["rows_done"] == job["rows_changed"] == ROWS
        assert [x["id"] for x in ok(d, "ListJobs", {"tenant": tenant})[
            "jobs"]] == [j]
    results = ok(d, "Validate", {"plan": "h", "tenants": HOSTILE})["results"]
    assert [(r["tenant"], r["ok"]) for r in results] == [
        (t, True) for t in HOSTILE]
    (entry,) = [e for e in log_entries(d)
                if e["action"] == "io.migrated.Submit"
                and e["parameters"]["plan"] == "h"]
    assert entry["parameters"]["tenants"] == HOSTILE
    # a rollback found by a hostile plan+tenant pair restores that tenant
    victim = "'); DROP TABLE profiles; --"
    rb = ok(d, "Rollback", {"plan": "h", "tenant": victim})["job"]
    assert wait_ended(d, rb)["state"] == "succeeded"
    assert ok(d, "Verify", {"plan": "h", "tenant": HOSTILE[0]})["ok"] is True
    hd.finish(changed=[t for t in HOSTILE if t != victim])


def test_migratectl_submit_with_hostile_tenants(hd):
    tenants = ["'); DROP TABLE profiles; --", "O'Brien", "semi;colon",
               "\u202eevil\u202c", "new\nline"]
    ids = ctl_submit(hd.d, "h", tenants)
    for tenant, j in zip(tenants, ids):
        job = wait_ended(hd.d, j)
        assert (job["state"], job["tenant"]) == ("succeeded", tenant)
    hd.finish(changed=tenants)


def test_tenant_name_length_limits(hd):
    d = hd.d
    huge = "x" * BIG
    invalid(d, "Submit", {"plan": "h", "tenants": [huge]}, "tenants")
    invalid(d, "Submit", {"plan": "h", "tenants": ["p1", huge]}, "tenants")
    invalid(d, "Submit", {"plan": "h", "tenants": ["a" * (MAX_TENANT + 1)]},
            "tenants")
    invalid(d, "Submit", {"plan": "h", "tenants": [
        "\U0001F984" * (MAX_TENANT // 4) + "a"]}, "tenants")
    invalid(d, "Validate", {"plan": "h", "tenants": [huge]}, "tenants")
    # where a long string is only looked up, it is data
    assert ok(d, "ListJobs", {"tenant": huge}) == {"jobs": []}
    assert ok(d, "ListBackups", {"tenant": huge}) == {"backups": []}
    assert err(d, "ShowPlan", {"name": huge}) == (
        "io.migrated.NoSuchPlan", {"name": huge})
    assert err(d, "Submit", {"plan": huge, "tenants": ["p1"]}) == (
        "io.migrated.NoSuchPlan", {"name": huge})
    assert err(d, "Rollback", {"plan": "h", "tenant": huge})[0] == (
        "io.migrated.NoSuchJob")
    only_neighbour(hd)
    hd.finish()


def nul_messages():
    call = {"method": "io.migrated.Submit",
            "parameters": {"plan": "h", "tenants": ["p1\u0000x"]}}
    yield "escaped NUL in a tenant", json.dumps(call).encode() + b"\0"
    call["parameters"] = {"plan": "h\u0000", "tenants": ["p1"]}
    yield "escaped NUL in the plan", json.dumps(call).encode() + b"\0"
    call["parameters"] = {"plan": "h", "tenants": ["p1"],
                          "steps": ["profiles\u0000"]}
    yield "escaped NUL in a step", json.dumps(call).encode() + b"\0"
    yield "escaped NUL in a filter", json.dumps({
        "method": "io.migrated.ListJobs",
        "parameters": {"tenant": "p1\u0000"}}).encode() + b"\0"
    yield "raw NUL inside a tenant", (
        b'{"method":"io.migrated.Submit","parameters":{"plan":"h",'
        b'"tenants":["p1\0x"]}}\0')


@pytest.mark.parametrize("what,data", list(nul_messages()),
                         ids=[w for w, _ in nul_messages()])
def test_nul_bytes_never_make_a_job(hd, what, data):
    with varlink.Client(hd.d.socket) as c:
        c.send_bytes(data)
        try:
            reply = c.read_message(timeout=5)
        except varlink.Closed:
            reply = None
        assert reply is None or "error" in reply, (what, reply)
    only_neighbour(hd)
    assert ok(hd.d, "ListJobs", {"tenant": "p1"}) == {"jobs": []}
    hd.finish()


BAD_TENANT_LISTS = [
    [1], [None], [True], [1.5], [["p1"]], [{"t": "p1"}], ["p1", 2], [""],
    ["p1", None], [], "p1", {"p1": 1}, 5, True,
]


def test_tenants_that_are_not_strings(hd):
    for value in BAD_TENANT_LISTS:
        invalid(hd.d, "Submit", {"plan": "h", "tenants": value}, "tenants")
        invalid(hd.d, "Validate", {"plan": "h", "tenants": value}, "tenants")
    # both or neither of tenants and all
    invalid(hd.d, "Submit", {"plan": "h"}, "tenants")
    invalid(hd.d, "Submit", {"plan": "h", "tenants": ["p1"], "all": True},
            "tenants")
    only_neighbour(hd)
    hd.finish()


# --- parameters ------------------------------------------------------------------

UNKNOWN = [
    ("Submit", {"plan": "h", "tenants": ["p1"], "tenant": "p2"}, "tenant"),
    ("Submit", {"plan": "h", "tenants": ["p1"],
                "'; DROP TABLE profiles; --": 1},
     "'; DROP TABLE profiles; --"),
    ("Submit", {"plan": "h", "tenants": ["p1"], "dryrun": True}, "dryrun"),
    ("ListJobs", {"status": "failed"}, "status"),
    ("ShowJob", {"id": 1, "verbose": True}, "verbose"),
    ("Pause", {"id": [1]}, "id"),
    ("Resume", {"ids": [1], "force": True}, "force"),
    ("GetStatus", {"x": None}, "x"),
    ("Rollback", {"job": 1}, "job"),
    ("Validate", {"plan": "h", "tenants": ["p1"], "skip": 1}, "skip"),
    ("GetLog", {"user": "root"}, "user"),
    ("DropBackups", {"all": True}, "all"),
    ("Reload", {"now": True}, "now"),
]


def test_unknown_parameters_are_named(hd):
    for name, params, bad in UNKNOWN:
        invalid(hd.d, name, params, bad)
    only_neighbour(hd)
    assert show(hd.d, hd.neighbour)["state"] in ("queued", "running",
                                                 "succeeded")
    hd.finish()


def base_submit(**extra):
    p = {"plan": "h", "tenants": ["p1"]}
    p.update(extra)
    return p


WRONG_TYPES = {
    "Submit": [
        (base_submit(plan=v), "plan")
        for v in (1, 1.5, True, None, [], ["h"], {"name": "h"})
    ] + [
        (base_submit(all=v), "all") for v in ("true", 1, 0, [], {})
    ] + [
        (base_submit(steps=v), "steps")
        for v in ("profiles", [1], [""], [None], [["profiles"]], {"a": 1},
                  True)
    ] + [
        (base_submit(batch_size=v), "batch_size")
        for v in ("10", 1.5, True, [], 0, -1, 1000001, 10 ** 9, 2 ** 62)
    ] + [
        (base_submit(priority=v), "priority")
        for v in ("1", 1.5, True, [], 1001, -1001, 2 ** 40)
    ] + [
        (base_submit(dry_run=v), "dry_run") for v in ("true", 1, 0, [], {})
    ] + [
        (base_submit(skip_checks=v), "skip_checks")
        for v in ("yes", 1, 0, [], {})
    ],
    "ListJobs": [
        ({"state": v}, "state") for v in (1, True, [], {})
    ] + [
        ({"plan": v}, "plan") for v in (1, ["h"])
    ] + [
        ({"tenant": v}, "tenant") for v in (1, {}, ["p1"])
    ] + [
        ({"limit": v}, "limit") for v in ("10", 0, -1, 100001, 1.5, True)
    ] + [
        ({"before": v}, "before") for v in ("1", 0, -5, 1.5, [])
    ],
    "ShowJob": [
        ({"id": v}, "id")
        for v in ("1", 1.5, -1, 0, None, [1], True, {}, -(2 ** 63))
    ] + [({}, "id")],
    "Pause": [
        ({"ids": v}, "ids")
        for v in ("1", 1, [0], [-1], ["1"], [1.5], [None], [True], {}, True,
                  [])
    ] + [
        ({"all": v}, "all") for v in ("true", 1, [])
    ] + [({}, "ids"), ({"ids": [1], "all": True}, "ids")],
}


@pytest.mark.parametrize("name", sorted(WRONG_TYPES))
def test_wrong_types_for_every_parameter(hd, name):
    for params, bad in WRONG_TYPES[name]:
        invalid(hd.d, name, params, bad)
    only_neighbour(hd)
    assert show(hd.d, hd.neighbour)["state"] in ("queued", "running",
                                                 "succeeded")
    hd.finish()


def test_negative_and_huge_ids(hd):
    d = hd.d
    top = 2 ** 63 - 1
    assert err(d, "ShowJob", {"id": top}) == (
        "io.migrated.NoSuchJob", {"id": top})
    # all or nothing: the neighbour in the same list is left alone
    for name in ("Pause", "Cancel"):
        assert err(d, name, {"ids": [hd.neighbour, top]}) == (
            "io.migrated.NoSuchJob", {"id": top}), name
    for name in ("Resume", "Retry"):
        assert err(d, name, {"ids": [top]}) == (
            "io.migrated.NoSuchJob", {"id": top}), name
    assert err(d, "Rollback", {"id": top}) == (
        "io.migrated.NoSuchJob", {"id": top})
    assert err(d, "Verify", {"id": top}) == (
        "io.migrated.NoSuchJob", {"id": top})
    assert ok(d, "ListBackups", {"job": top}) == {"backups": []}
    # the log for that id: the refused calls that named it, nothing else
    assert [(e["action"], e["result"]) for e in reversed(
        ok(d, "GetLog", {"job": top})["entries"])] == [
        ("io.migrated." + name, "io.migrated.NoSuchJob")
        for name in ("Pause", "Cancel", "Resume", "Retry", "Rollback")]
    assert [j["id"] for j in ok(d, "ListJobs", {"before": top})["jobs"]] == [
        hd.neighbour]
    assert ok(d, "DropBackups", {"jobs": [top]}) == {"dropped": 0}
    for name, key in (("ShowJob", "id"), ("Rollback", "id"),
                      ("Verify", "id"), ("ListBackups", "job"),
                      ("GetLog", "job")):
        invalid(d, name, {key: -1}, key)
        invalid(d, name, {key: 0}, key)
    invalid(d, "DropBackups", {"jobs": [-1]}, "jobs")
    invalid(d, "DropBackups", {"older_than_days": -1}, "older_than_days")
    # beyond 64 bits: the message does not parse, or the id is refused
    for raw in (b'{"method":"io.migrated.ShowJob","parameters":'
                b'{"id":18446744073709551616}}\0',
                b'{"method":"io.migrated.Pause","parameters":'
                b'{"ids":[9223372036854775808]}}\0',
                b'{"method":"io.migrated.ShowJob","parameters":'
                b'{"id":1e300}}\0'):
        with varlink.Client(d.socket) as c:
            c.send_bytes(raw)
            try:
                reply = c.read_message(timeout=5)
            except varlink.Closed:
                reply = None
            assert reply is None or reply.get("error") == INVALID, (raw,
                                                                    reply)
    # the pause with a bad id in the list paused nothing
    assert show(d, hd.neighbour)["state"] in ("queued", "running",
                                              "succeeded")
    only_neighbour(hd)
    hd.finish()


def test_batch_size_extremes(hd):
    d = hd.d
    for v in (0, -1, 10 ** 9):
        invalid(d, "Submit", base_submit(batch_size=v), "batch_size")
    only_neighbour(hd)
    (one,) = submit(d, "h", ["p1"], batch_size=1)
    (most,) = submit(d, "h", ["p2"], batch_size=1000000)
    a, b = wait_ended(d, one), wait_ended(d, most)
    assert (a["state"], a["batch_size"], a["steps"][0]["batches"],
            a["rows_done"]) == ("succeeded", 1, ROWS, ROWS)
    assert (b["state"], b["batch_size"], b["steps"][0]["batches"],
            b["rows_done"]) == ("succeeded", 1000000, 1, ROWS)
    hd.finish(changed=["p1", "p2"])


def test_sql_in_other_string_parameters(hd):
    d = hd.d
    drop = "'; DROP TABLE profiles; --"
    assert err(d, "Submit", {"plan": "h" + drop, "tenants": ["p1"]}) == (
        "io.migrated.NoSuchPlan", {"name": "h" + drop})
    assert err(d, "Submit", base_submit(steps=["profiles" + drop])) == (
        "io.migrated.NoSuchStep", {"plan": "h", "step": "profiles" + drop})
    assert err(d, "ShowPlan", {"name": drop}) == (
        "io.migrated.NoSuchPlan", {"name": drop})
    assert err(d, "Validate", {"plan": drop, "tenants": ["p1"]}) == (
        "io.migrated.NoSuchPlan", {"name": drop})
    for filt in ({"state": "' OR '1'='1"}, {"plan": "h' OR 1=1 --"},
                 {"tenant": "x' OR 'a'='a"}, {"state": "running; " + drop}):
        assert ok(d, "ListJobs", filt) == {"jobs": []}, filt
    assert ok(d, "ListBackups", {"plan": drop, "tenant": drop}) == {
        "backups": []}
    assert err(d, "Verify", {"plan": drop, "tenant": drop})[0] == (
        "io.migrated.NoSuchJob")
    assert err(d, "Rollback", {"plan": drop, "tenant": drop})[0] == (
        "io.migrated.NoSuchJob")
    invalid(d, "DropBackups", {"jobs": ["1); " + drop]}, "jobs")
    invalid(d, "ShowJob", {"id": "1 OR 1=1"}, "id")
    only_neighbour(hd)
    hd.finish()


def test_the_daemon_answers_other_clients_during_the_barrage(hd):
    """A client that sends junk and stays connected does not block others,
    and the neighbour keeps progressing."""
    d = hd.d
    with varlink.Client(d.socket) as slow:
        slow.send_bytes(b'{"method":"io.migrated.Submit","parameters":'
                        b'{"plan":"h","tenants":["p1')   # never finished
        for _ in range(5):
            assert d.status()["database"] == "connected"
        wait_for("the neighbour to progress", lambda: show(
            d, hd.neighbour)["rows_done"] > 0, 10)
    only_neighbour(hd)
    hd.finish()
