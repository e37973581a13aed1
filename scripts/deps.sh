#!/bin/sh
# Installs the Debian packages needed to build, test and demo migrated.
# Quiet when everything is there. Installs what is missing when root (or
# through passwordless sudo); otherwise lists it and exits 1.
# Never reads stdin, so it works in CI.
set -eu

PACKAGES="build-essential pkg-config libpq-dev libevent-dev libsystemd-dev
libjansson-dev libinih-dev libcmocka-dev libssl-dev postgresql-15 postgresql-client-15
mandoc python3-pytest systemd clang libclang-rt-14-dev clang-format
clang-tidy cppcheck valgrind varlink-go"

missing=
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || status=
	[ "$status" = installed ] || missing="$missing $p"
done
missing=${missing# }
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	as_root=
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	as_root="sudo -n"
else
	echo "deps.sh: missing Debian packages: $missing" >&2
	echo "deps.sh: install them as root with:" >&2
	echo "    apt-get install --no-install-recommends $missing" >&2
	exit 1
fi

echo "deps.sh: installing missing packages: $missing"
export DEBIAN_FRONTEND=noninteractive
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
# $missing is a list of package names: split it on purpose.
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends $missing </dev/null
