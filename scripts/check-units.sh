#!/bin/sh
# Checks the systemd files in units/ without installing anything:
#   1. renders units/migrated.service.in the way `make install` does;
#   2. `systemd-analyze verify` on migrated.service and migrated.socket;
#   3. `systemd-analyze security --offline=true`: exposure must be <= 2.5;
#   4. migrated-sysusers.conf and migrated-tmpfiles.conf applied to a
#      scratch root directory (the host's users and /run stay untouched).
# Everything happens in a temporary directory that is removed at the end.
# Usage: sh scripts/check-units.sh   (from anywhere; B= names the build dir)
set -eu

cd "$(dirname "$0")/.."
B=${B:-build}
MAX_EXPOSURE=25 # tenths: systemd-analyze --threshold counts 0..100

fail() {
	echo "check-units: FAIL: $*" >&2
	exit 1
}

for tool in systemd-analyze systemd-sysusers systemd-tmpfiles; do
	command -v "$tool" >/dev/null 2>&1 ||
	    fail "$tool not found (Debian package: systemd)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-units.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT PIPE TERM
mkdir -p "$tmp/units" "$tmp/sbin" "$tmp/man/man5" "$tmp/man/man8" \
    "$tmp/root/etc"

# verify insists that ExecStart= names an existing executable: use the built
# daemon when there is one, else a stand-in (only the unit file is checked).
if [ -x "$B/migrated" ]; then
	sbindir=$(cd "$B" && pwd)
	echo "check-units: ExecStart uses the built daemon $sbindir/migrated"
else
	sbindir=$tmp/sbin
	printf '#!/bin/sh\nexit 0\n' >"$sbindir/migrated"
	chmod 0755 "$sbindir/migrated"
	echo "check-units: $B/migrated not built; ExecStart uses a stand-in"
fi

echo "check-units: render units/migrated.service.in (as make install does)"
sed "s|@SBINDIR@|$sbindir|g; s|@SYSCONFDIR@|/etc|g" \
    units/migrated.service.in >"$tmp/units/migrated.service"
cp units/migrated.socket "$tmp/units/"
if grep -n '@[A-Z]*@' "$tmp/units/migrated.service"; then
	fail "placeholders left in migrated.service"
fi

# verify also checks that the Documentation= man pages exist: point it at
# this tree's pages. Without man(1) that check is skipped.
cp man/migrated.8 "$tmp/man/man8/" 2>/dev/null || :
cp man/migrated.conf.5 "$tmp/man/man5/" 2>/dev/null || :
man_opt=--man=yes
if ! command -v man >/dev/null 2>&1; then
	man_opt=--man=no
	echo "check-units: man(1) not installed; Documentation= not checked"
fi

echo "check-units: systemd-analyze verify migrated.service migrated.socket"
out=$(cd "$tmp/units" && MANPATH="$tmp/man" systemd-analyze verify \
    "$man_opt" ./migrated.service ./migrated.socket 2>&1) ||
    { printf '%s\n' "$out" >&2; fail "systemd-analyze verify"; }
# verify can warn and still exit 0; any output is a finding.
if [ -n "$out" ]; then
	printf '%s\n' "$out" >&2
	fail "systemd-analyze verify printed warnings"
fi

echo "check-units: systemd-analyze security --offline=true" \
    "(exposure must be <= $((MAX_EXPOSURE / 10)).$((MAX_EXPOSURE % 10)))"
if (cd "$tmp/units" && systemd-analyze security --offline=true \
    --threshold="$MAX_EXPOSURE" --no-pager ./migrated.service \
    >"$tmp/security.txt" 2>&1); then
	ok=1
else
	ok=0
fi
# Show what costs exposure, then the verdict.
grep '✗' "$tmp/security.txt" | sed 's/  */ /g; s/^/  /' || :
grep 'Overall exposure' "$tmp/security.txt" | sed 's/^→ */  /' || :
if [ "$ok" != 1 ]; then
	cat "$tmp/security.txt" >&2
	fail "exposure of migrated.service is above the threshold"
fi

echo "check-units: systemd-sysusers on a scratch root"
systemd-sysusers --root="$tmp/root" "$PWD/units/migrated-sysusers.conf" \
    >/dev/null 2>&1 || fail "systemd-sysusers units/migrated-sysusers.conf"
grep -q '^migrated:x:[0-9]*:[0-9]*:migrated daemon:/var/lib/migrated:' \
    "$tmp/root/etc/passwd" || fail "sysusers did not create user migrated"
grep -q '^migrated:x:' "$tmp/root/etc/group" ||
    fail "sysusers did not create group migrated"
uid=$(awk -F: '$1 == "migrated" { print $3 }' "$tmp/root/etc/passwd")
gid=$(awk -F: '$1 == "migrated" { print $3 }' "$tmp/root/etc/group")

echo "check-units: systemd-tmpfiles --create on the scratch root"
systemd-tmpfiles --root="$tmp/root" --create \
    "$PWD/units/migrated-tmpfiles.conf" ||
    fail "systemd-tmpfiles units/migrated-tmpfiles.conf"

# expect PATH MODE UID GID
expect() {
	got=$(stat -c '%a %u %g' "$tmp/root$1" 2>/dev/null) ||
	    fail "tmpfiles did not create $1"
	[ "$got" = "$2 $3 $4" ] ||
	    fail "$1 is '$got' (mode uid gid), want '$2 $3 $4'"
	echo "  $1 $2 $3:$4"
}
expect /run/migrated 750 "$uid" "$gid"
expect /var/lib/migrated 700 "$uid" "$gid"
expect /etc/migrated 750 0 "$gid"
expect /etc/migrated/plans 750 0 "$gid"

echo "check-units: OK"
