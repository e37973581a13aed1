"""`migratectl schema ...` against a fake daemon (see test_ctl_options.py):
the message each verb sends, what it prints and its exit status, for the
methods whose daemon side lands separately (apply, revert, adopt, diff,
drift, dump, squash) as for the others."""

import json

import pytest

from conftest import MIGRATECTL, require_binaries, run
from test_ctl_options import error, fake, ok, only_call  # noqa: F401

IFACE = "io.migrated."


def test_schema_help_lists_its_commands():
    require_binaries()
    rc, out, err = run([MIGRATECTL, "schema", "--help"])
    assert rc == 0, err
    for verb in ("status", "apply", "revert", "baseline", "repair", "adopt",
                 "diff", "drift", "dump", "squash"):
        assert "\n  %s " % verb in out, out
        rc, sub, err = run([MIGRATECTL, "schema", verb, "--help"])
        assert rc == 0, (verb, err)
        assert sub.startswith(
            "Usage: migratectl [-s PATH] [-j] schema %s" % verb), sub
    rc, out, err = run([MIGRATECTL, "schema"])
    assert rc == 2 and "schema COMMAND" in err


@pytest.mark.parametrize("args, message", [
    (["schema", "nope"], "schema: unknown command 'nope'"),
    (["schema", "baseline"], "missing N"),
    (["schema", "baseline", "app", "x"], "'x' is not a version number"),
    (["schema", "repair", "app", "3", "drop"], "accept (record"),
    (["schema", "repair", "3"], "missing N accept|forget"),
    (["schema", "apply", "--to", "-1"], "--to: '-1' is not a whole number"),
    (["schema", "adopt", "app"], "--from TOOL is required"),
    (["schema", "squash", "app"], "--to N is required"),
    (["schema", "diff", "target"], "missing A B"),
    (["schema", "status", "--to", "3"], "unknown option '--to'"),
])
def test_schema_usage_errors(fake, args, message):  # noqa: F811
    d = fake()
    rc, out, err = d.ctl(*args)
    assert rc == 2, (rc, out, err)
    assert message in err, err
    assert d.calls == []


def test_apply_sends_to_and_dry_run_and_prints_the_job(fake):  # noqa: F811
    d = fake({"SchemaApply": ok({"job": 12})})
    rc, out, err = d.ctl("schema", "apply", "app", "--to", "5", "--dry-run")
    assert rc == 0, err
    assert only_call(d) == {"method": IFACE + "SchemaApply",
                            "parameters": {"set": "app", "to": 5,
                                           "dry_run": True}}
    assert out == "Queued schema dry-run apply job 12.\n"


def test_revert_without_set_sends_nothing_else(fake):  # noqa: F811
    d = fake({"SchemaRevert": ok({"job": 3})})
    rc, out, err = d.ctl("--json", "schema", "revert")
    assert rc == 0, err
    assert only_call(d)["parameters"] == {}
    assert json.loads(out) == {"job": 3}


def test_conflict_is_reported_with_its_message(fake):  # noqa: F811
    d = fake({"SchemaApply": error(IFACE + "SchemaConflict", {
        "set": "app", "version": 3,
        "message": "version 3 was edited since it was applied"})})
    rc, out, err = d.ctl("schema", "apply")
    assert rc == 1, (rc, out, err)
    assert "edited" in err, err


def test_adopt_prints_each_row_and_exits_4_on_a_conflict(fake):  # noqa: F811
    d = fake({"SchemaAdopt": ok({
        "adopted": 1,
        "rows": [{"foreign": "20240101_init", "version": 1,
                  "outcome": "adopted", "message": None},
                 {"foreign": "20240202_x", "version": None,
                  "outcome": "unmatched", "message": "no local file"}],
        "note": "drizzle.__drizzle_migrations is no longer needed"})})
    rc, out, err = d.ctl("schema", "adopt", "app", "--from", "table",
                         "--table", "schema_migrations", "--version-column",
                         "version", "--name-column", "name")
    assert rc == 4, (rc, out, err)
    assert only_call(d)["parameters"] == {
        "set": "app", "from": "table", "table": "schema_migrations",
        "version_column": "version", "name_column": "name"}
    assert "20240202_x" in out and "unmatched" in out
    assert "Adopted 1 version(s)." in out
    assert "no longer needed" in out


DIFFS = [
    {"kind": "column", "name": "public.users.email", "change": "differs",
     "a": "text NOT NULL", "b": "text"},
    {"kind": "table", "name": "public.orders", "change": "only_in_a",
     "a": None, "b": None},
    {"kind": "index", "name": "public.users (email)", "change": "only_in_b",
     "a": None, "b": "CREATE INDEX ON public.users (email)"},
]


def test_diff_groups_by_kind_and_exits_1(fake):  # noqa: F811
    d = fake({"SchemaDiff": ok({"same": False, "differences": DIFFS})})
    rc, out, err = d.ctl("schema", "diff", "target", "files:app")
    assert rc == 1, (rc, out, err)
    assert only_call(d)["parameters"] == {"a": "target", "b": "files:app"}
    # tables before columns before indexes
    assert out.index("table:") < out.index("column:") < out.index("index:")
    assert "  - public.orders (only in A)" in out
    assert "  + public.users (email) (only in B)" in out
    assert "A: text NOT NULL" in out
    assert out.endswith("3 difference(s).\n")


def test_drift_same_exits_0(fake):  # noqa: F811
    d = fake({"SchemaDrift": ok({"same": True, "differences": []})})
    rc, out, err = d.ctl("schema", "drift", "app")
    assert (rc, out) == (0, "No differences.\n"), err
    rc, out, err = d.ctl("--json", "schema", "drift")
    assert rc == 0 and json.loads(out)["same"] is True


def test_dump_and_squash_print_the_sql(fake):  # noqa: F811
    d = fake({"SchemaDump": ok({"sql": "CREATE TABLE t (id int);"}),
              "SchemaSquash": ok({"sql": "CREATE TABLE u (id int);\n"})})
    rc, out, err = d.ctl("schema", "dump", "legacy")
    assert (rc, out) == (0, "CREATE TABLE t (id int);\n"), err
    rc, out, err = d.ctl("schema", "squash", "app", "--to", "7")
    assert (rc, out) == (0, "CREATE TABLE u (id int);\n"), err
    assert d.calls[0]["parameters"] == {"database": "legacy"}
    assert d.calls[1]["parameters"] == {"set": "app", "to": 7}


def test_status_table_and_exit_status(fake):  # noqa: F811
    files = [{"version": 1, "name": "init", "state": "applied",
              "checksum": "a", "recorded_checksum": "a", "kind": "applied",
              "adopted_from": None, "applied_at": "2026-01-01T00:00:00.000Z",
              "duration_ms": 12, "error": None, "has_down": True,
              "no_transaction": False},
             {"version": 2, "name": "users", "state": "pending",
              "checksum": "b", "recorded_checksum": None, "kind": None,
              "adopted_from": None, "applied_at": None, "duration_ms": None,
              "error": None, "has_down": False, "no_transaction": False}]
    sets = [{"name": "app", "database": "target", "dir": "/s/app",
             "current": 1, "pending": 1, "needs_action": False,
             "files": files}]
    d = fake({"SchemaStatus": ok({"sets": sets})})
    rc, out, err = d.ctl("schema", "status")
    assert rc == 4, (rc, out, err)
    lines = out.splitlines()
    assert lines[0] == "Schema set app on target (/s/app)"
    assert lines[1].split() == ["VERSION", "NAME", "STATE", "APPLIED", "AT",
                                "DURATION"]
    assert lines[2].split() == ["1", "init", "applied",
                                "2026-01-01T00:00:00.000Z", "12", "ms"]
    assert lines[3].split()[:3] == ["2", "users", "pending"]
    assert lines[-1] == "Current version 1, 1 pending."
    sets[0]["pending"] = 0
    files.pop()
    d = fake({"SchemaStatus": ok({"sets": sets})})
    rc, out, err = d.ctl("schema", "status", "app")
    assert rc == 0, (rc, out, err)
    assert only_call(d)["parameters"] == {"set": "app"}
    # --all asks for every version; the counts head the table
    sets[0]["counts"] = {"applied": 1, "baseline": 0, "pending": 0}
    sets[0]["all"] = True
    d = fake({"SchemaStatus": ok({"sets": sets})})
    rc, out, err = d.ctl("schema", "status", "app", "--all")
    assert rc == 0, (rc, out, err)
    assert only_call(d)["parameters"] == {"set": "app", "all": True}
    assert out.splitlines()[1] == "Versions: 1 applied", out
