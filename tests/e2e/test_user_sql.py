"""User SQL (checks, verify) runs on connections of its own (issue 12): a
Validate whose check takes 6 s does not hold up Pause, Cancel or GetStatus
for other clients."""

import threading
import time

from safety_util import install, make_data, ok, run_job, safety_plan

SLOW_CHECK = """
[check slow]
sql = SELECT count(*) FROM pg_sleep(6)
expect = 1
"""

SLOW_VERIFY = """
[verify slow]
sql = SELECT count(*) FROM pg_sleep(6)
expect = 1
"""


def start(make_daemon, pg, plan):
    make_data(pg)
    d = make_daemon()
    install(d, slow=plan)
    return d.start()


def in_background(d, name, params):
    """Calls name on a connection of its own; returns (thread, replies)."""
    replies = []
    t = threading.Thread(target=lambda: replies.append(
        ok(d, name, params, timeout=30)))
    t.start()
    return t, replies


def fast(d, name, params=None):
    """Seconds the call takes (it must succeed)."""
    t = time.monotonic()
    ok(d, name, params if params is not None else {})
    return time.monotonic() - t


def test_pause_all_does_not_wait_behind_a_slow_validate(make_daemon, pg):
    d = start(make_daemon, pg, safety_plan() + SLOW_CHECK)
    t, replies = in_background(d, "Validate",
                               {"plan": "slow", "tenants": ["acme"]})
    time.sleep(1)  # the check is running
    assert t.is_alive()
    # today each of these waited the rest of the check (about 5 s)
    assert fast(d, "Pause", {"all": True}) < 1
    assert fast(d, "Cancel", {"all": True}) < 1
    assert fast(d, "GetStatus") < 1
    t.join(30)
    (reply,) = replies
    (result,) = reply["results"]
    assert result["ok"] and result["checks"][-1]["name"] == "slow", result


def test_pause_all_does_not_wait_behind_a_slow_verify(make_daemon, pg):
    d = start(make_daemon, pg, safety_plan() + SLOW_VERIFY)
    job = run_job(d, "slow", "acme", timeout=60)
    t, replies = in_background(d, "Verify", {"id": job["id"]})
    time.sleep(1)
    assert t.is_alive()
    assert fast(d, "Pause", {"all": True}) < 1
    assert fast(d, "GetStatus") < 1
    t.join(30)
    (reply,) = replies
    assert reply["ok"] and reply["checks"][-1]["name"] == "slow", reply
