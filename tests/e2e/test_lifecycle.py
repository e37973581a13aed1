"""The daemon's life: database outages, reload, stop, systemd integration."""

import os
import re
import shutil
import signal
import socket
import stat
import time

import pytest

import varlink
from conftest import ROOT, free_port, wait_for
from jobs_util import (counter_plan, counter_step, make_tables, submit,
                       wait_state, write_plan)

# --- database outages ---------------------------------------------------------


def wait_database(daemon, state, timeout=15):
    """Polls GetStatus until database is state; returns that Status."""
    def reached():
        status = daemon.status()
        return status if status["database"] == state else None
    return wait_for("GetStatus to report the database %s" % state, reached,
                    timeout)


def test_database_outage_is_reported_and_recovered(daemon, pg):
    try:
        pg.stop()
        status = wait_database(daemon, "disconnected")
        assert isinstance(status.get("database_error"), str), status
        assert status["database_error"].strip(), status
        rc, out, err = daemon.ctl("status")
        assert rc == 0, err
        assert re.search(r"\b(disconnected|connecting)\b", out), out
        daemon.check_alive()
    finally:
        pg.start()
    status = wait_database(daemon, "connected")
    assert status.get("database_error") is None, status
    daemon.check_alive()


def test_quick_postgres_restart(daemon, pg):
    pg.restart()
    wait_database(daemon, "connected")
    daemon.check_alive()
    daemon.stop()


def test_start_while_database_is_down(make_daemon, pg):
    d = make_daemon()
    try:
        pg.stop()
        d.start(wait=False)
        status = wait_for("the socket to answer without a database",
                          lambda: try_status(d), timeout=15)
        assert status["database"] in ("disconnected", "connecting"), status
    finally:
        pg.start()
    d.wait_ready()
    d.stop()


def try_status(d):
    d.check_alive()
    try:
        return d.status()
    except (OSError, varlink.Closed, TimeoutError):
        return None


# --- reload ---------------------------------------------------------------------

def test_sighup_with_broken_config_keeps_old_config(daemon):
    good = daemon.conf_text()
    # Line 3: right after "# written by ..." and "[daemon]".
    daemon.write_conf(good.replace("[daemon]\n", "[daemon]\nbogus_key = 1\n", 1))
    daemon.reload()
    daemon.wait_log(r"(?m)^migrated\[%d\]: \w+: reload failed: %s:3: "
                    % (daemon.pid, re.escape(daemon.conf_path)))
    daemon.check_alive()
    status = daemon.status()
    assert status["database"] == "connected"
    assert status["workers"] == 2
    # A later good reload still works.
    daemon.write_conf(good)
    daemon.reload()
    time.sleep(0.3)
    daemon.check_alive()
    assert daemon.log().count("reload failed") == 1, daemon.log()
    daemon.stop()


def test_sighup_applies_a_good_changed_config(make_daemon, pg):
    make_tables(pg, ["a", "b"], 50)
    d = make_daemon(batch_size=1000)
    # The step sets no batch, so the daemon's batch_size applies.
    write_plan(d, "cnt", counter_plan([counter_step("one")]))
    d.start()
    [before] = submit(d, "cnt", ["a"])
    assert wait_state(d, [before])[before]["steps"][0]["batches"] == 1

    d.write_conf(batch_size=10, workers=3)
    d.reload()
    # workers needs a restart: the daemon says so and keeps the old value.
    d.wait_log(r"(?m)^migrated\[%d\]: warning: .*\bworkers\b" % d.pid)
    d.check_alive()
    assert "reload failed" not in d.log(), d.log()
    status = d.status()
    assert status["workers"] == 2, status
    assert status["database"] == "connected"
    # batch_size is reloadable: a new job uses it.
    [after] = submit(d, "cnt", ["b"])
    assert wait_state(d, [after])[after]["steps"][0]["batches"] == 5
    d.stop()


def test_sighup_applies_a_new_plan_dir(daemon):
    # the example plans that need no [database NAME] (a copy step's
    # source must be configured, or the reload is refused)
    plans = sorted(p for p in (ROOT / "conf" / "plans").glob("*.plan")
                   if not re.search(r"^source\s*=", p.read_text(), re.M))
    if not plans:
        pytest.skip("no example plans in conf/plans yet")
    new_dir = os.path.join(str(daemon.dir), "plans2")
    os.mkdir(new_dir)
    for p in plans:
        shutil.copy(p, new_dir)
    assert daemon.status()["plans"] == 0
    daemon.write_conf(plan_dir=new_dir)
    daemon.reload()
    wait_for("the plans of the new plan_dir",
             lambda: daemon.status()["plans"] == len(plans), timeout=10)
    daemon.stop()


def test_reload_method(daemon):
    good = daemon.conf_text()
    daemon.write_conf(good.replace("[daemon]\n", "[daemon]\nbogus_key = 1\n", 1))
    reply = daemon.call("io.migrated.Reload")
    assert reply.get("error") == "io.migrated.ReloadFailed", reply
    assert "%s:3:" % daemon.conf_path in reply["parameters"]["message"], reply
    daemon.write_conf(good)
    reply = daemon.call("io.migrated.Reload")
    assert "error" not in reply, reply
    assert reply.get("parameters", {}) == {}, reply
    daemon.stop()


# --- stopping ---------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT],
                         ids=["SIGTERM", "SIGINT"])
def test_stop_signal_exits_0_and_removes_socket(daemon, sig):
    # An idle client and a client halfway through a message do not hold it up.
    idle = daemon.client()
    half = daemon.client()
    half.send_bytes(b'{"method": "io.migrated.GetSt')
    try:
        daemon.expected_exit = True
        started = time.monotonic()
        daemon.signal(sig)
        rc = daemon.proc.wait(10)
        assert rc == 0, daemon.log()
        assert time.monotonic() - started < 5
    finally:
        idle.close()
        half.close()
    assert not os.path.exists(daemon.socket)


def test_stale_socket_after_crash(make_daemon):
    d = make_daemon()
    d.start()
    d.expected_exit = True
    d.signal(signal.SIGKILL)
    d.proc.wait(5)
    assert os.path.exists(d.socket)         # left behind by the crash
    d.start()
    assert d.status()["database"] == "connected"
    d.stop()


@pytest.mark.parametrize("mode", [None, "0600"])
def test_socket_mode(make_daemon, mode):
    d = make_daemon(**({"socket_mode": mode} if mode else {}))
    d.start()
    st = os.stat(d.socket)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == int(mode or "0660", 8)
    d.stop()


# --- systemd ----------------------------------------------------------------------

def test_socket_activation(make_daemon):
    d = make_daemon()
    configured = d.settings["socket"]
    d.start(activate=os.path.join(str(d.dir), "activated.sock"))
    status = d.status()
    assert status["database"] == "connected"
    assert status["pid"] == d.pid
    assert not os.path.exists(configured), (
        "the daemon bound its own socket instead of using the passed one")
    d.stop()


class NotifySocket:
    """A NOTIFY_SOCKET the test reads sd_notify() messages from."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.seen = []      # (arrival time, line)

    def close(self):
        self.sock.close()

    def receive(self, timeout):
        """Reads one datagram; returns its lines, or None on timeout."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return None
        now = time.monotonic()
        lines = data.decode("utf-8", "replace").splitlines()
        self.seen += [(now, line) for line in lines]
        return lines

    def wait_for(self, line, timeout=15, daemon=None):
        """Reads until a datagram holds line; returns its lines."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.receive(min(0.2, deadline - time.monotonic()))
            if lines is not None and line in lines:
                return lines
            if daemon is not None:
                daemon.check_alive()
        pytest.fail("no %s on NOTIFY_SOCKET within %ss; got %r"
                    % (line, timeout, [l for _, l in self.seen]))

    def lines(self):
        return [l for _, l in self.seen]


@pytest.fixture
def notify_daemon(make_daemon):
    d = make_daemon()
    ns = NotifySocket(os.path.join(str(d.dir), "notify"))
    yield d, ns
    ns.close()


def test_notify_ready_status_stopping(notify_daemon):
    d, ns = notify_daemon
    d.start(env={"NOTIFY_SOCKET": ns.path}, wait=False)
    ns.wait_for("READY=1", daemon=d)
    # READY=1 means the socket accepts and the database answered.
    status = d.status()
    assert status["database"] == "connected", status
    if not any(l.startswith("STATUS=") for l in ns.lines()):
        wait_for("a STATUS= line", lambda: ns.receive(0.2) is not None and any(
            l.startswith("STATUS=") for l in ns.lines()), timeout=5)
    d.stop()
    ns.wait_for("STOPPING=1", timeout=5)


def test_notify_reloading(notify_daemon):
    d, ns = notify_daemon
    d.start(env={"NOTIFY_SOCKET": ns.path}, wait=False)
    ns.wait_for("READY=1", daemon=d)
    d.reload()
    ns.wait_for("RELOADING=1", timeout=5, daemon=d)
    ns.wait_for("READY=1", timeout=5, daemon=d)
    d.stop()


def test_watchdog_pings(notify_daemon):
    d, ns = notify_daemon
    d.start(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "200000"},
            wait=False)
    ns.wait_for("READY=1", daemon=d)
    start = time.monotonic()
    pings = []
    while time.monotonic() - start < 1.5:
        lines = ns.receive(0.3)
        if lines and "WATCHDOG=1" in lines:
            pings.append(time.monotonic())
    assert len(pings) >= 5, "only %d WATCHDOG=1 in 1.5 s; got %r" % (
        len(pings), ns.lines())
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert max(gaps) < 0.2, "watchdog gap of %.3f s (WATCHDOG_USEC is 0.2 s)" % (
        max(gaps))
    d.stop()


def test_reloading_carries_monotonic_usec(notify_daemon):
    d, ns = notify_daemon
    d.start(env={"NOTIFY_SOCKET": ns.path}, wait=False)
    ns.wait_for("READY=1", daemon=d)
    before = time.monotonic()
    d.reload()
    lines = ns.wait_for("RELOADING=1", timeout=5, daemon=d)
    usec = [l for l in lines if l.startswith("MONOTONIC_USEC=")]
    assert len(usec) == 1, lines
    # CLOCK_MONOTONIC, the clock Python's monotonic() reads on Linux
    assert abs(int(usec[0].split("=")[1]) / 1e6 - before) < 5, usec
    ns.wait_for("READY=1", timeout=5, daemon=d)
    d.stop()


def test_no_ready_after_sighup_before_the_database_answered(pg, notify_daemon):
    d, ns = notify_daemon
    d.write_conf(conninfo="host=127.0.0.1 port=%d dbname=x connect_timeout=2"
                 % free_port())
    d.start(env={"NOTIFY_SOCKET": ns.path}, wait=False)
    ns.wait_for("STATUS=connecting to the database", timeout=10, daemon=d)
    d.reload()
    ns.wait_for("RELOADING=1", timeout=5, daemon=d)
    time.sleep(1)
    while ns.receive(0.2) is not None:
        pass
    assert "READY=1" not in ns.lines(), ns.lines()
    d.stop()


def test_debug_flag_survives_a_reload(make_daemon):
    d = make_daemon(log_level="warning")
    d.start(args=["-d"])
    d.wait_log("debug:", timeout=10)
    d.reload()
    d.wait_log("reloaded", timeout=10)
    mark = len(d.log())
    # a call makes the daemon log at debug level
    d.status()
    d.call("io.migrated.NoSuchMethod", {})
    wait_for("debug messages after the reload",
             lambda: "debug:" in d.log()[mark:], 10)
    d.stop()
