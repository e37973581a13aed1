import sys, json, time

from conftest import wait_for
from jobs_util import *

def test_explore(make_daemon, pg):
    d = make_daemon(workers=2).start()
    tenants = ["a", "b", "c"]
    make_tables(pg, tenants, 50, tables=("t1", "t2"))
    write_plan(d, "cnt", counter_plan([counter_step("one", org=True), counter_step("two", "t2", after="one")]))
    reload(d)
    print(d.ctl("plans"))
    print(d.ctl("plans", "cnt"))
    ids = submit(d, "cnt", ["a", "b"], "--batch-size", "7")
    print(ids)
    jobs = wait_state(d, ids)
    print(json.dumps(jobs, indent=1))
    print(d.ctl("show", str(ids[0])))
    print(d.ctl("list"))
    print(counters(pg), counters(pg, "t2"))
    print(pg.psql("select * from t1 order by id limit 5"))
    assert 0
