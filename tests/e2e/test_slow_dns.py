"""Host names are resolved off the event loop: with a name that takes
seconds to resolve, the control socket still answers at once."""

import os
import subprocess
import time

import pytest

from conftest import short_tmpdir, VALGRIND

# getaddrinfo() that takes 3 s for *.slow.test (then answers 127.0.0.1),
# preloaded into the daemon: a slow DNS server or NSS module, for real.
SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

int getaddrinfo(const char *node, const char *service,
                const struct addrinfo *hints, struct addrinfo **res)
{
    static int (*real)(const char *, const char *, const struct addrinfo *,
                       struct addrinfo **);
    size_t n = node ? strlen(node) : 0;

    if (!real)
        real = dlsym(RTLD_NEXT, "getaddrinfo");
    if (n > 10 && strcmp(node + n - 10, ".slow.test") == 0) {
        sleep(3);
        node = "127.0.0.1";
    }
    return real(node, service, hints, res);
}
"""


@pytest.fixture(scope="module")
def shim():
    d = short_tmpdir("dns.")
    src, lib = d / "slow.c", d / "slow.so"
    src.write_text(SHIM)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src),
                    "-ldl"], check=True)
    return str(lib)


@pytest.mark.skipif(VALGRIND or bool(os.environ.get("MIGRATED_BUILD")),
                    reason="valgrind and ASan builds do not take LD_PRELOAD "
                           "shims; make check runs this test")
def test_status_answers_while_a_name_resolves(pg, make_daemon, shim):
    d = make_daemon()
    port = pg.conninfo.split("port=")[1].split()[0]
    d.write_conf(d.conf_text() + "\n[database slow]\nconninfo = host=db.slow"
                 ".test port=%s dbname=migrated user=postgres\n" % port)
    d.start(env={"LD_PRELOAD": shim})
    slowest = 0.0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        t = time.monotonic()
        d.status()
        slowest = max(slowest, time.monotonic() - t)
        time.sleep(0.05)
    # a lookup on the loop would hold every call for 3 s
    assert slowest < 0.5, slowest
    # and the slow name does resolve, off the loop (the test cluster
    # listens on a Unix socket only, so the TCP connection itself is
    # refused: what matters is where it went)
    d.wait_log(r'"db.slow.test" \(127.0.0.1\)', timeout=15)
