"""The Debian package and the bash completion of migratectl.

The package tests build the .deb with `make deb` once per session (the
session-scoped `deb` fixture: every package test shares that one build,
about a minute on two idle cores, most of it the compile and lintian), then
check what an administrator gets: lintian's verdict, the files and where
they go, the conffile, the dependencies, and a real `dpkg --root` install
into a scratch root that creates the user, the directories and the enable
symlinks without touching the host. They are skipped, with the reason,
only when dpkg-buildpackage is missing (scripts/deps.sh installs it).
MIGRATED_DEB=PATH tests that .deb instead of building one; skip the whole
file with `-k 'not test_packaging'`.

The completion tests source completion/migratectl.bash in bash, set
COMP_WORDS and COMP_CWORD as bash does on <Tab>, call _migratectl and read
COMPREPLY, against build/migratectl and a real daemon.
"""

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (MIGRATECTL, ROOT, VALGRIND, clean_env, project_version, run,
                      short_tmpdir)
from jobs_util import (counter_plan, counter_step, make_tables, submit,
                       write_plan)

COMPLETION = ROOT / "completion" / "migratectl.bash"
BUILD_TIMEOUT = 600  # seconds: a loaded machine compiles slowly

# lintian warnings this package has on purpose (docs/DECISIONS.md,
# "Debian package"); any other warning, and every error, fails.
LINTIAN_ACCEPTED = {
    # not a Debian upload: there is no ITP bug to close
    "initial-upload-closes-no-bugs",
}

# What the package holds besides directories; units in /lib/systemd/system,
# where bookworm's dh_installsystemd finds them.
PACKAGE_FILES = {
    "/etc/migrated/migrated.conf",
    "/lib/systemd/system/migrated.service",
    "/lib/systemd/system/migrated.socket",
    "/usr/bin/migratectl",
    "/usr/lib/sysusers.d/migrated.conf",
    "/usr/lib/tmpfiles.d/migrated.conf",
    "/usr/sbin/migrated",
    "/usr/share/bash-completion/completions/migratectl",
    "/usr/share/doc/migrated/README.md.gz",
    "/usr/share/doc/migrated/changelog.Debian.gz",
    "/usr/share/doc/migrated/copyright",
    "/usr/share/man/man1/migratectl.1.gz",
    "/usr/share/man/man5/migrated.conf.5.gz",
    "/usr/share/man/man5/migrated.plan.5.gz",
    "/usr/share/man/man8/migrated.8.gz",
}


# --- the package ---------------------------------------------------------------

class Package:
    def __init__(self, path, lintian):
        self.path = path
        self.lintian = lintian  # lintian's tag lines, or None if not run

    def deb(self, option, *args):
        """dpkg-deb OPTION PATH ARGS; returns its standard output."""
        p = subprocess.run(["dpkg-deb", option, str(self.path), *args],
                           capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout


def lintian_tags(text):
    return [line for line in text.splitlines()
            if re.match(r"^[EWIPXO]: migrated", line)]


@pytest.fixture(scope="session")
def deb(tmp_path_factory):
    """The .deb under test, built once per session by `make deb` (unit
    tests off: make check runs them on its own)."""
    given = os.environ.get("MIGRATED_DEB")
    if given:
        return Package(Path(given), None)
    if VALGRIND or os.environ.get("MIGRATED_BUILD"):
        # make check-sanitize repeats the suite for the daemon's memory;
        # the package was built and checked by make check already
        pytest.skip("packaging is tested by make check, not by the "
                    "sanitizer runs")
    if shutil.which("dpkg-buildpackage") is None:
        pytest.skip("dpkg-buildpackage is not installed (Debian package "
                    "dpkg-dev; scripts/deps.sh installs it)")
    out = tmp_path_factory.mktemp("deb")
    env = {k: v for k, v in clean_env().items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["DEB_BUILD_OPTIONS"] = "nocheck"
    p = subprocess.run(["make", "-s", "-C", str(ROOT), "deb",
                        "DEB_OUT=%s" % out], env=env, capture_output=True,
                       text=True, stdin=subprocess.DEVNULL,
                       timeout=BUILD_TIMEOUT)
    assert p.returncode == 0, "make deb failed:\n%s%s" % (p.stdout, p.stderr)
    path = Path(p.stdout.strip().splitlines()[-1])
    assert path.is_file() and path.parent == out, p.stdout
    assert re.fullmatch(r"migrated_%s-\d+_\w+\.deb" % re.escape(
        project_version()), path.name), path.name
    return Package(path, lintian_tags(p.stdout))


def test_lintian_finds_no_errors_and_only_the_accepted_warnings(deb):
    tags = deb.lintian
    if tags is None:  # MIGRATED_DEB: lint it here
        if shutil.which("lintian") is None:
            pytest.skip("lintian is not installed")
        rc, out, err = run(["lintian", deb.path], timeout=300)
        tags = lintian_tags(out)
    errors = [t for t in tags if t.startswith("E:")]
    assert not errors, "\n".join(tags)
    warnings = {t.split()[2] for t in tags if t.startswith("W:")}
    assert warnings <= LINTIAN_ACCEPTED, "\n".join(tags)


def test_package_holds_the_files_where_debian_puts_them(deb):
    entries = {}
    for line in deb.deb("-c").splitlines():
        # drwxr-xr-x root/root 0 2026-12-01 20:42 ./etc/
        mode, owner, _size, _date, _time, path = line.split(None, 5)
        entries[path[1:].rstrip("/") or "/"] = (mode, owner)
    files = {p for p, (mode, _) in entries.items() if mode[0] != "d"}
    assert files == PACKAGE_FILES
    assert all(owner == "root/root" for _, owner in entries.values())
    assert entries["/usr/sbin/migrated"][0] == "-rwxr-xr-x"
    assert entries["/usr/bin/migratectl"][0] == "-rwxr-xr-x"
    assert entries["/etc/migrated/migrated.conf"][0] == "-rw-r--r--"
    assert entries["/etc/migrated/plans"][0][0] == "d"


def test_control_names_the_conffile_version_and_dependencies(deb):
    assert deb.deb("-f", "Package").strip() == "migrated"
    # The changelog's upstream version is the Makefile's VERSION.
    version = deb.deb("-f", "Version").strip()
    assert version.split("-")[0] == project_version(), version
    depends = [d.strip() for d in deb.deb("-f", "Depends").split(",")]
    # systemd-sysusers creates the user in postinst (no dh_installsysusers
    # in bookworm's debhelper); the libraries come from dh_shlibdeps.
    assert depends[0] == \
        "systemd | systemd-standalone-sysusers | systemd-sysusers"
    for lib in ("libpq5", "libevent-2.1-7", "libjansson4", "libinih1",
                "libsystemd0"):
        assert any(d.startswith(lib + " ") or d == lib for d in depends), \
            depends
    assert deb.deb("-I", "conffiles").split() == ["/etc/migrated/migrated.conf"]
    postinst = deb.deb("-I", "postinst")
    # The user first, then the directories it owns, then the units.
    order = [postinst.index(s) for s in (
        'systemd-sysusers ${DPKG_ROOT:+--root="$DPKG_ROOT"} migrated.conf',
        'systemd-tmpfiles ${DPKG_ROOT:+--root="$DPKG_ROOT"} --create '
        'migrated.conf',
        "deb-systemd-helper enable 'migrated.service'",
        "deb-systemd-helper enable 'migrated.socket'")]
    assert order == sorted(order), postinst


def valid_one_plan(conf, out):
    """migrated -n said that conf and its one plan are valid."""
    return re.fullmatch(r"%s: configuration, (.* )?1 plan\(s\) .*valid\n"
                        % re.escape(str(conf)), out)


def test_extracted_binaries_check_a_config_and_show_their_version(
        deb, tmp_path):
    root = tmp_path / "root"
    p = subprocess.run(["dpkg", "-x", str(deb.path), str(root)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert (root / "etc/migrated/migrated.conf").read_text() == \
        (ROOT / "conf/migrated.conf").read_text()
    assert (root / "usr/share/bash-completion/completions/migratectl") \
        .read_text() == COMPLETION.read_text()
    service = (root / "lib/systemd/system/migrated.service").read_text()
    assert "ExecStart=/usr/sbin/migrated -c /etc/migrated/migrated.conf\n" \
        in service

    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "move.plan").write_text(counter_plan([counter_step("one")]))
    conf = tmp_path / "migrated.conf"
    conf.write_text("[daemon]\nplan_dir = %s\nsocket = %s/sock\n"
                    "[target]\nconninfo = dbname=nowhere\n" % (plans, tmp_path))
    rc, out, err = run([root / "usr/sbin/migrated", "-n", "-c", conf])
    assert (rc, err) == (0, ""), err
    assert valid_one_plan(conf, out), out

    (plans / "broken.plan").write_text("[plan]\nbogus = 1\n")
    rc, out, err = run([root / "usr/sbin/migrated", "-n", "-c", conf])
    assert rc == 1, (out, err)
    assert err.startswith("%s:2: " % (plans / "broken.plan")), err

    rc, out, err = run([root / "usr/bin/migratectl", "--version"])
    assert (rc, out, err) == (0, "migratectl %s\n" % project_version(), "")


def dpkg_root(root, *args):
    """dpkg on the scratch root, maintainer scripts run outside a chroot
    with DPKG_ROOT set (the host has the tools, the root has no /bin/sh).
    Dependencies are not installed there, hence --force-depends."""
    p = subprocess.run(["dpkg", "--root=%s" % root, "--log=/dev/null",
                        "--force-script-chrootless", "--force-depends",
                        *args], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=120,
                       env=clean_env({"DEBIAN_FRONTEND": "noninteractive"}))
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def scratch_root(tmp_path):
    root = tmp_path / "root"
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "etc"):
        (root / d).mkdir(parents=True)
    (root / "var/lib/dpkg/status").touch()
    return root


def test_install_into_a_scratch_root_creates_user_dirs_and_enables_units(
        deb, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("dpkg --root runs the postinst, which chowns "
                    "directories to user migrated: needs root")
    root = scratch_root(tmp_path)
    dpkg_root(root, "-i", str(deb.path))

    passwd = (root / "etc/passwd").read_text()
    m = re.search(r"^migrated:x:(\d+):(\d+):migrated daemon:"
                  r"/var/lib/migrated:", passwd, re.M)
    assert m, passwd
    uid, gid = int(m.group(1)), int(m.group(2))
    assert re.search(r"^migrated:x:%d:" % gid,
                     (root / "etc/group").read_text(), re.M)

    def owner_mode(rel):
        st = (root / rel).stat()
        return st.st_uid, st.st_gid, st.st_mode & 0o7777
    assert owner_mode("run/migrated") == (uid, gid, 0o750)
    assert owner_mode("var/lib/migrated") == (uid, gid, 0o700)
    assert owner_mode("etc/migrated") == (0, gid, 0o750)
    assert owner_mode("etc/migrated/plans") == (0, gid, 0o750)

    wants = root / "etc/systemd/system"
    assert os.readlink(wants / "multi-user.target.wants/migrated.service") \
        == "/lib/systemd/system/migrated.service"
    assert os.readlink(wants / "sockets.target.wants/migrated.socket") \
        == "/lib/systemd/system/migrated.socket"

    # The daemon checks the sample config against the installed plan_dir.
    plans = root / "etc/migrated/plans"
    (plans / "move.plan").write_text(counter_plan([counter_step("one")]))
    conf = root / "etc/migrated/migrated.conf"
    text = conf.read_text().replace("[daemon]\n", "[daemon]\nplan_dir = %s\n"
                                    % plans, 1)
    conf.write_text(text)
    rc, out, err = run([root / "usr/sbin/migrated", "-n", "-c", conf])
    assert (rc, err) == (0, ""), err
    assert valid_one_plan(conf, out), out

    # Reinstalling keeps the administrator's config; purging removes it
    # and the enable symlinks.
    dpkg_root(root, "-i", str(deb.path))
    assert conf.read_text() == text
    status = (root / "var/lib/dpkg/status").read_text()
    assert re.search(r"^Conffiles:\n /etc/migrated/migrated.conf [0-9a-f]{32}",
                     status, re.M), status
    dpkg_root(root, "--purge", "migrated")
    assert not conf.exists()
    assert not (root / "usr/sbin/migrated").exists()
    assert not (wants / "multi-user.target.wants/migrated.service") \
        .is_symlink()
    assert not (wants / "sockets.target.wants/migrated.socket").is_symlink()
    # The system user and its home (the administrator's .pgpass) stay.
    assert (root / "etc/passwd").read_text() == passwd
    assert owner_mode("var/lib/migrated") == (uid, gid, 0o700)


# --- bash completion -------------------------------------------------------------

# Sources the completion, sets COMP_WORDS/COMP_CWORD as bash does when <Tab>
# is pressed at the end of the line, and prints COMPREPLY one per line.
DRIVER = r'''
set -u
source "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
_migratectl
printf '%s\n' "${COMPREPLY[@]}"
'''


def complete(*words, env=None, timeout=30):
    """What <Tab> offers after `migratectl WORDS...` (the last word is the
    one being completed; "" for a new word)."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    rc, out, err = run(["bash", "--norc", "--noprofile", "-c", DRIVER,
                        "driver", COMPLETION, MIGRATECTL, *words], env=env,
                       timeout=timeout)
    assert (rc, err) == (0, ""), "completion failed (%d): %s" % (rc, err)
    return [w for w in out.split("\n") if w]


def help_commands():
    """The commands `migratectl --help` lists, in its order."""
    rc, out, _ = run([MIGRATECTL, "--help"])
    assert rc == 0
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines()]


def test_completion_registers_for_migratectl():
    rc, out, err = run(["bash", "--norc", "--noprofile", "-c",
                        'source "$1" && complete -p migratectl', "x",
                        COMPLETION])
    assert (rc, out.strip()) == (0, "complete -F _migratectl migratectl"), err


def test_completion_offers_the_commands_of_help():
    commands = help_commands()
    assert {"status", "submit", "list", "show", "rollback"} <= set(commands)
    assert complete("") == commands
    assert complete("ro") == ["rollback"]
    assert complete("s") == [c for c in commands if c.startswith("s")]
    assert complete("--v") == ["--version"]
    assert complete("nosuch", "") == []


def test_completion_offers_a_commands_options_and_their_values():
    assert complete("submit", "plan", "--d") == ["--dry-run"]
    opts = complete("list", "--")
    assert {"--state", "--plan", "--tenant", "--limit", "--json",
            "--socket"} <= set(opts)
    assert "--dry-run" not in opts and "--wait" not in opts
    # Values listed in the option's help.
    assert complete("list", "--state", "r") == ["running", "rolled_back"]
    # An option's value is not taken for an option.
    assert complete("submit", "--batch-size", "") == []


def test_completion_fetches_plan_names_and_job_ids_from_the_daemon(
        make_daemon, pg):
    d = make_daemon()
    write_plan(d, "alpha-move", counter_plan([counter_step("one")]))
    write_plan(d, "beta-copy", counter_plan([counter_step("one")]))
    d.start()
    sock = d.socket

    assert complete("--socket", sock, "submit", "") == ["alpha-move",
                                                        "beta-copy"]
    assert complete("-s", sock, "submit", "al") == ["alpha-move"]
    assert complete("--socket=%s" % sock, "list", "--plan", "b") == \
        ["beta-copy"]
    assert complete("plans", "", env={"MIGRATED_SOCKET": sock}) == \
        ["alpha-move", "beta-copy"]
    # submit takes one plan.
    assert complete("-s", sock, "submit", "alpha-move", "") == []

    make_tables(pg, ["ten00", "ten01"], 3)
    ids = submit(d, "alpha-move", ["ten00", "ten01"])
    want = sorted(str(i) for i in ids)
    assert sorted(complete("-s", sock, "show", "")) == want
    assert complete("-s", sock, "show", str(ids[0]), "") == []
    # pause takes several jobs; verify a job or a plan.
    assert sorted(complete("-s", sock, "pause", str(ids[0]), "")) == want
    assert sorted(complete("-s", sock, "verify", "")) == \
        sorted(want + ["alpha-move", "beta-copy"])


def test_completion_is_silent_when_the_daemon_does_not_answer(tmp_path):
    # No daemon at all.
    assert complete("-s", str(tmp_path / "none"), "submit", "") == []
    assert complete("-s", str(tmp_path / "none"), "show", "") == []
    # A socket that accepts connections and never answers: given up after
    # two seconds.
    d = short_tmpdir("mdc.")
    try:
        path = str(d / "sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.bind(path)
            s.listen(16)
            start = time.monotonic()
            assert complete("-s", path, "show", "") == []
            assert time.monotonic() - start < 10
            # The commands still complete: they need no daemon.
            assert complete("-s", path, "sh") == ["show"]
    finally:
        shutil.rmtree(d, ignore_errors=True)
