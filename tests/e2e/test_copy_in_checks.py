"""A check or verify whose SQL is a COPY (or any statement that returns no
rows) fails with a clear error and never wedges the daemon's connection."""

import time

from jobs_util import write_plan, reload
from safety_util import ok, run_job

PLAN = """
[plan]
tenants = SELECT 'acme'

[check copy]
sql = %s
expect = 1

[step s]
table = t_copy
key = id
apply = UPDATE t_copy SET n = n + 1 WHERE id > :lo AND id <= :hi
"""


def test_copy_as_check_fails_clearly(pg, make_daemon):
    pg.psql("DROP TABLE IF EXISTS t_copy; CREATE TABLE t_copy (id int "
            "PRIMARY KEY, n int); INSERT INTO t_copy SELECT i, 0 FROM "
            "generate_series(1, 10) i")
    d = make_daemon()
    d.start()
    write_plan(d, "out", PLAN % "COPY (SELECT 1) TO STDOUT")
    write_plan(d, "into", PLAN % "COPY t_copy FROM STDIN")
    write_plan(d, "cmd", PLAN % "UPDATE t_copy SET n = n")
    reload(d)
    for name, said in (("out", "it ran as COPY 1"),
                       ("into", "COPY FROM STDIN is not supported"),
                       ("cmd", "it ran as UPDATE 10")):
        t = time.monotonic()
        job = run_job(d, name, "acme", want="failed", timeout=20)
        assert said in job["error"], job["error"]
        assert "nothing was changed" in job["error"] or \
            "could not run" in job["error"], job["error"]
        # the socket answers at once
        t = time.monotonic()
        d.status()
        assert time.monotonic() - t < 1.0
    assert pg.psql("SELECT sum(n) FROM t_copy").strip() == "0"
    # the connection still works for the next job
    write_plan(d, "good", PLAN % "SELECT 1")
    reload(d)
    run_job(d, "good", "acme", timeout=20)
    assert ok(d, "GetStatus")["status"]["database"] == "connected"
