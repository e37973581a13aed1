"""Exactly-once batches under failure (issue 3, "State and batches" and
"Scheduling"): kill -9 of the daemon at random instants, a PostgreSQL
restart in the middle of a run, and two daemons sharing one database.

Every plan here increments a counter column once per row; afterwards every
counter must be exactly 1 (0 would be a skipped row, 2 a repeated one) and
every step must have committed exactly ceil(rows / batch) batches.
"""

import random
import time

from conftest import wait_for
from jobs_util import (
    assert_counters, batches_for, counter_plan, counter_step, kill9,
    make_tables, show, submit, tenant_name, wait_state, write_plan)

TENANTS = [tenant_name(i) for i in range(20)]
ROWS = 2000
BATCH = 20
SLEEP = 0.003            # seconds per batch: a run lasts a few seconds


def crash_plan(sleep=SLEEP):
    return counter_plan([counter_step("one", "t1", batch=BATCH,
                                      sleep=sleep)])


def rows_done(pg):
    """Rows committed so far, from the state tables."""
    return int(pg.psql("SELECT coalesce(sum(rows_done), 0)"
                       " FROM migrated.job_steps"))


def assert_exactly_once(daemon, pg, ids, tenants, rows):
    jobs = wait_state(daemon, ids, timeout=60)
    for j in jobs.values():
        step = j["steps"][0]
        assert (step["state"], step["rows_done"], step["batches"]) == (
            "done", rows, batches_for(rows, BATCH)), j
    assert_counters(pg, tenants, rows)


def test_kill9_at_random_instants_loses_and_repeats_nothing(make_daemon, pg):
    seed = int(time.time())
    rnd = random.Random(seed)
    print("random seed", seed)
    make_tables(pg, TENANTS, ROWS)
    d = make_daemon(workers=2)
    write_plan(d, "crash", crash_plan())
    d.start()
    ids = submit(d, "crash", TENANTS)
    total = len(TENANTS) * ROWS
    kills = []
    while len(kills) < 7:
        time.sleep(rnd.uniform(0.02, 0.5))
        done = rows_done(pg)
        assert done < total, (
            "the run ended after %d kills: make it slower" % len(kills))
        kill9(d)
        kills.append(done)
        d.start()
    print("rows done at each kill:", kills)
    assert kills == sorted(kills), kills
    assert_exactly_once(d, pg, ids, TENANTS, ROWS)


def test_sigterm_mid_run_then_restart_resumes(make_daemon, pg):
    tenants = TENANTS[:4]
    rows = 1000
    make_tables(pg, tenants, rows)
    d = make_daemon(workers=2)
    write_plan(d, "crash", crash_plan())
    d.start()
    ids = submit(d, "crash", tenants)
    wait_for("some progress", lambda: rows_done(pg) >= 4 * BATCH, 10)
    d.stop()                    # exit 0 within the conftest's bound
    stopped = rows_done(pg)
    assert stopped < len(tenants) * rows, "the run ended too soon"
    # Nothing runs while it is stopped; what was committed is consistent.
    time.sleep(0.3)
    assert rows_done(pg) == stopped
    done = pg.psql("SELECT count(*) FROM t1 WHERE n = 1").strip()
    assert int(done) == stopped
    d.start()
    assert_exactly_once(d, pg, ids, tenants, rows)


def test_postgres_restart_during_a_run(make_daemon, pg):
    tenants = TENANTS[:6]
    rows = 1000
    make_tables(pg, tenants, rows)
    d = make_daemon(workers=2)
    write_plan(d, "crash", crash_plan())
    d.start()
    ids = submit(d, "crash", tenants)
    wait_for("some progress", lambda: rows_done(pg) >= 2 * BATCH, 10)
    pg.restart()
    assert rows_done(pg) < len(tenants) * rows, "the run ended too soon"
    d.wait_log(r"database connection lost", timeout=10)
    assert_exactly_once(d, pg, ids, tenants, rows)
    for job in ids:
        assert show(d, job)["error"] is None
    d.check_alive()


def test_two_daemons_share_the_queue(make_daemon, pg):
    make_tables(pg, TENANTS, 500)
    d1 = make_daemon(workers=2)
    d2 = make_daemon(workers=2)
    for d in (d1, d2):
        # About 0.3 s per job: d2 finds queued jobs at its first tick.
        write_plan(d, "crash", crash_plan(sleep=0.01))
        d.start()
    ids = submit(d1, "crash", TENANTS)
    assert_exactly_once(d1, pg, ids, TENANTS, 500)
    # Both took part (d2 found the jobs on its own).
    for d in (d1, d2):
        assert "job started" in d.log(), d.log()


def test_survivor_takes_over_the_jobs_of_a_killed_daemon(make_daemon, pg):
    tenants = TENANTS[:8]
    rows = 1000
    make_tables(pg, tenants, rows)
    d1 = make_daemon(workers=2)
    d2 = make_daemon(workers=2)
    for d in (d1, d2):
        write_plan(d, "crash", crash_plan())
        d.start()
    ids = submit(d1, "crash", tenants)
    wait_for("some progress", lambda: rows_done(pg) >= 4 * BATCH, 10)
    kill9(d1)
    assert rows_done(pg) < len(tenants) * rows, "the run ended too soon"
    assert_exactly_once(d2, pg, ids, tenants, rows)
