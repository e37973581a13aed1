"""Several daemons on one queue (issue 11): three daemons share one state
database and run a multi-tenant migration while the test kills one of them
with SIGKILL at random instants, for about a minute, and starts it again.

Afterwards:
- every job succeeded;
- every row was done exactly once: each row's counter n (incremented by
  every batch that covers the row, like test_copy.py's merge counter) is 1,
  the counts per tenant are right and a checksum of every row equals the
  one computed before the run from what the plan must produce;
- no plan and tenant was ever run by two daemons at once: the batch record
  (migrated.batches: runner, server session and time range of every
  committed batch, written in the batch's own transaction) shows no two
  batches of one job whose time ranges overlap, while the jobs did change
  hands between daemons.

Nothing here depends on timing except generous timeouts: the kills stop
after KILL_FOR seconds or when every job has ended, whichever is first.
"""

import os
import random
import signal
import time

from jobs_util import (
    batches_for, counter_plan, counter_step, make_tables, submit,
    tenant_name, wait_state, write_plan)

TENANTS = [tenant_name(i) for i in range(12)]
ROWS = 1200
BATCH = 20
SLEEP = 0.12             # seconds per batch: the run outlasts the kills
KILL_FOR = 45            # seconds of killing
DAEMONS = 3
TABLES = ("t1", "t2")


def fleet_plan():
    return counter_plan([
        counter_step("one", "t1", batch=BATCH, sleep=SLEEP, org=True),
        counter_step("two", "t2", after="one", batch=BATCH, sleep=SLEEP,
                     org=True)])


def checksum(pg, table, expected=False):
    """md5 of every row (id, tenant, n, org) of table; expected=True: of
    what the plan must leave (n = 1 and the tenant's org), from tmap."""
    row = ("t.id || '/' || t.tenant_id || '/' || %s || '/' || %s"
           % (("1", "m.org") if expected
              else ("t.n", "coalesce(t.org::text, '-')")))
    return pg.psql("SELECT count(*) || ':' || md5(string_agg(%s, ','"
                   " ORDER BY t.id)) FROM %s t JOIN tmap m"
                   " USING (tenant_id)" % (row, table)).strip()


def rows_done(pg):
    return int(pg.psql("SELECT coalesce(sum(rows_done), 0)"
                       " FROM migrated.job_steps"))


def unfinished(pg):
    return int(pg.psql("SELECT count(*) FROM migrated.jobs"
                       " WHERE state IN ('queued', 'running')"))


def sigkill(d):
    d.expected_exit = True
    os.kill(d.pid, signal.SIGKILL)
    d.proc.wait(30)


def test_three_daemons_killed_at_random_run_every_row_once(make_daemon, pg):
    seed = int(time.time())
    rnd = random.Random(seed)
    print("random seed", seed)
    make_tables(pg, TENANTS, ROWS, tables=TABLES)
    want = {t: checksum(pg, t, expected=True) for t in TABLES}
    daemons = [make_daemon(workers=2) for _ in range(DAEMONS)]
    for d in daemons:
        write_plan(d, "fleet", fleet_plan())
        d.start()
    ids = submit(daemons[0], "fleet", TENANTS)
    total = len(TENANTS) * ROWS * len(TABLES)

    kills = []
    start = time.monotonic()
    while time.monotonic() - start < KILL_FOR and unfinished(pg) > 0:
        time.sleep(rnd.uniform(0.2, 2.5))
        victim = rnd.choice(daemons)
        done = rows_done(pg)
        sigkill(victim)
        kills.append(done)
        if rnd.random() < 0.3:
            time.sleep(rnd.uniform(0.1, 1.5))   # down a while
        victim.start()
    print("%d kills; rows done at each: %s" % (len(kills), kills))
    mid_run = [k for k in kills if k < total]
    assert len(mid_run) >= 3, (
        "only %d kills during the run: make it slower" % len(mid_run))

    jobs = wait_state(daemons[0], ids, timeout=300)
    for d in daemons:
        d.check_alive()

    # every job succeeded, every step committed exactly its batches
    for j in jobs.values():
        assert j["state"] == "succeeded", j
        for s in j["steps"]:
            assert (s["state"], s["rows_done"], s["batches"]) == (
                "done", ROWS, batches_for(ROWS, BATCH)), j
    # every row exactly once: counts, per-row counters and checksums
    for t in TABLES:
        per_tenant = pg.psql("SELECT string_agg(tenant_id || '=' || c, ','"
                             " ORDER BY tenant_id) FROM (SELECT tenant_id,"
                             " count(*) c FROM %s WHERE n = 1 GROUP BY 1) x"
                             % t).strip()
        assert per_tenant == ",".join("%s=%d" % (x, ROWS) for x in TENANTS)
        assert pg.psql("SELECT count(*) FROM %s WHERE n <> 1" % t).strip() \
            == "0", "rows done twice or never in %s" % t
        assert checksum(pg, t) == want[t]

    # every committed batch is on record, with its runner and session
    recorded = int(pg.psql(
        "SELECT count(*) FROM migrated.batches b JOIN migrated.jobs j"
        " ON j.id = b.job_id WHERE j.plan = 'fleet'"))
    steps = len(TENANTS) * len(TABLES)
    assert recorded >= steps * batches_for(ROWS, BATCH)
    assert int(pg.psql("SELECT count(*) FROM migrated.batches"
                       " WHERE owner IS NULL")) == 0

    # no plan+tenant ever ran in two places at once: each batch of a job
    # began after the one before it (in time) had ended
    overlaps = pg.psql(
        "SELECT string_agg(format('job %s: %s (%s) began %s before %s (%s)"
        " ended %s', job_id, owner, pid, began, prev_owner, prev_pid,"
        " prev_ended), E'\\n') FROM ("
        " SELECT b.job_id, b.owner, b.pid, b.began, lag(b.owner) OVER w"
        "  AS prev_owner, lag(b.pid) OVER w AS prev_pid, lag(b.ended)"
        "  OVER w AS prev_ended"
        " FROM migrated.batches b JOIN migrated.jobs j ON j.id = b.job_id"
        " WINDOW w AS (PARTITION BY j.plan, j.tenant"
        "  ORDER BY b.began, b.ended)) x"
        " WHERE prev_ended > began").strip()
    assert overlaps == "", overlaps
    # ... and that is a real claim: jobs moved between daemons and
    # sessions, and every daemon ran batches
    moved = int(pg.psql(
        "SELECT count(*) FROM (SELECT job_id FROM migrated.batches"
        " GROUP BY job_id HAVING count(DISTINCT pid) > 1) x"))
    assert moved >= 1, "no job changed hands: the check proves nothing"
    hosts = pg.psql("SELECT count(DISTINCT split_part(owner, ':', 2))"
                    " FROM migrated.batches").strip()
    assert int(hosts) >= DAEMONS, "owners: %s" % hosts
    # the audit log agrees: every job ended succeeded, by some runner
    ended = pg.psql("SELECT count(DISTINCT job_id) FROM migrated.audit"
                    " WHERE action = 'job succeeded' AND job_id = ANY (%s)"
                    % ("ARRAY[%s]::bigint[]" % ",".join(map(str, ids))))
    assert int(ended) == len(ids)
