"""The in-place batch protocol as issue 12 made it cheaper ("Cheaper per
row"): one bounds query per step gives the row estimate and every range,
and each batch sends its statements pipelined, BEGIN with the step's
statements and the checkpoint with COMMIT.

What that risks, and what each test holds it to:
- rows added while a step runs, after the last known bound or inside a
  range not done yet, are still changed exactly once;
- a kill -9 while the server runs a batch whose COMMIT is already sent
  (pipelined) or not yet sent loses and repeats nothing;
- a failing statement in the pipeline fails the job with the server's
  message, rolls the whole batch back, and leaves the worker's connection
  usable for the next job;
- keys the walk cannot reach (NULL, or at the lowest value) still fail the
  step before anything changes, now that the check rides on the bounds
  query.
"""

from conftest import wait_for
from jobs_util import (
    assert_counters, batches_for, counter_plan, counter_step, counters,
    kill9, make_tables, show, step_of, submit, wait_job, wait_state,
    write_plan)

TENANT = "ten00"


def own_rows(pg, keys, table="t1"):
    """Rows of TENANT with exactly the given keys (make_tables with 0)."""
    pg.psql("INSERT INTO %s (id, tenant_id) SELECT k, '%s' FROM"
            " unnest(ARRAY[%s]::bigint[]) k"
            % (table, TENANT, ",".join(str(k) for k in keys)))


def test_rows_added_while_a_step_runs_are_changed_once(make_daemon, pg):
    make_tables(pg, [TENANT], 0)
    own_rows(pg, range(10, 6010, 10))         # 600 rows, keys 10..6000
    d = make_daemon(workers=1)
    write_plan(d, "grow", counter_plan([counter_step(
        "one", batch=20, sleep=0.02)]))      # 30 batches, about 1 s
    d.start()
    [job] = submit(d, "grow", [TENANT])
    wait_job(d, job, lambda j: step_of(j, "one")["rows_done"] >= 40,
             "two batches done")
    # inside ranges the step has not reached yet, and after its last key
    own_rows(pg, [5995, 5996, 5999, 6001, 9000, 9001])
    [j] = wait_state(d, [job], timeout=60).values()
    assert_counters(pg, [TENANT], 606)
    step = step_of(j, "one")
    assert step["state"] == "done" and step["rows_estimated"] == 600, step
    # the ranges were found for the 600 rows; the 6 new ones rode along
    # in the range they fell in, or in one more found after the last key
    assert step["batches"] == 31, step


def test_kill9_while_a_pipelined_commit_runs(make_daemon, pg):
    make_tables(pg, [TENANT], 200)
    # Every batch's COMMIT waits 0.5 s in a deferred trigger: the daemon
    # has sent the checkpoint and COMMIT, the server has them, and the
    # daemon dies before it reads the result. The server still commits
    # the batch with its checkpoint; the next start goes on after it.
    pg.psql("""
        CREATE OR REPLACE FUNCTION slow_commit() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.5); RETURN NULL; END $$;
        CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON t1
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (NEW.id = 101) EXECUTE FUNCTION slow_commit();
    """)
    d = make_daemon(workers=1)
    write_plan(d, "slow", counter_plan([counter_step("one", batch=50)]))
    d.start()
    [job] = submit(d, "slow", [TENANT])

    def committing():
        return pg.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'COMMIT'"
            " AND wait_event = 'PgSleep'").strip() == "1"
    wait_for("a COMMIT waiting in its trigger", committing, 20)
    kill9(d)
    wait_for("the COMMIT to end", lambda: not committing(), 10)
    # committed with its checkpoint, though the daemon never saw it
    assert counters(pg)[TENANT] == {1: 150, 0: 50}
    assert pg.psql("SELECT checkpoint, batches FROM migrated.job_steps"
                   " WHERE job_id = %d" % job).strip() == "150|3"
    d.start()
    [j] = wait_state(d, [job], timeout=30).values()
    assert_counters(pg, [TENANT], 200)
    assert step_of(j, "one")["batches"] == 4


def test_kill9_while_a_pipelined_apply_runs(make_daemon, pg):
    make_tables(pg, [TENANT], 200)
    d = make_daemon(workers=1)
    # the third batch's apply sleeps; COMMIT is not sent yet, so the
    # server rolls the batch back when the daemon's connection goes
    step = counter_step("one", batch=50).replace(
        "UPDATE t1 SET n = n + 1",
        "UPDATE t1 SET n = n + 1 + 0 * (SELECT count(*) FROM"
        " (SELECT pg_sleep(CASE WHEN :lo::bigint = 100 THEN 3 ELSE 0"
        " END)) z)")
    write_plan(d, "slowapply", counter_plan([step]))
    d.start()
    [job] = submit(d, "slowapply", [TENANT])

    def applying():
        return pg.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE"
            " 'UPDATE t1%' AND wait_event = 'PgSleep'").strip() == "1"
    wait_for("the third batch's apply sleeping", applying, 20)
    kill9(d)
    wait_for("its backend to roll back", lambda: pg.psql(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE"
        " 'UPDATE t1%'").strip() == "0", 10)
    assert counters(pg)[TENANT] == {1: 100, 0: 100}
    d.start()
    [j] = wait_state(d, [job], timeout=30).values()
    assert_counters(pg, [TENANT], 200)
    assert step_of(j, "one")["batches"] == batches_for(200, 50)


def test_a_failing_statement_rolls_the_batch_back(make_daemon, pg):
    make_tables(pg, [TENANT, "ten01"], 100)
    d = make_daemon(workers=1)
    # 1 / 0 in the batch that reaches key 121 (ten00's keys are odd)
    step = counter_step("one", batch=20).replace(
        "UPDATE t1 SET n = n + 1",
        "UPDATE t1 SET n = n + 1 / (CASE WHEN id = 121 THEN 0 ELSE 1 END)")
    write_plan(d, "fails", counter_plan([step]))
    d.start()
    [bad] = submit(d, "fails", [TENANT])
    [j] = wait_state(d, [bad], states=("failed",), timeout=30).values()
    assert "division by zero (SQLSTATE 22012)" in j["error"], j["error"]
    assert "step one, keys (119, 159]: " in j["error"], j["error"]
    one = step_of(j, "one")
    # batches of 20 rows (keys 1..39, 41..79, ...): the failing one is
    # the fourth; the three before it stay, nothing of it does
    assert (one["batches"], one["rows_done"]) == (3, 60), one
    assert counters(pg)[TENANT] == {1: 60, 0: 40}
    # the same worker and connection run the next job to its end
    [good] = submit(d, "fails", ["ten01"])
    wait_state(d, [good], timeout=30)
    assert_counters(pg, ["ten01"], 100)
    assert show(d, bad)["state"] == "failed"


def test_keys_the_walk_cannot_reach_fail_the_step(make_daemon, pg):
    pg.psql("""
        DROP TABLE IF EXISTS tk;
        CREATE TABLE tk (k text, tenant_id text NOT NULL,
                         n integer NOT NULL DEFAULT 0);
        CREATE INDEX ON tk (tenant_id, k);
        INSERT INTO tk SELECT 'k' || g, 'ten00' FROM generate_series(1, 50) g;
        INSERT INTO tk VALUES ('', 'ten00'), (NULL, 'ten00'), (NULL, 'ten01');
    """)
    make_tables(pg, [TENANT, "ten01"], 0)
    d = make_daemon(workers=1)
    write_plan(d, "keys", counter_plan(["""[step one]
table = tk
key = k
where = tenant_id = :tenant
apply = UPDATE tk SET n = n + 1 WHERE tenant_id = :tenant
        AND k > :lo AND k <= :hi
batch = 10
"""]))
    d.start()
    [job] = submit(d, "keys", [TENANT])
    [j] = wait_state(d, [job], states=("failed",), timeout=30).values()
    assert ("step one: 2 rows have a NULL key or a key at or below '', the"
            " lowest value batches can start after; they would be skipped"
            in j["error"]), j["error"]
    assert pg.psql("SELECT count(*) FROM tk WHERE n <> 0").strip() == "0"


def test_a_step_of_more_ranges_than_one_bounds_query_returns(make_daemon,
                                                             pg):
    # One bounds query returns at most 10,000 ranges (MAX_BOUNDS in
    # daemon/step_inplace.c): the step's count then comes from a count of
    # its own, and the ranges after the 10,000th from another bounds
    # query that starts at the last one, in key order.
    rows = 10050
    make_tables(pg, [TENANT], 0)
    # keys whose text order is not their order: 9, 10, 11, ... 10058
    own_rows(pg, range(9, 9 + rows))
    d = make_daemon(workers=1)
    write_plan(d, "many", counter_plan([counter_step("one", batch=1)]))
    d.start()
    [job] = submit(d, "many", [TENANT])
    [j] = wait_state(d, [job], timeout=120).values()
    assert_counters(pg, [TENANT], rows)
    step = step_of(j, "one")
    assert (step["rows_estimated"], step["rows_done"], step["batches"]) == (
        rows, rows, rows), step
