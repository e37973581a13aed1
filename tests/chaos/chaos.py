#!/usr/bin/python3
"""make chaos: kill the daemon with SIGKILL at random moments and restart
PostgreSQL while a multi-tenant migration runs, then check that every row
was changed exactly once and every job succeeded.

The plan's apply increments a counter column, so a batch applied twice (or
skipped) shows as a counter of 2 (or 0). Prints what it did and what it
found; exits 1 if anything is off.

Environment: CHAOS_KILLS (default 25), CHAOS_PG_RESTARTS (default 2),
CHAOS_TENANTS (default 40), CHAOS_ROWS (default 200000), CHAOS_SEED.
"""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / os.environ.get("MIGRATED_BUILD", "build")
PGCLUSTER = ROOT / "scripts" / "pgcluster.sh"

KILLS = int(os.environ.get("CHAOS_KILLS", "25"))
PG_RESTARTS = int(os.environ.get("CHAOS_PG_RESTARTS", "2"))
TENANTS = int(os.environ.get("CHAOS_TENANTS", "40"))
ROWS = int(os.environ.get("CHAOS_ROWS", "200000"))
SEED = int(os.environ.get("CHAOS_SEED", str(int(time.time()))))

PLAN = """\
[plan]
description = chaos: every row's counter must end at exactly 1
tenants = SELECT DISTINCT tenant_id FROM chaos_a ORDER BY 1

[step a]
table = chaos_a
key = id
where = tenant_id = :tenant
batch = 50
apply = UPDATE chaos_a SET n = n + 1
        WHERE tenant_id = :tenant AND id > :lo AND id <= :hi

[step b]
after = a
table = chaos_b
key = id
where = tenant_id = :tenant
batch = 50
apply = UPDATE chaos_b SET n = n + 1
        WHERE tenant_id = :tenant AND id > :lo AND id <= :hi
"""


def say(msg):
    print("chaos: " + msg, flush=True)


def sh(*cmd, check=True):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed: %s%s" % (cmd, p.stdout, p.stderr))
    return p.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(sock, method, params=None, timeout=5):
    """One Varlink call; returns the reply dict, or None if unreachable."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(str(sock))
            s.sendall(json.dumps({"method": method,
                                  "parameters": params or {}}).encode() + b"\0")
            buf = b""
            while not buf.endswith(b"\0"):
                chunk = s.recv(65536)
                if not chunk:
                    return None
                buf += chunk
            return json.loads(buf[:-1])
    except OSError:
        return None


class Run:
    def __init__(self, work):
        self.work = work
        self.port = free_port()
        self.pgdir = work / "pg"
        self.sock = work / "io.migrated"
        self.conf = work / "migrated.conf"
        self.log = open(work / "migrated.log", "ab")
        self.daemon = None
        self.conninfo = "host=%s/sock port=%d dbname=migrated user=postgres" % (
            self.pgdir, self.port)

    def psql(self, sql):
        return sh("psql", "-X", "-qtA", "-v", "ON_ERROR_STOP=1", "-d",
                  self.conninfo, "-c", sql).strip()

    def setup(self):
        sh("sh", PGCLUSTER, "start", self.pgdir, self.port)
        per = ROWS // 2
        self.psql("""
            CREATE TABLE chaos_a (id bigint PRIMARY KEY, tenant_id text NOT NULL,
                                  n integer NOT NULL DEFAULT 0);
            CREATE TABLE chaos_b (LIKE chaos_a INCLUDING ALL);
            INSERT INTO chaos_a SELECT g, 't' || (g %% %d), 0
                FROM generate_series(1, %d) g;
            INSERT INTO chaos_b SELECT g, 't' || (g %% %d), 0
                FROM generate_series(1, %d) g;
            CREATE INDEX ON chaos_a (tenant_id, id);
            CREATE INDEX ON chaos_b (tenant_id, id);
            ANALYZE;""" % (TENANTS, per, TENANTS, per))
        plans = self.work / "plans"
        plans.mkdir()
        (plans / "chaos.plan").write_text(PLAN)
        self.conf.write_text(
            "[daemon]\nsocket = %s\nplan_dir = %s\nworkers = 2\n"
            "reconnect_max_ms = 500\n[target]\nconninfo = %s\n"
            % (self.sock, plans, self.conninfo))

    def start_daemon(self):
        self.daemon = subprocess.Popen(
            [str(BUILD / "migrated"), "-c", str(self.conf)],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            r = call(self.sock, "io.migrated.GetStatus")
            if r and r["parameters"]["status"]["database"] == "connected":
                return
            time.sleep(0.05)
        raise RuntimeError("daemon did not become ready")

    def kill_daemon(self):
        self.daemon.send_signal(signal.SIGKILL)
        self.daemon.wait()

    def counts(self):
        r = call(self.sock, "io.migrated.GetStatus")
        return r["parameters"]["status"]["jobs"] if r else None

    def stop(self):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                self.daemon.wait(10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
        sh("sh", PGCLUSTER, "destroy", self.pgdir, check=False)


def main():
    random.seed(SEED)
    work = Path(tempfile.mkdtemp(prefix="chaos.", dir="/tmp"))
    os.chmod(work, 0o755)
    run = Run(work)
    say("seed %d; %d rows over %d tenants, batches of 50, 2 workers"
        % (SEED, ROWS, TENANTS))
    say("%d SIGKILLs of the daemon and %d PostgreSQL restarts during the run"
        % (KILLS, PG_RESTARTS))
    ok = False
    try:
        run.setup()
        run.start_daemon()
        r = call(run.sock, "io.migrated.Submit", {"plan": "chaos", "all": True})
        jobs = r["parameters"]["jobs"]
        say("submitted %d jobs" % len(jobs))
        restarts_at = sorted(random.sample(range(KILLS), min(PG_RESTARTS,
                                                              KILLS)))
        for i in range(KILLS):
            time.sleep(random.uniform(0.05, 0.6))
            if i in restarts_at:
                sh("sh", PGCLUSTER, "stop", run.pgdir)
                time.sleep(random.uniform(0.2, 1.0))
                sh("sh", PGCLUSTER, "start", run.pgdir, run.port)
                alive = run.daemon.poll() is None
                say("PostgreSQL restarted under the running daemon; daemon "
                    "%s" % ("still running" if alive else "EXITED"))
                if not alive:
                    raise RuntimeError("the daemon exited when PostgreSQL "
                                       "restarted")
                time.sleep(random.uniform(0.5, 1.5))
            run.kill_daemon()
            run.start_daemon()
            c = run.counts() or {}
            say("kill %d: SIGKILL, restarted; %s succeeded, %s queued, "
                "%s running" % (i + 1, c.get("succeeded"), c.get("queued"),
                                c.get("running")))
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            c = run.counts()
            if c and c["queued"] == 0 and c["running"] == 0:
                break
            time.sleep(0.5)
        states = run.psql("SELECT state || ':' || count(*) FROM migrated.jobs"
                          " GROUP BY state ORDER BY 1").split()
        bad = run.psql("SELECT count(*) FROM (SELECT n FROM chaos_a UNION ALL"
                       " SELECT n FROM chaos_b) s WHERE n <> 1")
        hist = run.psql("SELECT string_agg(n || ' x' || c, ', ') FROM ("
                        "SELECT n, count(*) c FROM (SELECT n FROM chaos_a"
                        " UNION ALL SELECT n FROM chaos_b) s GROUP BY n"
                        " ORDER BY n) h")
        say("jobs: %s" % ", ".join(states))
        say("counters: %s (value x rows)" % hist)
        ok = (bad == "0" and states == ["succeeded:%d" % len(jobs)])
        say("%s: %s rows not changed exactly once"
            % ("PASS" if ok else "FAIL", bad))
        if not ok:
            say("daemon log: %s" % (work / "migrated.log"))
    finally:
        run.stop()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
