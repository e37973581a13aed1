"""make install honours PREFIX and DESTDIR and installs everything a
packager needs: binaries, man pages, units, sysusers/tmpfiles, sample
config (never overwriting an existing one)."""

import subprocess

from conftest import ROOT


def install(dest, *extra):
    p = subprocess.run(["make", "-s", "-C", str(ROOT), "install",
                        "DESTDIR=%s" % dest, *extra],
                       capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr


def test_install_with_prefix_and_destdir(tmp_path):
    install(tmp_path, "PREFIX=/usr")
    files = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
             if p.is_file()}
    assert files == {
        "etc/migrated/migrated.conf",
        "usr/bin/migratectl",
        "usr/sbin/migrated",
        "usr/share/bash-completion/completions/migratectl",
        "usr/lib/systemd/system/migrated.service",
        "usr/lib/systemd/system/migrated.socket",
        "usr/lib/sysusers.d/migrated.conf",
        "usr/lib/tmpfiles.d/migrated.conf",
        "usr/share/man/man1/migratectl.1",
        "usr/share/man/man5/migrated.conf.5",
        "usr/share/man/man5/migrated.plan.5",
        "usr/share/man/man8/migrated.8",
    }
    service = (tmp_path / "usr/lib/systemd/system/migrated.service").read_text()
    assert "ExecStart=/usr/sbin/migrated -c /etc/migrated/migrated.conf" \
        in service
    assert "@" not in service.replace("@system-service", "") \
        .replace("@privileged", "").replace("@resources", "")
    assert (tmp_path / "usr/sbin/migrated").stat().st_mode & 0o111
    assert (tmp_path / "etc/migrated/migrated.conf").read_text() == \
        (ROOT / "conf/migrated.conf").read_text()


def test_install_keeps_an_existing_config(tmp_path):
    conf = tmp_path / "etc/migrated/migrated.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("[daemon]\nworkers = 7\n")
    install(tmp_path)
    assert conf.read_text() == "[daemon]\nworkers = 7\n"
    assert (tmp_path / "usr/local/sbin/migrated").exists()
