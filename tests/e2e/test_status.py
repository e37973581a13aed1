"""`migratectl status` and the command lines of both programs."""

import json
import re

import pytest

from conftest import (MIGRATECTL, MIGRATED, check_status, project_version,
                      require_binaries, run)


# --- migratectl status ------------------------------------------------------

def test_status_human_output_names_version_and_database(daemon, version):
    rc, out, err = daemon.ctl("status")
    assert rc == 0, err
    assert version in out
    assert re.search(r"\bconnected\b", out), out
    assert "disconnected" not in out, out


def status_from_json(out):
    """`--json status` prints the reply's parameters: {"status": {...}}."""
    doc = json.loads(out)
    assert isinstance(doc, dict) and set(doc) == {"status"}, doc
    return doc["status"]


def test_status_json_has_the_idl_fields(daemon, version):
    rc, out, err = daemon.ctl("--json", "status")
    assert rc == 0, err
    status = status_from_json(out)
    check_status(status)
    assert status["version"] == version
    assert status["pid"] == daemon.pid
    assert status["database"] == "connected"
    assert status.get("database_error") is None
    assert status["workers"] == 2          # from the test config
    assert status["workers_busy"] == 0
    assert status["plans"] == 0            # plan_dir is empty
    assert all(n == 0 for n in status["jobs"].values()), status["jobs"]
    assert status["uptime_sec"] >= 0


def test_migrated_socket_env_is_honoured(daemon):
    rc, out, err = daemon.ctl("status", socket=False,
                              env={"MIGRATED_SOCKET": daemon.socket})
    assert rc == 0, err
    assert re.search(r"\bconnected\b", out), out


def test_socket_option_wins_over_env(daemon):
    rc, out, err = daemon.ctl("status",
                              env={"MIGRATED_SOCKET": "/nonexistent/sock"})
    assert rc == 0, err


def test_missing_socket_exits_3(tmp_path):
    require_binaries()
    path = str(tmp_path / "nothing-here")
    rc, out, err = run([MIGRATECTL, "--socket", path, "status"])
    assert rc == 3, (rc, out, err)
    assert path in err, err
    assert out == ""


def test_missing_socket_from_env_exits_3(tmp_path):
    require_binaries()
    path = str(tmp_path / "nothing-here")
    rc, out, err = run([MIGRATECTL, "status"], env={"MIGRATED_SOCKET": path})
    assert rc == 3, (rc, out, err)
    assert path in err, err


@pytest.mark.parametrize("args", [
    ["--bogus", "status"],
    ["status", "--bogus"],
    ["frobnicate"],
    ["--socket"],
], ids=["global-option", "command-option", "unknown-command",
        "missing-argument"])
def test_usage_errors_exit_2(tmp_path, args):
    require_binaries()
    rc, out, err = run([MIGRATECTL, *args],
                       env={"MIGRATED_SOCKET": str(tmp_path / "none")})
    assert rc == 2, (rc, out, err)
    assert err.strip(), "a usage error must say what is wrong on stderr"


@pytest.mark.parametrize("args", [["status", "--help"], ["--help"]])
def test_help_exits_0(args):
    require_binaries()
    rc, out, err = run([MIGRATECTL, *args],
                       env={"MIGRATED_SOCKET": "/nonexistent/sock"})
    assert rc == 0, (rc, out, err)
    assert "status" in out
    assert re.search(r"usage", out, re.I), out


def test_migratectl_version():
    require_binaries()
    rc, out, err = run([MIGRATECTL, "--version"])
    assert rc == 0, err
    assert project_version() in out


# --- migrated command line ---------------------------------------------------

def test_migrated_version():
    require_binaries()
    rc, out, err = run([MIGRATED, "--version"])
    assert rc == 0, err
    assert project_version() in out
    rc, out2, err = run([MIGRATED, "-V"])
    assert rc == 0, err
    assert out2 == out


def test_migrated_help():
    require_binaries()
    rc, out, err = run([MIGRATED, "--help"])
    assert rc == 0, err
    for opt in ("--config", "--check", "--debug", "--version"):
        assert opt in out, "--help does not mention %s:\n%s" % (opt, out)


@pytest.mark.parametrize("args", [["--bogus"], ["-c"], ["extra-argument"]])
def test_migrated_usage_error_exits_2(args):
    require_binaries()
    rc, out, err = run([MIGRATED, *args])
    assert rc == 2, (rc, out, err)
    assert err.strip()


GOOD_CONF = """\
# a comment
; another comment
[daemon]
socket = {dir}/io.migrated
socket_mode = 0660
plan_dir = {dir}/plans
workers = 4
batch_size = 1000
admin_group =
log_level = notice
reconnect_max_ms = 5000

[target]
conninfo = host={dir}/no-server port=1 dbname=migrated
"""


def write_conf(tmp_path, text):
    (tmp_path / "plans").mkdir(exist_ok=True)
    path = tmp_path / "migrated.conf"
    path.write_text(text.format(dir=tmp_path))
    return str(path)


@pytest.mark.parametrize("flag", ["-n", "--check"])
def test_check_good_config_exits_0(tmp_path, flag):
    require_binaries()
    conf = write_conf(tmp_path, GOOD_CONF)
    rc, out, err = run([MIGRATED, flag, "-c", conf])
    assert rc == 0, (rc, out, err)
    assert not (tmp_path / "io.migrated").exists(), "-n must not bind"


# (name, config text, line of the error, word the message must contain)
BAD_CONFS = [
    ("unknown-key", "[daemon]\nworkers = 2\nbogus_key = 1\n", 3, "bogus_key"),
    ("key-in-wrong-section", "[target]\nworkers = 2\n", 2, "workers"),
    ("key-outside-section", "workers = 2\n", 1, "workers"),
    ("unknown-section", "[daemon]\nworkers = 2\n\n[bogus]\nx = 1\n", 4,
     "bogus"),
    ("workers-zero", "[daemon]\nworkers = 0\n", 2, "workers"),
    ("workers-too-big", "[daemon]\n# c\nworkers = 65\n", 3, "workers"),
    ("batch-size-not-a-number", "[daemon]\nbatch_size = 12abc\n", 2,
     "batch_size"),
    ("socket-mode-not-octal", "[daemon]\nsocket_mode = 0999\n", 2,
     "socket_mode"),
    ("bad-log-level", "[daemon]\nlog_level = loud\n", 2, "log_level"),
    ("reconnect-too-small", "[daemon]\nreconnect_max_ms = 50\n", 2,
     "reconnect_max_ms"),
    ("not-ini", "[daemon]\nworkers 2\n", 2, ""),
]


@pytest.mark.parametrize("text,line,word", [b[1:] for b in BAD_CONFS],
                         ids=[b[0] for b in BAD_CONFS])
def test_check_bad_config_names_file_and_line(tmp_path, text, line, word):
    require_binaries()
    conf = write_conf(tmp_path, text)
    rc, out, err = run([MIGRATED, "-n", "-c", conf])
    assert rc == 1, (rc, out, err)
    assert "%s:%d: " % (conf, line) in err, err
    assert word.lower() in err.lower(), err


def test_start_with_bad_config_exits_1(tmp_path):
    require_binaries()
    conf = write_conf(tmp_path, "[daemon]\nbogus_key = 1\n")
    rc, out, err = run([MIGRATED, "-c", conf], timeout=10)
    assert rc == 1, (rc, out, err)
    assert "%s:2: " % conf in err, err


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_check_unreadable_config(tmp_path, kind):
    require_binaries()
    path = tmp_path / "migrated.conf"
    if kind == "directory":
        path.mkdir()
    rc, out, err = run([MIGRATED, "-n", "-c", str(path)])
    assert rc == 1, (rc, out, err)
    assert re.search(re.escape(str(path)) + r"(:\d+)?: \S", err), err
