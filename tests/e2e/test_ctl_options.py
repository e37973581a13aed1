"""migratectl's command line and output against a fake daemon.

The daemon does not implement every field of the interface yet (pairs,
params, fresh, compare, databases), so these tests put a small Varlink
server on a thread in its place: it records every call migratectl makes
and answers with canned replies. They check what a user notices: the
exact message migratectl sends, what it prints, and its exit status.
"""

import json
import os
import re
import shutil
import socket
import threading

import pytest

import varlink
from conftest import MIGRATECTL, require_binaries, run, short_tmpdir


class FakeDaemon:
    """A Varlink server that records calls and answers from replies:
    {"Method": [reply, ...]} (several replies for a streamed one); a method
    without replies closes the connection."""

    def __init__(self, replies):
        for answers in replies.values():
            for reply in answers:
                varlink.check_reply(reply)
        self.replies = replies
        self.calls = []
        self.dir = short_tmpdir("mdfake.")
        self.socket = str(self.dir / "io.migrated")
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.socket)
        self.server.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return  # closed
            with conn:
                self._answer(conn)

    def _answer(self, conn):
        buf = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                call = json.loads(raw.decode("utf-8"))
                self.calls.append(call)
                answers = self.replies.get(call["method"].rsplit(".", 1)[-1])
                if not answers:
                    return
                for reply in answers:
                    conn.sendall(json.dumps(reply).encode("utf-8") + b"\0")

    def ctl(self, *args):
        return run([MIGRATECTL, "--socket", self.socket, *args])

    def close(self):
        self.server.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def fake():
    """fake(replies) -> a running FakeDaemon, closed after the test."""
    require_binaries()
    made = []

    def make(replies=None):
        d = FakeDaemon(replies or {})
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def ok(parameters):
    return [{"parameters": parameters}]


def error(name, parameters):
    return [{"error": name, "parameters": parameters}]


def only_call(daemon):
    assert len(daemon.calls) == 1, daemon.calls
    return daemon.calls[0]


# --- help: one table of verbs ----------------------------------------------

def listed_verbs():
    rc, out, err = run([MIGRATECTL, "--help"])
    assert rc == 0, err
    section = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in section.splitlines()]


def test_every_verb_in_the_help_has_its_own_help():
    require_binaries()
    verbs = listed_verbs()
    assert {"status", "plans", "submit", "list", "show", "watch", "pause",
            "resume", "cancel", "retry", "validate", "verify", "rollback",
            "backups", "rejects", "log", "schema", "throttle",
            "set"} == set(verbs), verbs
    for verb in verbs:
        rc, out, err = run([MIGRATECTL, verb, "--help"])
        assert rc == 0, (verb, err)
        assert out.startswith("Usage: migratectl [-s PATH] [-j] %s" % verb), out


@pytest.mark.parametrize("verb, options", [
    ("submit", ["--pair OLD:NEW", "--param NAME=VALUE", "--fresh"]),
    ("verify", ["--compare"]),
    ("throttle", ["--plan P", "--reason TEXT", "--for DURATION"]),
    ("set", ["--batch-size N", "--max-rows-per-second N"]),
])
def test_help_names_the_new_options(verb, options):
    require_binaries()
    rc, out, err = run([MIGRATECTL, verb, "--help"])
    assert rc == 0, err
    usage = out.splitlines()[0]
    for option in options:
        assert option in usage, usage
        assert re.search(r"^  %s " % re.escape(option), out, re.M), out


# --- usage errors: exit 2, nothing sent ------------------------------------

@pytest.mark.parametrize("args, message", [
    (["submit", "p", "--all", "--param", "since"],
     "--param: 'since' is not NAME=VALUE"),
    (["submit", "p", "--all", "--param", "=2020"], "--param: empty NAME"),
    (["submit", "p", "--all", "--param", "a=1", "--param", "a=2"],
     "--param: 'a' given twice"),
    (["submit", "p", "--pair", "tumi"], "--pair: 'tumi' is not OLD:NEW"),
    (["submit", "p", "--pair", ":acme.example"], "--pair: empty OLD"),
    (["submit", "p", "--pair", "tumi:"], "--pair: empty NEW"),
    (["submit", "p", "--pair", "a:b", "--tenant", "c"],
     "--pair and --tenant exclude each other"),
    (["submit", "p", "--all", "--pair", "a:b"],
     "--pair and --all exclude each other"),
    (["submit", "p"], "--pair OLD:NEW"),
    (["submit", "--pair", "a:b"], "missing PLAN"),
    (["validate", "p", "--pair", "a:b"], "unknown option '--pair'"),
    (["submit", "p", "--all", "--compare"], "unknown option '--compare'"),
    (["verify", "7", "--fresh"], "unknown option '--fresh'"),
    (["status", "--param", "a=b"], "unknown option '--param'"),
    (["submit", "p", "--all", "--fresh=yes"],
     "option '--fresh=yes' takes no value"),
])
def test_usage_errors(fake, args, message):
    d = fake()
    rc, out, err = d.ctl(*args)
    assert rc == 2, (rc, out, err)
    assert message in err, err
    assert out == ""
    assert d.calls == [], "a usage error must not reach the daemon"


def test_validate_without_tenants_does_not_offer_pairs(fake):
    d = fake()
    rc, out, err = d.ctl("validate", "p")
    assert rc == 2
    assert err.startswith("migratectl: validate: give the tenants with "
                          "--tenant T (once per tenant) or --all\n"), err


# --- submit: the message sent ----------------------------------------------

def test_submit_param_and_pair_send_params_and_pairs(fake):
    d = fake({"Submit": ok({"jobs": [5]})})
    rc, out, err = d.ctl("submit", "legacy-import", "--param", "a=b",
                         "--pair", "x:y")
    assert rc == 0, err
    assert only_call(d) == {
        "method": "io.migrated.Submit",
        "parameters": {"plan": "legacy-import",
                       "pairs": [{"old": "x", "new": "y"}],
                       "params": {"a": "b"}}}
    assert out == "Submitted 1 job: 5.\n"


def test_submit_splits_at_the_first_separator_and_keeps_order(fake):
    d = fake({"Submit": ok({"jobs": [5, 6, 7]})})
    rc, out, err = d.ctl(
        "submit", "legacy-import", "--pair", "tumi:localhost",
        "--pair", "tumi:db.example:5432", "--pair", "rimac:rimac.example",
        "--param", "url=a=b", "--param", "empty=", "--param", "since=2020",
        "--steps", "users,tenants", "--fresh", "--dry-run")
    assert rc == 0, err
    assert only_call(d)["parameters"] == {
        "plan": "legacy-import",
        "pairs": [{"old": "tumi", "new": "localhost"},
                  {"old": "tumi", "new": "db.example:5432"},
                  {"old": "rimac", "new": "rimac.example"}],
        "params": {"url": "a=b", "empty": "", "since": "2020"},
        "steps": ["users", "tenants"],
        "fresh": True,
        "dry_run": True}


def test_submit_without_the_new_options_sends_none_of_them(fake):
    d = fake({"Submit": ok({"jobs": [1]})})
    rc, out, err = d.ctl("submit", "tenant-to-org", "--tenant", "acme")
    assert rc == 0, err
    assert only_call(d)["parameters"] == {"plan": "tenant-to-org",
                                          "tenants": ["acme"]}


# --- errors of Submit --------------------------------------------------------

def test_invalid_parameter_value_says_which_and_why(fake):
    d = fake({"Submit": error(
        "io.migrated.InvalidParameterValue",
        {"parameter": "since", "message": "'soon' is not a date (YYYY-MM-DD)"})})
    rc, out, err = d.ctl("submit", "legacy-import", "--pair", "tumi:x",
                         "--param", "since=soon")
    assert rc == 1, (rc, out, err)
    assert err == ("migratectl: io.migrated.InvalidParameterValue: parameter "
                   "'since' cannot have this value: 'soon' is not a date "
                   "(YYYY-MM-DD)\n")
    assert out == ""


DEPENDENCY = {"plan": "legacy-import", "step": "users", "after": "tenants"}


@pytest.mark.parametrize("refused, tenant", [
    ({"tenant": "tumi", "pair": "tumi.example"},
     "for tenant 'tumi' (pair tumi:tumi.example);"),
    ({"tenant": "acme"}, "for tenant 'acme';"),
    ({"tenant": "globex", "pair": None}, "for tenant 'globex';"),
    # a daemon that does not say which
    ({}, "for every tenant given"),
])
def test_step_dependency_says_what_to_add(fake, refused, tenant):
    d = fake({"Submit": error("io.migrated.StepDependency",
                              dict(DEPENDENCY, **refused))})
    who = ["--tenant", "acme", "--tenant", "globex"]
    rc, out, err = d.ctl("submit", "legacy-import", *who, "--steps", "users")
    assert rc == 1, (rc, out, err)
    assert err.startswith("migratectl: io.migrated.StepDependency: step "
                          "'users' of plan 'legacy-import' needs step "
                          "'tenants', which neither runs in th"), err
    assert tenant in err, err
    assert err.endswith("; add --steps tenants\n"), err


def test_no_job_names_the_plan_and_tenant_or_the_id(fake):
    d = fake({"Verify": error("io.migrated.NoSuchJob", {"id": 0}),
              "ShowJob": error("io.migrated.NoSuchJob", {"id": 42})})
    rc, out, err = d.ctl("verify", "tenant-to-org", "--tenant", "acme")
    assert rc == 1
    assert err == ("migratectl: io.migrated.NoSuchJob: plan 'tenant-to-org' "
                   "has no job for tenant 'acme'\n")
    rc, out, err = d.ctl("show", "42")
    assert rc == 1
    assert err == "migratectl: io.migrated.NoSuchJob: no job 42\n"


# --- verify --compare --------------------------------------------------------

CHECK = {"name": "users_copied", "ok": True, "severity": "error",
         "found": "3", "expected": "3"}


def verify_reply(compare, ok_=None):
    if ok_ is None:
        ok_ = all(step["ok"] for step in compare)
    return {"job": 7, "plan": "legacy-import", "tenant": "tumi", "ok": ok_,
            "checks": [CHECK], "compare": compare}


def step(name, source, target, differing=()):
    return {"step": name, "source_rows": source, "target_rows": target,
            "source_checksum": "ab12", "target_checksum": "ab12"
            if not differing else "cd34", "ok": not differing,
            "differing": list(differing)}


def table_row(out, first):
    """The cells of the row of a table whose first cell is first."""
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells[0] == first:
            return cells
    raise AssertionError("no row %r in:\n%s" % (first, out))


def test_verify_compare_sends_compare_and_prints_a_row_per_step(fake):
    reply = verify_reply([step("tenants", 1, 1), step("users", 120, 120)])
    d = fake({"Verify": ok(reply)})
    rc, out, err = d.ctl("verify", "7", "--compare")
    assert rc == 0, (rc, out, err)
    assert only_call(d) == {"method": "io.migrated.Verify",
                            "parameters": {"id": 7, "compare": True}}
    assert out.startswith("Job 7 (plan legacy-import, tenant tumi): OK\n")
    assert table_row(out, "users_copied")[:2] == ["users_copied", "ok"]
    assert table_row(out, "STEP") == ["STEP", "SOURCE ROWS", "TARGET ROWS",
                                      "MATCH", "DIFFERING KEYS"]
    assert table_row(out, "tenants") == ["tenants", "1", "1", "yes"]
    assert table_row(out, "users") == ["users", "120", "120", "yes"]


def test_verify_compare_exits_4_and_shows_the_first_differing_keys(fake):
    reply = verify_reply([step("tenants", 1, 1),
                          step("users", 120, 118, ["u17@x", "u18@x"])])
    d = fake({"Verify": ok(reply)})
    rc, out, err = d.ctl("verify", "legacy-import", "--tenant", "tumi",
                         "--compare")
    assert rc == 4, (rc, out, err)
    assert only_call(d)["parameters"] == {"plan": "legacy-import",
                                          "tenant": "tumi", "compare": True}
    assert "): FAILED\n" in out.splitlines()[0] + "\n"
    assert table_row(out, "users") == ["users", "120", "118", "no",
                                       "u17@x, u18@x"]


def test_verify_exits_4_when_a_step_differs_even_if_ok_says_otherwise(fake):
    reply = verify_reply([step("users", 2, 1, ["k"])], ok_=True)
    d = fake({"Verify": ok(reply)})
    rc, out, err = d.ctl("verify", "7", "--compare")
    assert rc == 4, (rc, out, err)


def test_verify_compare_json_prints_the_reply_as_is(fake):
    reply = verify_reply([step("users", 120, 118, ["u17@x"])])
    d = fake({"Verify": ok(reply)})
    rc, out, err = d.ctl("--json", "verify", "7", "--compare")
    assert rc == 4, (rc, out, err)
    assert json.loads(out) == reply


def test_verify_without_compare_prints_no_comparison(fake):
    reply = {"job": 7, "plan": "p", "tenant": "t", "ok": True,
             "checks": [CHECK], "compare": None}
    d = fake({"Verify": ok(reply)})
    rc, out, err = d.ctl("verify", "7")
    assert rc == 0, err
    assert only_call(d)["parameters"] == {"id": 7}
    assert "SOURCE ROWS" not in out and "compare" not in out, out


def test_verify_compare_of_a_plan_without_copy_steps(fake):
    d = fake({"Verify": ok(verify_reply([]))})
    rc, out, err = d.ctl("verify", "7", "--compare")
    assert rc == 0, err
    assert out.endswith("\nThe plan has no copy steps to compare.\n"), out


# --- status, show and plans print the new fields ---------------------------

STATUS = {"version": "0.1.0", "pid": 42, "uptime_sec": 61,
          "database": "connected", "database_error": None, "workers": 2,
          "workers_busy": 0, "plans": 1,
          "jobs": {"queued": 0, "running": 0, "paused": 0, "succeeded": 0,
                   "failed": 0, "cancelled": 0, "rolled_back": 0},
          "rows_done": 0, "rows_per_sec": 0.0}

DATABASES = [
    {"name": "target", "engine": "postgresql", "state": "connected",
     "error": None},
    {"name": "tumi", "engine": "sqlite", "state": "disconnected",
     "error": "unable to open database file"},
]


def test_status_lists_the_databases_below_the_summary(fake):
    d = fake({"GetStatus": ok({"status": dict(STATUS,
                                              databases=DATABASES)})})
    plain = fake({"GetStatus": ok({"status": STATUS})})
    rc, out, err = d.ctl("status")
    assert rc == 0, err
    rc, before, err = plain.ctl("status")
    assert rc == 0, err
    # what status printed before, then the databases
    assert out.startswith(before + "\n"), out
    assert table_row(out, "DATABASE") == ["DATABASE", "ENGINE", "STATE",
                                          "ERROR"]
    assert table_row(out, "target") == ["target", "postgresql", "connected",
                                        "-"]
    assert table_row(out, "tumi") == ["tumi", "sqlite", "disconnected",
                                      "unable to open database file"]


def test_status_without_databases_prints_no_table(fake):
    d = fake({"GetStatus": ok({"status": STATUS})})
    rc, out, err = d.ctl("status")
    assert rc == 0, err
    assert "DATABASE" not in out
    assert out.splitlines()[-1].startswith("Rate:"), out


JOB = {"id": 7, "plan": "legacy-import", "tenant": "tumi", "state": "queued",
       "error": None, "kind": "migrate", "rollback_of": None,
       "dry_run": False, "skip_checks": False, "warnings": [],
       "priority": 0, "batch_size": None, "rows_done": 0,
       "rows_estimated": 0, "rows_changed": 0,
       "created": "2026-12-01T10:00:00Z", "started": None, "finished": None,
       "steps": []}


def summary(out):
    """The "Label: value" lines of a summary, as a dict."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"(\S[^:]*):\s+(.*)$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def test_show_prints_pair_fresh_and_parameters(fake):
    job = dict(JOB, pair="tumi.example", fresh=True,
               parameters={"since": "2020-01-01", "region": "eu"})
    d = fake({"ShowJob": ok({"job": job})})
    rc, out, err = d.ctl("show", "7")
    assert rc == 0, err
    rows = summary(out)
    assert rows["Tenant"] == "tumi"
    assert rows["Pair"] == "tumi:tumi.example"
    assert rows["Fresh"].startswith("yes")
    assert rows["Parameters"] == "region=eu, since=2020-01-01"


@pytest.mark.parametrize("fields", [
    {},
    {"pair": None, "fresh": False, "parameters": {}},
], ids=["older-daemon", "none-given"])
def test_show_leaves_out_what_the_job_does_not_have(fake, fields):
    d = fake({"ShowJob": ok({"job": dict(JOB, **fields)})})
    rc, out, err = d.ctl("show", "7")
    assert rc == 0, err
    rows = summary(out)
    assert not {"Pair", "Fresh", "Parameters"} & set(rows), out


PLAN = {"name": "legacy-import", "description": "Legacy tenants",
        "file": "/etc/migrated/plans/legacy-import.plan", "params": [],
        "checks": [], "verifies": [],
        "steps": [{"name": "tenants", "table": "tenants", "key": "id",
                   "batch": 0, "after": []},
                  {"name": "users", "table": "users", "key": "id",
                   "batch": 500, "after": ["tenants"]}]}


def test_plan_shows_the_kind_and_source_of_steps(fake):
    kinds = [dict(PLAN["steps"][0], kind="copy", source="tumi",
                  upsert=["domain"], clear=True),
             dict(PLAN["steps"][1], kind="inplace", source=None,
                  upsert=[], clear=False)]
    plan = dict(PLAN, steps=kinds, parameters=["since"], pair="domain",
                source="tumi", compare=True)
    d = fake({"ShowPlan": ok({"plan": plan})})
    rc, out, err = d.ctl("plans", "legacy-import")
    assert rc == 0, err
    assert only_call(d)["parameters"] == {"name": "legacy-import"}
    assert table_row(out, "STEP") == ["STEP", "KIND", "TABLE", "KEY",
                                      "SOURCE", "BATCH", "AFTER"]
    assert table_row(out, "tenants") == ["tenants", "copy", "tenants", "id",
                                         "tumi", "0", "-"]
    assert table_row(out, "users") == ["users", "inplace", "users", "id",
                                       "-", "500", "tenants"]
    rows = summary(out)
    assert rows["Submit parameters"] == "since"
    assert rows["Pair parameter"] == "domain"
    assert rows["Tenants from"] == "tumi"
    assert rows["Compare"] == "yes"


def test_plan_from_an_older_daemon_shows_no_kind_or_source(fake):
    d = fake({"ShowPlan": ok({"plan": PLAN})})
    rc, out, err = d.ctl("plans", "legacy-import")
    assert rc == 0, err
    assert table_row(out, "STEP") == ["STEP", "TABLE", "KEY", "BATCH",
                                      "AFTER"]
    assert not {"Submit parameters", "Pair parameter", "Tenants from",
                "Compare"} & set(summary(out)), out
