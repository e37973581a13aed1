"""The Prometheus endpoint ([metrics] listen): the page after a real run,
promtool's check, hostile HTTP clients that must not stall the loop, and a
real Prometheus server (Debian's prometheus package) scraping a run."""

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import MIGRATED, free_port, run, short_tmpdir, wait_for
from jobs_util import (counter_plan, counter_step, make_tables, reload,
                       submit, tenant_name, timed_status, wait_state,
                       write_plan)

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")


def metrics_daemon(make_daemon, extra="", **overrides):
    """A daemon (not started) whose [metrics] listen is a free port; extra
    is more configuration text."""
    d = make_daemon(**overrides)
    d.metrics_port = free_port()
    d.write_conf(d.conf_text() + "\n[metrics]\nlisten = 127.0.0.1:%d\n"
                 % d.metrics_port + extra)
    return d


def get(d, path="/metrics", method="GET", timeout=5):
    """(status, content type, body) of an HTTP request to the endpoint."""
    req = urllib.request.Request("http://127.0.0.1:%d%s"
                                 % (d.metrics_port, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def samples(text):
    """{(name, frozenset of labels): value} of a text exposition page."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        assert m, "not a sample line: %r" % line
        labels = frozenset(re.findall(r'([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"',
                                      m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(page, name, **labels):
    return samples(page).get((name, frozenset(labels.items())))


def run_plan(d, pg, tenants, rows, batch, sleep=None):
    make_tables(pg, tenants, rows)
    write_plan(d, "count", counter_plan([counter_step("s1", batch=batch,
                                                      sleep=sleep)]))
    reload(d)
    return submit(d, "count", tenants)


def test_listen_must_be_a_numeric_address(make_daemon):
    d = make_daemon()
    d.write_conf(d.conf_text() + "\n[metrics]\nlisten = localhost:9187\n")
    rc, out, err = run([str(MIGRATED), "-n", "-c", d.conf_path])
    assert rc == 1, (out, err)
    line = len(d.conf_text().splitlines()) + 3
    assert re.search(r"%s:%d: listen: .*'localhost' is not a numeric IPv4"
                     % (re.escape(d.conf_path), line), err), err
    d.write_conf(d.conf_text() + "\n[metrics]\nlisten = 127.0.0.1:99999\n")
    rc, out, err = run([str(MIGRATED), "-n", "-c", d.conf_path])
    assert rc == 1 and "port from 1 to 65535" in err, err


def test_port_in_use_stops_the_start_with_a_message(make_daemon):
    d = metrics_daemon(make_daemon)
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", d.metrics_port))
        s.listen()
        d.start(wait=False)
        d.expected_exit = True
        assert d.proc.wait(15) == 1
    assert re.search(r"\[metrics\] listen: cannot listen on 127\.0\.0\.1:%d"
                     % d.metrics_port, d.log()), d.log()


def test_page_after_a_run(make_daemon, pg):
    # a second database that answers, and one that never will
    d = metrics_daemon(make_daemon, extra=(
        "\n[database other]\nconninfo = %s\n"
        "\n[database gone]\nconninfo = host=127.0.0.1 port=%d"
        " connect_timeout=1\n" % (pg.conninfo, free_port()))).start()
    tenants = [tenant_name(i) for i in range(3)]
    ids = run_plan(d, pg, tenants, rows=250, batch=100)
    wait_state(d, ids)
    reply = d.call("io.migrated.ShowJob", {"id": 999999})
    assert reply["error"] == "io.migrated.NoSuchJob"
    d.call("io.migrated.NoSuchMethod", {})

    def page_with_counts():
        status, ctype, page = get(d)
        assert status == 200
        assert ctype.startswith("text/plain; version=0.0.4")
        ok = value(page, "migrated_jobs", state="succeeded") == 3
        return page if ok else None
    page = wait_for("the job counts on the page", page_with_counts, 10)

    rows = dict(plan="count", step="s1")
    # 3 tenants x 250 rows in batches of 100: 3 x 3 batches
    assert value(page, "migrated_rows_total", **rows) == 750
    assert value(page, "migrated_batches_total", **rows) == 9
    assert value(page, "migrated_batch_duration_seconds_count", **rows) == 9
    assert value(page, "migrated_batch_duration_seconds_bucket",
                 le="+Inf", **rows) == 9
    assert value(page, "migrated_batch_duration_seconds_sum", **rows) > 0
    assert value(page, "migrated_batch_size", **rows) == 100
    assert value(page, "migrated_jobs", state="failed") == 0
    assert value(page, "migrated_database_state", database="target",
                 state="connected") == 1
    assert value(page, "migrated_database_state", database="target",
                 state="disconnected") == 0
    assert value(page, "migrated_database_state", database="other",
                 state="connected") == 1
    assert value(page, "migrated_database_state", database="gone",
                 state="connected") == 0
    progress = value(page, "migrated_last_progress_timestamp_seconds")
    assert abs(progress - time.time()) < 60
    assert value(page, "migrated_control_calls_total",
                 method="io.migrated.Submit", error="") == 1
    assert value(page, "migrated_control_calls_total",
                 method="io.migrated.ShowJob",
                 error="io.migrated.NoSuchJob") == 1
    # an unknown method name is not a label of its own
    assert value(page, "migrated_control_calls_total", method="unknown",
                 error="org.varlink.service.MethodNotFound") == 1
    assert "NoSuchMethod" not in page
    # nothing throttles here: every kind of reason is there, at 0
    assert "# TYPE migrated_throttle_active gauge" in page
    for kind in ("manual", "load", "critical", "load_failed"):
        assert value(page, "migrated_throttle_active", reason=kind) == 0

    # counters only grow: a second run of the same tenants adds to them
    wait_state(d, submit(d, "count", tenants))
    _, _, page = get(d)
    assert value(page, "migrated_rows_total", **rows) == 1500
    assert value(page, "migrated_batches_total", **rows) == 18


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian prometheus)")
def test_promtool_check_metrics_is_clean(make_daemon, pg):
    d = metrics_daemon(make_daemon).start()
    ids = run_plan(d, pg, [tenant_name(0)], rows=50, batch=20)
    wait_state(d, ids)
    status, _, page = get(d)
    assert status == 200 and "migrated_rows_total{" in page
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=page,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout.strip() == "" \
        and p.stderr.strip() == "", (p.stdout, p.stderr)


def test_only_get_metrics_is_served(make_daemon):
    d = metrics_daemon(make_daemon).start()
    assert get(d, "/")[0] == 404
    assert get(d, "/metrics/x")[0] == 404
    assert get(d, "/metrics", method="POST")[0] == 405
    assert get(d, "/metrics", method="DELETE")[0] == 405
    assert get(d, "/metrics")[0] == 200


def connect(d):
    s = socket.create_connection(("127.0.0.1", d.metrics_port), timeout=10)
    return s


def read_all(s):
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        data += chunk
    return data


def test_hostile_clients_cannot_stall_the_loop(make_daemon):
    d = metrics_daemon(make_daemon).start()
    # one that connects and sends nothing
    silent = connect(d)
    # one that sends a huge header
    huge = connect(d)
    huge.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: "
                 + b"a" * 200000 + b"\r\n\r\n")
    # many at once, each half a request line
    many = []
    for _ in range(300):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", d.metrics_port))
        many.append(s)
    for s in many:
        try:
            s.send(b"GET /met")
        except OSError:
            pass
    # the control socket answers at once all the while
    worst = 0.0
    for _ in range(20):
        elapsed, status = timed_status(d)
        worst = max(worst, elapsed)
        assert status["database"] == "connected"
        time.sleep(0.05)
    assert worst < 0.5, "GetStatus took %.3f s" % worst
    # the huge header is refused, not buffered
    reply = read_all(huge)
    assert reply == b"" or reply.startswith(b"HTTP/1.1 4"), reply[:200]
    # the silent client is dropped after the timeout (5 s)
    t0 = time.monotonic()
    assert read_all(silent) == b""
    assert time.monotonic() - t0 < 15
    for s in many + [silent, huge]:
        s.close()
    # and the endpoint serves again once the crowd is gone

    def serves():
        try:
            return get(d, timeout=2)[0] == 200
        except OSError:
            return False
    wait_for("the endpoint to serve again", serves, 20, interval=0.5)
    d.check_alive()


@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus (Debian package)")
def test_real_prometheus_scrapes_a_rate(make_daemon, pg):
    d = metrics_daemon(make_daemon).start()
    tenants = [tenant_name(i) for i in range(2)]
    # 2 tenants x 40 batches of 10 rows at >= 0.3 s each: 12 s a tenant
    ids = run_plan(d, pg, tenants, rows=400, batch=10, sleep="0.3")
    tmp = short_tmpdir("mdprom.")
    port = free_port()
    conf = tmp / "prometheus.yml"
    conf.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: migrated\n"
        "    static_configs:\n      - targets: ['127.0.0.1:%d']\n"
        % d.metrics_port)
    log = open(tmp / "prometheus.log", "wb")
    prom = subprocess.Popen(
        [PROMETHEUS, "--config.file=%s" % conf,
         "--storage.tsdb.path=%s" % (tmp / "data"),
         "--web.listen-address=127.0.0.1:%d" % port],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL,
        start_new_session=True)
    try:
        query = urllib.parse.urlencode(
            {"query": "sum(rate(migrated_rows_total[10s]))"})
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, query)

        def positive_rate():
            assert prom.poll() is None, (tmp / "prometheus.log").read_text()
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    doc = json.loads(r.read())
            except OSError:
                return None
            assert doc["status"] == "success", doc
            result = doc["data"]["result"]
            if result and float(result[0]["value"][1]) > 0:
                return float(result[0]["value"][1])
            last.append(doc)
            return None
        last = []
        try:
            rate = wait_for("Prometheus to see a rate of rows > 0",
                            positive_rate, 40, interval=0.5)
        except BaseException:
            print((tmp / "prometheus.log").read_text(), last[-1:])
            raise
        assert rate > 0
        wait_state(d, ids, timeout=60)
    finally:
        prom.terminate()
        try:
            prom.wait(10)
        except subprocess.TimeoutExpired:
            prom.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_throttle_families_follow_a_manual_throttle(make_daemon, pg):
    """migrated_throttle_active says which kind of reason holds jobs back,
    and migrated_throttled_seconds_total counts the time they waited."""
    d = metrics_daemon(make_daemon)
    d.start()
    wait_for("the throttle families", lambda: value(
        get(d)[2], "migrated_throttle_active", reason="manual") == 0, 10)
    rc, out, err = d.ctl("throttle", "on", "--reason", "peak hours")
    assert rc == 0, err
    wait_for("the manual throttle on the page", lambda: value(
        get(d)[2], "migrated_throttle_active", reason="manual") == 1, 10)
    [job] = run_plan(d, pg, ["a"], 20, batch=5)
    time.sleep(1.5)   # the job waits at its first gate
    rc, out, err = d.ctl("throttle", "off")
    assert rc == 0, err
    wait_state(d, [job])
    page = get(d)[2]
    assert value(page, "migrated_throttle_active", reason="manual") == 0
    waited = value(page, "migrated_throttled_seconds_total", reason="manual")
    assert waited is not None and waited >= 1.0, page
