"""Submit's pairs, params and fresh, and the step dependencies of a partial
submit, end to end with raw Varlink calls against the real daemon and
PostgreSQL: every refusal with its error and message (and no job made),
one job per pair with jobs.tenant and jobs.pair as given, JobExists for a
pair that has an unfinished job, params stored in jobs.args, fresh in
jobs.fresh, and StepDependency until the step depended on has succeeded
for that tenant and pair.
"""

import pytest

from jobs_util import (counter_plan, counter_step, make_tables, show,
                       wait_state, write_plan)
from safety_util import INVALID, err, invalid, ok, psql_json

VALUE = "io.migrated.InvalidParameterValue"
DEPENDENCY = "io.migrated.StepDependency"
EXISTS = "io.migrated.JobExists"

TENANTS = ["ten00", "ten01"]
PAIR_TENANTS = ["a", "b", "O'Brien"]
ROWS = 6


def with_header(plan_text, *lines):
    """The plan with lines added to its [plan] section."""
    head, rest = plan_text.split("\n", 1)
    assert head == "[plan]"
    return "\n".join([head, *lines, rest])


# a, then b after a: quick counter steps on t1 and t2
PLAIN = counter_plan([counter_step("a", table="t1"),
                      counter_step("b", table="t2", after="a")],
                     params=False)
ARGS = with_header(PLAIN, "parameters = region, year")
PAIRDEP = with_header(PLAIN, "pair = new_name")
# one slow step: its jobs stay unfinished for a few seconds
SLOW = with_header(counter_plan([counter_step("slow", table="t1", batch=1,
                                              sleep=0.3)], params=False),
                   "pair = new_name")
# a has clear SQL (harmless), b has none
FRESH = counter_plan([
    counter_step("a", table="t1")
    + "clear = DELETE FROM t1 WHERE tenant_id = :tenant AND false\n",
    counter_step("b", table="t2", after="a")], params=False)


@pytest.fixture
def sd(make_daemon, pg):
    """A daemon with the plans above and the counter tables."""
    make_tables(pg, TENANTS + PAIR_TENANTS, ROWS, tables=("t1", "t2"))
    d = make_daemon()
    for name, text in (("plain", PLAIN), ("args", ARGS), ("pairdep", PAIRDEP),
                       ("slow", SLOW), ("fresh", FRESH)):
        write_plan(d, name, text)
    d.start()
    yield d
    # stop slow jobs at once rather than waiting for them
    d.call("io.migrated.Cancel", {"all": True})


def jobs_rows(pg):
    """[[id, tenant, pair, fresh, args, steps], ...] of migrated.jobs."""
    return psql_json(pg, "SELECT coalesce(json_agg(json_build_array(id,"
                         " tenant, pair, fresh, args, steps) ORDER BY id),"
                         " '[]') FROM migrated.jobs")


def submit(d, plan, **params):
    params["plan"] = plan
    return ok(d, "Submit", params)["jobs"]


def refused_value(d, params, parameter, message):
    assert err(d, "Submit", params) == (
        VALUE, {"parameter": parameter, "message": message})


# --- refusals -------------------------------------------------------------------

def test_pairs_need_a_plan_with_a_pair_key(sd, pg):
    refused_value(sd, {"plan": "plain", "pairs": [{"old": "a", "new": "x"}]},
                  "pairs", "plan plain has no pair key, so it takes "
                           "tenants, not pairs")
    assert jobs_rows(pg) == []


def test_a_pair_plan_needs_pairs(sd, pg):
    message = ("plan pairdep binds :new_name from the new half of a tenant "
               "pair: give pairs (migratectl submit pairdep --pair OLD:NEW)")
    refused_value(sd, {"plan": "pairdep", "tenants": ["a"]}, "tenants",
                  message)
    refused_value(sd, {"plan": "pairdep", "all": True}, "tenants", message)
    assert jobs_rows(pg) == []


def test_malformed_pairs_params_and_fresh(sd, pg):
    pair = {"old": "a", "new": "x"}
    for params, bad in [
            ({"pairs": [pair], "tenants": ["a"]}, "pairs"),
            ({"pairs": [pair], "all": True}, "pairs"),
            ({"pairs": []}, "pairs"),
            ({"pairs": [{"old": "a"}]}, "pairs"),
            ({"pairs": [{"new": "x"}]}, "pairs"),
            ({"pairs": [{"old": "", "new": "x"}]}, "pairs"),
            ({"pairs": [{"old": "a", "new": ""}]}, "pairs"),
            ({"pairs": [{"old": "a", "new": None}]}, "pairs"),
            ({"pairs": [{"old": "a", "new": "x", "extra": 1}]}, "pairs"),
            ({"pairs": [{"old": "a" * 1025, "new": "x"}]}, "pairs"),
            ({"pairs": [{"old": 1, "new": "x"}]}, "pairs"),
            ({"pairs": ["a:x"]}, "pairs"),
            ({"pairs": {"a": "x"}}, "pairs"),
            ({"tenants": ["a"], "params": {"region": 1}}, "params"),
            ({"tenants": ["a"], "params": ["region=eu"]}, "params"),
            ({"tenants": ["a"], "params": "region=eu"}, "params"),
            ({"tenants": ["a"], "fresh": "yes"}, "fresh"),
            ({"tenants": ["a"], "fresh": 1}, "fresh")]:
        invalid(sd, "Submit", dict(params, plan="slow"), bad)
    assert jobs_rows(pg) == []


def test_params_must_be_the_plans(sd, pg):
    refused_value(sd, {"plan": "args", "tenants": ["ten00"],
                       "params": {"region": "eu", "year": "2024",
                                  "colour": "red"}},
                  "params", "plan args has no parameter colour; its "
                            "parameters are: region, year")
    refused_value(sd, {"plan": "args", "tenants": ["ten00"],
                       "params": {"region": "eu"}},
                  "params", "plan args needs --param year=VALUE")
    refused_value(sd, {"plan": "args", "tenants": ["ten00"]},
                  "params", "plan args needs --param region=VALUE")
    refused_value(sd, {"plan": "args", "all": True, "params": {}},
                  "params", "plan args needs --param region=VALUE")
    refused_value(sd, {"plan": "plain", "tenants": ["ten00"],
                       "params": {"region": "eu"}},
                  "params", "plan plain has no parameter region: it takes "
                            "no parameters")
    assert jobs_rows(pg) == []


def test_fresh_needs_a_step_with_clear_sql(sd, pg):
    refused_value(sd, {"plan": "plain", "tenants": ["ten00"], "fresh": True},
                  "fresh", "no selected step of plan plain has clear SQL, "
                           "so fresh has nothing to clear")
    refused_value(sd, {"plan": "fresh", "tenants": ["ten00"], "fresh": True,
                       "steps": ["b"]},
                  "fresh", "no selected step of plan fresh has clear SQL, "
                           "so fresh has nothing to clear")
    assert jobs_rows(pg) == []


# --- what is stored ---------------------------------------------------------------

def test_one_job_per_pair(sd, pg):
    drop = "x'); DROP TABLE t1; --"
    ids = submit(sd, "slow", pairs=[
        {"old": "a", "new": "x"}, {"old": "a", "new": "y"},
        {"old": "b", "new": "x"}, {"new": "x", "old": "a"},
        {"old": "O'Brien", "new": drop}])
    assert len(ids) == 4
    assert [r[1:3] for r in jobs_rows(pg)] == [
        ["a", "x"], ["a", "y"], ["b", "x"], ["O'Brien", drop]]
    assert [r[0] for r in jobs_rows(pg)] == ids
    job = show(sd, ids[1])
    assert (job["tenant"], job["pair"]) == ("a", "y")
    # t1 is still there: the names were data
    assert pg.psql("SELECT count(*) FROM t1").strip() == str(
        ROWS * (len(TENANTS) + len(PAIR_TENANTS)))


def test_job_exists_for_a_pair(sd, pg):
    ax, ay = submit(sd, "slow", pairs=[{"old": "a", "new": "x"},
                                       {"old": "a", "new": "y"}])
    # one of them unfinished is enough: the whole submit is refused
    assert err(sd, "Submit", {"plan": "slow", "pairs": [
        {"old": "b", "new": "z"}, {"old": "a", "new": "y"}]}) == (
        EXISTS, {"plan": "slow", "tenant": "a", "id": ay})
    assert err(sd, "Submit", {"plan": "slow", "pairs": [
        {"old": "a", "new": "x"}]}) == (
        EXISTS, {"plan": "slow", "tenant": "a", "id": ax})
    assert [r[0] for r in jobs_rows(pg)] == [ax, ay]
    # another new name for the same old tenant is another job
    (az,) = submit(sd, "slow", pairs=[{"old": "a", "new": "z"}])
    assert jobs_rows(pg)[-1][:3] == [az, "a", "z"]


def test_params_are_stored_with_the_job(sd, pg):
    region = "'); DROP TABLE t1; --"
    (job,) = submit(sd, "args", tenants=["ten00"],
                    params={"region": region, "year": "2024"})
    (plain,) = submit(sd, "plain", tenants=["ten00"], params={})
    rows = {r[0]: r for r in jobs_rows(pg)}
    assert rows[job][4] == {"region": region, "year": "2024"}
    assert rows[plain][4] == {}
    assert show(sd, job)["parameters"] == {"region": region, "year": "2024"}
    wait_state(sd, [job, plain])


def test_fresh_is_stored_with_the_job(sd, pg):
    (fresh,) = submit(sd, "fresh", tenants=["ten00"], fresh=True)
    wait_state(sd, [fresh])
    (again,) = submit(sd, "fresh", tenants=["ten00"], fresh=True,
                      steps=["a"])
    (plain,) = submit(sd, "fresh", tenants=["ten01"])
    rows = {r[0]: r for r in jobs_rows(pg)}
    assert (rows[fresh][3], rows[again][3], rows[plain][3]) == (
        True, True, False)
    assert show(sd, fresh)["fresh"] is True
    wait_state(sd, [again, plain])


# --- step dependencies ----------------------------------------------------------

def test_step_dependency_until_the_step_succeeded(sd, pg):
    need_a = (DEPENDENCY, {"plan": "plain", "step": "b", "after": "a",
                           "tenant": "ten00"})
    assert err(sd, "Submit", {"plan": "plain", "tenants": ["ten00"],
                              "steps": ["b"]}) == need_a
    assert jobs_rows(pg) == []
    # both steps together need nothing earlier
    (both,) = submit(sd, "plain", tenants=["ten01"], steps=["b", "a"])
    # a dry run of a does not count
    (dry,) = submit(sd, "plain", tenants=["ten00"], steps=["a"],
                    dry_run=True)
    wait_state(sd, [both, dry])
    assert err(sd, "Submit", {"plan": "plain", "tenants": ["ten00"],
                              "steps": ["b"]}) == need_a
    (a,) = submit(sd, "plain", tenants=["ten00"], steps=["a"])
    # while a runs or is queued it has not succeeded yet
    wait_state(sd, [a])
    (b,) = submit(sd, "plain", tenants=["ten00"], steps=["b"])
    jobs = wait_state(sd, [b])
    assert [s["name"] for s in jobs[b]["steps"]] == ["b"]


def test_step_dependency_refuses_the_whole_submit(sd, pg):
    (a,) = submit(sd, "plain", tenants=["ten00"], steps=["a"])
    wait_state(sd, [a])
    before = jobs_rows(pg)
    # ten00 has a done, ten01 has not: no job for either, ten01 named
    assert err(sd, "Submit", {"plan": "plain", "tenants": ["ten00", "ten01"],
                              "steps": ["b"]}) == (
        DEPENDENCY, {"plan": "plain", "step": "b", "after": "a",
                     "tenant": "ten01"})
    assert jobs_rows(pg) == before


def test_step_dependency_is_per_pair(sd, pg):
    (a,) = submit(sd, "pairdep", pairs=[{"old": "a", "new": "x"}],
                  steps=["a"])
    wait_state(sd, [a])
    # the same old tenant with another new one has not run a
    assert err(sd, "Submit", {"plan": "pairdep", "steps": ["b"], "pairs": [
        {"old": "a", "new": "y"}]}) == (
        DEPENDENCY, {"plan": "pairdep", "step": "b", "after": "a",
                     "tenant": "a", "pair": "y"})
    (b,) = submit(sd, "pairdep", pairs=[{"old": "a", "new": "x"}],
                  steps=["b"])
    wait_state(sd, [b])
    assert jobs_rows(pg)[-1][1:3] == ["a", "x"]
