"""Control socket limits (issue 12): 5,000 clients at once while a job
runs. Clients past max_clients_per_uid or max_clients get
io.migrated.TooManyClients at once (never a hang), the others are served,
the job goes on, GetStatus stays fast; a client that does not read its
replies is dropped past client_output_max. The daemon raises its open-file
limit to the hard limit, so all this works from a soft limit of 1024."""

import json
import os
import pwd
import resource
import subprocess
import sys
import time
from pathlib import Path

import varlink
from conftest import VALGRIND, clean_env, wait_for
from jobs_util import show
from safety_util import install, ok, submit, wait_ended

E2E_DIR = Path(__file__).resolve().parent
TOO_MANY = "io.migrated.TooManyClients"

# Opens N connections at once, makes one GetInfo call on each, prints what
# came back ({"ok": n, "errors": {name: [parameters, ...]}}), keeps the
# connections open until its stdin closes.
HOLDER = r"""
import json, resource, socket, sys
sys.path.insert(0, sys.argv[1])
import varlink
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
path, n = sys.argv[2], int(sys.argv[3])
socks = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    s.sendall(varlink.encode_call("org.varlink.service.GetInfo"))
    socks.append(s)
out = {"ok": 0, "errors": {}, "closed": 0}
for s in socks:
    buf = b""
    while not buf.endswith(b"\0"):
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            break
        buf += chunk
    if not buf.endswith(b"\0"):
        out["closed"] += 1
        continue
    reply = json.loads(buf[:-1])
    if "error" in reply:
        out["errors"].setdefault(reply["error"], []).append(
            reply.get("parameters"))
    else:
        out["ok"] += 1
print(json.dumps(out), flush=True)
sys.stdin.read()
"""


def hold(socket, n, user=None):
    """Starts a holder of n connections; returns (process, its report)."""
    def drop():
        if user is not None:
            pw = pwd.getpwnam(user)
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
    p = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(E2E_DIR), socket, str(n)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=clean_env({"PYTHONDONTWRITEBYTECODE": "1"}), preexec_fn=drop,
        cwd="/")
    line = p.stdout.readline()
    assert line, "holder of %d connections failed" % n
    return p, json.loads(line)


def release(p):
    p.stdin.close()
    p.wait(30)


SLOW_PLAN = """[plan]
description = a job that takes a while
tenants = SELECT 'acme'

[step slow]
table = lt
key = id
where = true
batch = 10
apply = UPDATE lt SET n = n + 1 FROM (SELECT pg_sleep(0.1)) s
        WHERE id > :lo AND id <= :hi
"""


def start_low_limit(d):
    """Starts d with a soft limit of 1024 open files (the hard one as it
    is): the daemon has to raise it itself. (Not under valgrind, which
    fixes its guest's limit at start and only pretends to raise it.)"""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if VALGRIND:
        d.start()
        return hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    try:
        d.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return hard


def open_files_limit(pid):
    for line in Path("/proc/%d/limits" % pid).read_text().splitlines():
        if line.startswith("Max open files"):
            return [int(x) for x in line.split()[3:5]]
    raise AssertionError("no open-files line")


def test_five_thousand_clients_while_a_job_runs(make_daemon, pg):
    pg.psql("DROP TABLE IF EXISTS lt; CREATE TABLE lt (id bigint PRIMARY"
            " KEY, n integer NOT NULL);"
            " INSERT INTO lt SELECT g, 0 FROM generate_series(1, 400) g")
    d = make_daemon(socket_mode="0666", max_clients=4500,
                    max_clients_per_uid=3000)
    install(d, slow=SLOW_PLAN)
    hard = start_low_limit(d)
    # the daemon's process limit, not the one it was started with
    if not VALGRIND:
        assert open_files_limit(d.pid) == [hard, hard]
    (job,) = submit(d, "slow", ["acme"])
    wait_for("the job to run", lambda: show(d, job)["state"] == "running", 10)

    # an operator's connection, opened before the crowd (one of root's)
    operator = d.client()
    roots, got = hold(d.socket, 3500)
    # the rest of root's 3,000 served; the others told why at once
    assert got["ok"] == 2999 and got["closed"] == 0, got
    assert got["errors"].keys() == {TOO_MANY}, got
    assert got["errors"][TOO_MANY] == [{"limit": 3000, "uid": 0}] * 501
    # nobody fills the rest of the 4,500 in all
    nobodies, got = hold(d.socket, 1500, user="nobody")
    assert got["ok"] == 1500 and got["closed"] == 0, got
    try:
        # 5,000 at once; and past the 4,500, everyone is told why
        extra, got = hold(d.socket, 1000, user="nobody")
        release(extra)
        assert got["ok"] == 0 and got["closed"] == 0, got
        assert got["errors"][TOO_MANY] == [{"limit": 4500}] * 1000, got
        # the job goes on and the operator's calls are answered at once
        t = time.monotonic()
        status = operator.call("io.migrated.GetStatus")
        assert time.monotonic() - t < 1
        assert status["parameters"]["status"]["database"] == "connected"
        reply = operator.call("io.migrated.ShowJob", {"id": job})
        assert reply["parameters"]["job"]["state"] == "running", reply
    finally:
        release(nobodies)
        release(roots)
        operator.close()
    j = wait_ended(d, job, timeout=60)
    assert j["state"] == "succeeded", j
    assert pg.psql("SELECT count(*) FROM lt WHERE n = 1").strip() == "400"
    # everyone gone, root is served again on 3,000 connections
    def served_again():
        p, got = hold(d.socket, 3000)
        release(p)
        return got["ok"] == 3000
    wait_for("root's connections to go", served_again, 30, interval=0.5)


def test_migratectl_says_too_many_clients(make_daemon, pg):
    d = make_daemon(max_clients_per_uid=2).start()
    holder, got = hold(d.socket, 2)
    try:
        assert got["ok"] == 2, got
        rc, out, err = d.ctl("status")
        assert rc != 0
        assert ("the daemon serves its limit of 2 clients for uid 0; try"
                " again later") in err, err
    finally:
        release(holder)


def test_a_client_that_does_not_read_is_dropped(make_daemon, pg):
    d = make_daemon(client_output_max=17825792).start()
    with varlink.Client(d.socket) as c:
        # about 16 KiB a reply: 2,000 of them unread is 32 MiB
        call = varlink.encode_call("org.varlink.service."
                                   "GetInterfaceDescription",
                                   {"interface": "io.migrated"})
        c.send_bytes(call * 2000)
        d.wait_log(r"does not read its replies \(over 17825792 bytes"
                   r" unread\); dropped", timeout=30)
        assert c.is_closed(timeout=10)
    assert d.status()["database"] == "connected"
