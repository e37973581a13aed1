"""Behind PgBouncer in transaction mode (issue 11, docs/DECISIONS.md): the
job lock is a session advisory lock, which stays on whichever server
connection ran the claim, so the daemon's batches must refuse to commit
from a server session that does not hold it. The test runs a real
PgBouncer (Debian's pgbouncer package) with pool_mode = transaction between
the daemon and PostgreSQL, has PgBouncer move the daemon's worker to new
server connections (RECONNECT on its admin console) while a job runs, and
checks that the job fails with the error that names the cause, having
committed whole batches only.
"""

import os
import shutil
import subprocess

import pytest

from conftest import PSQL, free_port, run, short_tmpdir, wait_for
from jobs_util import (
    counter_plan, counter_step, make_tables, show, submit, write_plan)

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
ROWS = 2000
BATCH = 10


class Bouncer:
    def __init__(self, pg):
        self.dir = short_tmpdir("mdpgb.")
        self.port = free_port()
        conf = self.dir / "pgbouncer.ini"
        conf.write_text(
            "[databases]\n"
            "migrated = host=%s/sock port=%d dbname=migrated user=postgres\n"
            "[pgbouncer]\n"
            "listen_addr =\n"
            "listen_port = %d\n"
            "unix_socket_dir = %s\n"
            "auth_type = any\n"
            "admin_users = postgres\n"
            "pool_mode = transaction\n"
            "default_pool_size = 4\n"
            "ignore_startup_parameters = extra_float_digits\n"
            "logfile = %s/pgbouncer.log\n"
            % (pg.dir, pg.port, self.port, self.dir, self.dir))
        cmd = [PGBOUNCER, str(conf)]
        if os.geteuid() == 0:            # it refuses to run as root
            shutil.chown(self.dir, "postgres")
            cmd[1:1] = ["-u", "postgres"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.conninfo = ("host=%s port=%d dbname=migrated user=postgres"
                         % (self.dir, self.port))
        wait_for("pgbouncer to accept connections",
                 lambda: self.admin("SHOW VERSION") is not None, 20)

    def admin(self, command):
        rc, out, _ = run([PSQL, "-X", "-tA", "-h", str(self.dir), "-p",
                          str(self.port), "-U", "postgres", "-d",
                          "pgbouncer", "-c", command])
        return out if rc == 0 else None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def bouncer(pg):
    if not os.access(PGBOUNCER, os.X_OK):
        pytest.skip("pgbouncer is not installed (scripts/deps.sh installs it)")
    b = Bouncer(pg)
    yield b
    b.stop()


def test_transaction_pooling_is_refused_with_a_clear_error(
        make_daemon, pg, bouncer):
    make_tables(pg, ["acme"], ROWS)
    d = make_daemon(workers=1, conninfo=bouncer.conninfo)
    write_plan(d, "pooled", counter_plan(
        [counter_step("one", "t1", batch=BATCH, sleep=0.03)]))
    d.start()
    (job,) = submit(d, "pooled", ["acme"])
    wait_for("the job to start", lambda: show(d, job)["state"] != "queued",
             30)
    # new server connections for every transaction from now on: the one
    # that ran the claim (and holds the lock) goes away
    assert bouncer.admin("RECONNECT migrated") is not None
    j = wait_for("the job to fail",
                 lambda: (lambda s: s if s["state"] in (
                     "failed", "succeeded") else None)(show(d, job)), 60)
    assert j["state"] == "failed", j
    assert "does not hold the job's lock" in j["error"], j["error"]
    assert "PgBouncer pool_mode = transaction" in j["error"]
    # whole batches only: the rows counted done are exactly the rows done
    done = j["steps"][0]["rows_done"]
    assert done < ROWS and done % BATCH == 0
    assert pg.psql("SELECT count(*) FROM t1 WHERE n = 1").strip() == str(done)
    assert pg.psql("SELECT count(*) FROM t1 WHERE n > 1").strip() == "0"
    d.check_alive()
