#!/bin/sh
# Installs the Debian packages needed to build, test, package and demo
# migrated.
# Quiet when everything is there. Installs what is missing when root (or
# through passwordless sudo); otherwise lists it and exits 1.
# Never reads stdin, so it works in CI.
set -eu

PACKAGES="build-essential pkg-config libpq-dev libevent-dev libsystemd-dev
libjansson-dev libinih-dev libcmocka-dev libssl-dev postgresql-15 postgresql-client-15
mandoc python3-pytest python3-pytest-xdist systemd clang libclang-rt-14-dev clang-format
clang-tidy cppcheck valgrind varlink-go sqitch dpkg-dev debhelper lintian
bash-completion libsqlite3-dev sqlite3 pgloader"
# pgbouncer, for the test that the daemon refuses transaction pooling
PACKAGES="$PACKAGES pgbouncer"
# prometheus: promtool checks the metrics page, and a real server scrapes
# it in tests/e2e/test_metrics.py
PACKAGES="$PACKAGES prometheus"
# npm, for the real tools whose history tables the adopt tests take over;
# a machine with its own Node.js keeps it
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs npm"

# drizzle-orm, knex and kysely (tests/e2e/adopt-npm/package.json) in
# build/npm, where tests/e2e/test_schema_adopt.py finds them
npm_tools() {
	[ -d build/npm/node_modules/drizzle-orm ] && return 0
	mkdir -p build/npm
	cp tests/e2e/adopt-npm/package.json build/npm/
	echo "deps.sh: installing the adopt tests' npm packages in build/npm"
	(cd build/npm && npm install --no-audit --no-fund --loglevel=error \
	    </dev/null)
}

# the same tools on better-sqlite3 12 (13 crashes on Node 20)
# (tests/e2e/adopt-npm-sqlite/package.json) in build/npm-sqlite, where
# tests/e2e/test_sqlite_schema.py finds them
npm_tools_sqlite() {
	# the compiled addon, not the folder: an install cut short leaves that
	[ -f build/npm-sqlite/node_modules/better-sqlite3/build/Release/better_sqlite3.node ] &&
	    return 0
	mkdir -p build/npm-sqlite
	cp tests/e2e/adopt-npm-sqlite/package.json build/npm-sqlite/
	echo "deps.sh: installing the SQLite adopt tests' npm packages in build/npm-sqlite"
	(cd build/npm-sqlite && npm install --no-audit --no-fund \
	    --loglevel=error </dev/null)
}

missing=
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || status=
	[ "$status" = installed ] || missing="$missing $p"
done
missing=${missing# }
if [ -z "$missing" ]; then
	npm_tools
	npm_tools_sqlite
	exit 0
fi

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
npm_tools
npm_tools_sqlite
