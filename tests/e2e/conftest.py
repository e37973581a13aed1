"""Fixtures for the end-to-end tests: a real PostgreSQL 15 cluster (one per
session) and the real daemon (one per test), both from a `make`-built tree.

Run from the top of the tree with `/usr/bin/python3 -m pytest -q tests/e2e`
(or `make e2e`). MIGRATED_BUILD=DIR tests the binaries in DIR instead of
build/.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import varlink

ROOT = Path(__file__).resolve().parents[2]
# MIGRATED_BUILD selects another build directory (e.g. make B=build-asan).
BUILD = ROOT / os.environ.get("MIGRATED_BUILD", "build")
MIGRATED = BUILD / "migrated"
MIGRATECTL = BUILD / "migratectl"
PGCLUSTER = ROOT / "scripts" / "pgcluster.sh"
INTERFACE_FILE = ROOT / "proto" / "io.migrated.varlink"
PSQL = next(p for p in ("/usr/lib/postgresql/15/bin/psql", "/usr/bin/psql")
            if os.path.exists(p))

TEST_TIMEOUT = 90          # seconds, per test (setup + call)
# MIGRATED_VALGRIND=1 runs every daemon under valgrind (make check-valgrind):
# any invalid access or definite leak fails the test that started it.
VALGRIND = os.environ.get("MIGRATED_VALGRIND") == "1"
START_TIMEOUT = 60 if VALGRIND else 15  # seconds for the daemon to be ready
STOP_TIMEOUT = 30 if VALGRIND else 10  # seconds for a clean stop after SIGTERM

# Environment the daemon and migratectl must not inherit from whoever runs
# the tests (systemd, a shell with MIGRATED_SOCKET set, ...).
SCRUBBED_ENV = ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM",
                "MIGRATED_SOCKET")

# Which section each key of migrated.conf lives in.
TARGET_KEYS = {"conninfo"}


def project_version():
    """VERSION from the Makefile: what --version and GetStatus must say."""
    text = (ROOT / "Makefile").read_text()
    return re.search(r"^VERSION\s*=\s*(\S+)", text, re.M).group(1)


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env.update(extra or {})
    return env


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def short_tmpdir(prefix):
    """A temporary directory with a short path (unix socket paths are limited
    to 107 bytes) that user postgres can traverse."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return Path(d)


def require_binaries():
    missing = [str(p) for p in (MIGRATED, MIGRATECTL) if not p.exists()]
    if missing:
        pytest.fail("not built: %s (run `make all` first)" % ", ".join(missing))


def run(cmd, env=None, timeout=30, input=None):
    """Runs cmd; returns (rc, stdout, stderr) as text."""
    p = subprocess.run([str(c) for c in cmd], env=clean_env(env),
                       stdin=subprocess.DEVNULL if input is None else None,
                       input=input, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def wait_for(what, predicate, timeout, interval=0.05):
    """Polls predicate until it returns a true value, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


@pytest.fixture(autouse=True)
def _test_timeout():
    """Fails a test that hangs instead of hanging the suite."""
    def expired(signum, frame):
        raise TimeoutError("test took longer than %d s" % TEST_TIMEOUT)
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(TEST_TIMEOUT)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


# --- PostgreSQL ------------------------------------------------------------

class Postgres:
    def __init__(self, directory, port):
        self.dir = Path(directory)
        self.port = port
        self.conninfo = "host=%s/sock port=%d dbname=migrated user=postgres" % (
            self.dir, port)

    def _script(self, *args):
        rc, out, err = run(["sh", PGCLUSTER, *args], timeout=120)
        if rc != 0:
            raise RuntimeError("pgcluster.sh %s failed (%d): %s%s"
                               % (" ".join(map(str, args)), rc, out, err))

    def start(self):
        self._script("start", self.dir, self.port)

    def stop(self):
        self._script("stop", self.dir)

    def restart(self):
        self.stop()
        self.start()

    def destroy(self):
        self._script("destroy", self.dir)

    def psql(self, sql):
        """Runs sql in database migrated; returns unaligned tuples-only
        output. Raises on any SQL error."""
        rc, out, err = run([PSQL, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1",
                            "-d", self.conninfo, "-c", sql])
        if rc != 0:
            raise RuntimeError("psql failed (%d) on %r: %s" % (rc, sql, err))
        return out

    def reset(self):
        """Removes what a test may have left: the daemon's state schema and
        any demo tables. Makes sure the server is up."""
        self.start()
        self.psql("DROP SCHEMA IF EXISTS migrated CASCADE")


@pytest.fixture(scope="session")
def pg():
    directory = short_tmpdir("mdpg.")
    server = Postgres(directory, free_port())
    try:
        server.start()
        yield server
    finally:
        try:
            server.destroy()
        finally:
            shutil.rmtree(directory, ignore_errors=True)


# --- the daemon ------------------------------------------------------------

class Daemon:
    """One migrated process with its own directory, config and socket."""

    def __init__(self, pg, **overrides):
        require_binaries()
        self.dir = short_tmpdir("md.")
        self.socket = str(self.dir / "io.migrated")
        self.plan_dir = str(self.dir / "plans")
        self.conf_path = str(self.dir / "migrated.conf")
        self.log_path = str(self.dir / "migrated.log")
        os.mkdir(self.plan_dir)
        self.settings = {
            "socket": self.socket,
            "plan_dir": self.plan_dir,
            "workers": "2",
            "batch_size": "1000",
            "log_level": "info",
            "reconnect_max_ms": "500",
            "audit_spool": str(self.dir / "audit.spool"),
            "conninfo": pg.conninfo if pg is not None else "",
        }
        self.settings.update({k: str(v) for k, v in overrides.items()})
        self.write_conf()
        self.proc = None
        self.expected_exit = False

    # config

    def conf_text(self, **overrides):
        values = dict(self.settings, **{k: str(v) for k, v in overrides.items()})
        lines = ["# written by tests/e2e/conftest.py", "[daemon]"]
        lines += ["%s = %s" % (k, v) for k, v in values.items()
                  if k not in TARGET_KEYS]
        lines += ["", "[target]"]
        lines += ["%s = %s" % (k, v) for k, v in values.items()
                  if k in TARGET_KEYS]
        return "\n".join(lines) + "\n"

    def write_conf(self, text=None, **overrides):
        """Writes the config (text verbatim, or the settings with overrides,
        which then become the settings)."""
        if text is None:
            self.settings.update({k: str(v) for k, v in overrides.items()})
            text = self.conf_text()
        with open(self.conf_path, "w") as f:
            f.write(text)

    # process

    @property
    def pid(self):
        return self.proc.pid

    def start(self, env=None, activate=None, wait=True, args=()):
        """Starts the daemon with stderr (and stdout) going to the log.
        With activate=PATH it runs under systemd-socket-activate listening
        on PATH, and clients use PATH."""
        cmd = [str(MIGRATED), "-c", self.conf_path, *args]
        if VALGRIND:
            cmd = ["valgrind", "--quiet", "--error-exitcode=99",
                   "--leak-check=full", "--show-leak-kinds=definite",
                   "--errors-for-leak-kinds=definite",
                   "--log-file=%s.valgrind" % self.log_path, *cmd]
        if activate is not None:
            self.socket = str(activate)
            passed = ["--setenv=%s=%s" % kv for kv in (env or {}).items()]
            cmd = ["systemd-socket-activate", "-l", str(activate), *passed,
                   *cmd]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, env=clean_env(env),
                                         stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log,
                                         start_new_session=True)
        self.expected_exit = False
        if wait:
            self.wait_ready()
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self):
        if not self.alive():
            pytest.fail("migrated exited with status %s; log:\n%s"
                        % (self.proc.returncode, self.log()))

    def wait_ready(self, timeout=START_TIMEOUT):
        """Waits until the socket answers GetStatus with the database
        connected."""
        def ready():
            self.check_alive()
            try:
                status = self.status()
            except (OSError, varlink.Closed, TimeoutError, ValueError):
                return False
            return status.get("database") == "connected"
        wait_for("migrated to be ready (socket %s)" % self.socket, ready,
                 timeout)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10):
        """Waits for a log line matching the regex pattern; returns the
        match."""
        rx = re.compile(pattern)
        return wait_for("log line matching %r" % pattern,
                        lambda: rx.search(self.log()), timeout)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def reload(self):
        self.check_alive()
        self.signal(signal.SIGHUP)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM; asserts a clean exit (status 0) within timeout."""
        self.check_alive()
        self.expected_exit = True
        self.signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail("migrated did not exit within %ss of SIGTERM; log:\n%s"
                        % (timeout, self.log()))
        assert rc == 0, "migrated exited %d after SIGTERM; log:\n%s" % (
            rc, self.log())

    def kill(self):
        """Ends the process group, whatever state it is in."""
        if self.proc is None:
            return
        self.expected_exit = True
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def cleanup(self):
        died = (self.proc is not None and not self.expected_exit
                and self.proc.poll() is not None)
        log = self.log()
        self.kill()
        try:
            with open("%s.valgrind" % self.log_path, errors="replace") as f:
                report = f.read()
        except FileNotFoundError:
            report = ""
        shutil.rmtree(self.dir, ignore_errors=True)
        # Shown by pytest when the test fails.
        print("---- migrated log (%s) ----\n%s" % (self.log_path, log))
        if died:
            pytest.fail("migrated died during the test with status %s"
                        % self.proc.returncode)
        if report.strip():
            pytest.fail("valgrind found errors in migrated:\n%s" % report)

    # clients

    def ctl(self, *args, env=None, socket=True, timeout=30):
        """Runs build/migratectl (with --socket unless socket=False);
        returns (rc, stdout, stderr)."""
        cmd = [MIGRATECTL]
        if socket:
            cmd += ["--socket", self.socket]
        return run(cmd + list(args), env=env, timeout=timeout)

    def client(self, timeout=varlink.DEFAULT_TIMEOUT):
        return varlink.Client(self.socket, timeout)

    def call(self, method, params=None, timeout=varlink.DEFAULT_TIMEOUT):
        """One raw Varlink call on a fresh connection; returns the reply."""
        return varlink.call(self.socket, method, params, timeout)

    def status(self):
        reply = self.call("io.migrated.GetStatus")
        assert "error" not in reply, reply
        return reply["parameters"]["status"]


@pytest.fixture
def make_daemon(pg):
    """Factory: make_daemon(**conf_overrides) -> Daemon, not started. The
    database is reset first; every daemon made is killed and removed at the
    end of the test."""
    made = []

    def make(**overrides):
        d = Daemon(pg, **overrides)
        made.append(d)
        return d

    pg.reset()
    yield make
    errors = []
    for d in made:
        try:
            d.cleanup()
        except BaseException as e:  # pytest.fail raises outcomes.Failed
            errors.append(e)
    if errors:
        raise errors[0]


@pytest.fixture
def daemon(make_daemon):
    """A running daemon, connected to the session's PostgreSQL."""
    return make_daemon().start()


@pytest.fixture
def version():
    return project_version()


# --- shared assertions -----------------------------------------------------

STATUS_FIELDS = {
    "version": str, "pid": int, "uptime_sec": int, "database": str,
    "workers": int, "workers_busy": int, "plans": int, "jobs": dict,
    "rows_done": int, "rows_per_sec": (int, float), "databases": list,
    "throttle": dict,
}
DB_STATES = ("connected", "connecting", "disconnected")


def _idl_fields(type_name):
    """Field names of a type in proto/io.migrated.varlink, the source of
    truth the daemon's replies must match."""
    text = INTERFACE_FILE.read_text()
    body = re.search(r"type %s \((.*?)\)" % type_name, text, re.S).group(1)
    return tuple(re.findall(r"^\s*(\w+):", body, re.M))


JOB_STATES = _idl_fields("JobCounts")
DATABASE_STATUS_FIELDS = _idl_fields("DatabaseStatus")


def check_status(status):
    """Asserts that status has the fields and types of the IDL's Status."""
    assert isinstance(status, dict), status
    for name, typ in STATUS_FIELDS.items():
        assert name in status, "Status has no %r: %r" % (name, status)
        value = status[name]
        assert isinstance(value, typ) and not isinstance(value, bool), (
            "Status.%s is %r" % (name, value))
    extra = set(status) - set(STATUS_FIELDS) - {"database_error"}
    assert not extra, "Status has fields the IDL does not: %s" % sorted(extra)
    err = status.get("database_error")
    assert err is None or isinstance(err, str), status
    assert status["database"] in DB_STATES
    # The target first, as the old fields report it; then [database NAME]s.
    dbs = status["databases"]
    assert dbs and dbs[0]["name"] == "target", dbs
    assert dbs[0]["state"] == status["database"], status
    assert dbs[0].get("error") == err, status
    for db in dbs:
        assert set(db) <= set(DATABASE_STATUS_FIELDS), db
        assert {"name", "engine", "state"} <= set(db), db
        assert db["engine"] in ("postgresql", "sqlite"), db
        assert db["state"] in DB_STATES, db
        assert db.get("error") is None or isinstance(db["error"], str), db
        if db["state"] == "connected":
            assert db.get("error") is None, db
    assert set(status["jobs"]) == set(JOB_STATES), status["jobs"]
    for state in JOB_STATES:
        n = status["jobs"][state]
        assert isinstance(n, int) and not isinstance(n, bool) and n >= 0
