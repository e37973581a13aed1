"""Out of memory inside libpq (issue 12): the connection is reset, so the
job's transaction rolls back and its advisory lock goes with it; the job
is not failed nor left running on a session nobody drives, and it
recovers from its checkpoint, every row changed exactly once."""

import os
import subprocess

import pytest

from conftest import short_tmpdir, VALGRIND
from jobs_util import counter_plan, counter_step, make_tables, write_plan
from safety_util import submit, wait_ended

# libpq as it is when it cannot allocate a query's result: the Nth result
# whose command status is MDTEST_OOM_STATUS comes back as an error result
# without SQLSTATE (the real one is dropped), as libpq's own "out of
# memory" results are.
SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

PGresult *PQgetResult(PGconn *conn)
{
    static PGresult *(*real)(PGconn *);
    static int seen;
    const char *status = getenv("MDTEST_OOM_STATUS");
    const char *nth = getenv("MDTEST_OOM_NTH");
    PGresult *res;

    if (!real)
        real = dlsym(RTLD_NEXT, "PQgetResult");
    res = real(conn);
    if (res != NULL && status != NULL && nth != NULL &&
        PQresultStatus(res) == PGRES_COMMAND_OK &&
        strcmp(PQcmdStatus(res), status) == 0 && ++seen == atoi(nth)) {
        PQclear(res);
        return PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
    }
    return res;
}
"""


@pytest.fixture(scope="module")
def shim():
    d = short_tmpdir("oom.")
    src, lib = d / "oom.c", d / "oom.so"
    src.write_text(SHIM)
    inc = subprocess.run(["pg_config", "--includedir"], capture_output=True,
                         text=True, check=True).stdout.strip()
    subprocess.run(["cc", "-shared", "-fPIC", "-I", inc, "-o", str(lib),
                    str(src), "-ldl", "-lpq"], check=True)
    return str(lib)


@pytest.mark.skipif(VALGRIND or bool(os.environ.get("MIGRATED_BUILD")),
                    reason="valgrind and ASan builds do not take LD_PRELOAD "
                           "shims; make check runs this test")
def test_out_of_memory_in_a_batch_resets_and_the_job_recovers(
        make_daemon, pg, shim):
    # 69 rows in batches of 7: "UPDATE 7" is a batch's apply, nothing else
    make_tables(pg, ["acme"], 69)
    d = make_daemon()
    write_plan(d, "oom", counter_plan([counter_step("s", batch=7)]))
    d.start(env={"LD_PRELOAD": shim, "MDTEST_OOM_STATUS": "UPDATE 7",
                 "MDTEST_OOM_NTH": "4"})
    (job,) = submit(d, "oom", ["acme"])
    j = wait_ended(d, job, timeout=60)
    assert j["state"] == "succeeded", j
    assert j["error"] is None, j
    # the fourth batch's transaction was rolled back with the session,
    # and done again after the reconnect: every row once
    assert pg.psql("SELECT count(*), min(n), max(n) FROM t1").strip() == \
        "69|1|1"
    d.wait_log(r"database connection lost: out of memory")
    # and nothing holds the job's lock any more
    assert pg.psql("SELECT count(*) FROM pg_locks WHERE locktype ="
                   " 'advisory'").strip() == "0"
