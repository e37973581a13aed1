#!/bin/sh
# The SQLite part of `make bench` (bench.sh runs it; it runs alone too):
# a legacy SQLite table of SQLITE_ROWS rows (integer, text, real, a 0/1
# boolean, ISO 8601 timestamps, NULLs) imported into the same PostgreSQL
# table by the daemon (a copy step from [database legacy] sqlite = PATH)
# and by pgloader (LOAD DATABASE FROM sqlite, data only), in one throwaway
# cluster in the same run. Prints both times and their ratio, and checks
# that both leave the same rows; it never judges the timings.
#
# Environment:
#   SQLITE_ROWS   rows of the SQLite table (default 1000000)
#   SQLITE_BATCH  batch of the copy step (default 20000)
#   BENCH_PORT    port of the throwaway cluster (default 54359)
#   B             build directory, as in the Makefile (default build)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"
case ${B:-build} in
/*) build=$B ;;
*) build=$top/${B:-build} ;;
esac
migrated=$build/migrated
migratectl=$build/migratectl
rows=${SQLITE_ROWS:-1000000}
batch=${SQLITE_BATCH:-20000}
port=${BENCH_PORT:-54359}
PYTHON=/usr/bin/python3
command -v pgloader >/dev/null ||
    { echo "bench-sqlite: pgloader is missing (scripts/deps.sh)" >&2; exit 1; }

dir=$(mktemp -d /tmp/mdbench-sqlite.XXXXXX)
chmod 755 "$dir"
daemon_pid=
cleanup() {
	stop_daemon
	sh "$top/scripts/pgcluster.sh" destroy "$dir/pg" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

sh "$top/scripts/pgcluster.sh" start "$dir/pg" "$port" >/dev/null
conninfo=$(sh "$top/scripts/pgcluster.sh" conninfo "$dir/pg" "$port")
db() { echo "$conninfo" | sed "s/dbname=migrated/dbname=$1/"; }
sql() { psql -X -q -tA -v ON_ERROR_STOP=1 -d "$(db "$1")" -c "$2"; }

echo "bench-sqlite: writing $rows rows to $dir/legacy.db"
$PYTHON - "$dir/legacy.db" "$rows" <<'PY'
import sqlite3, sys
path, n = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path)
db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, "
           "qty INTEGER, price REAL, active INTEGER, created TEXT, note TEXT)")
db.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?)", (
    (i, "item %d ünï" % i, i % 1000, i * 0.25, i % 2,
     "2024-%02d-%02dT%02d:%02d:%02dZ" % (1 + i % 12, 1 + i % 28, i % 24,
                                         i % 60, (i * 7) % 60),
     None if i % 5 == 0 else "note\t%d" % i) for i in range(1, n + 1)))
db.commit()
db.close()
PY

table="CREATE TABLE items (id bigint PRIMARY KEY, name text, qty integer,
    price double precision, active boolean, created timestamptz, note text)"
for t in bench_daemon bench_pgloader; do
	sql migrated "CREATE DATABASE $t"
	sql "$t" "$table"
done
result() {
	sql "$1" "SELECT count(*) || ' ' || md5(string_agg(md5(i::text), ''
	    ORDER BY id)) FROM items i"
}

# the daemon: one job of a copy step
mkdir -p "$dir/plans"
cat >"$dir/plans/sqlite-bench.plan" <<PLAN
[plan]
description = bench: a legacy SQLite table imported by key
tenants = SELECT 'all'

[step items]
source = legacy
select = SELECT id, name, qty, price, active, created, note FROM items
key = id
into = items
upsert = id
batch = $batch
PLAN
cat >"$dir/migrated.conf" <<CONF
[daemon]
socket = $dir/io.migrated
plan_dir = $dir/plans
log_level = warning

[target]
conninfo = $(db bench_daemon)

[database legacy]
sqlite = $dir/legacy.db
CONF
MIGRATED_SOCKET=$dir/io.migrated
export MIGRATED_SOCKET
"$migrated" -c "$dir/migrated.conf" </dev/null >"$dir/migrated.log" 2>&1 &
# shellcheck disable=SC2034 # wait_ready and stop_daemon (lib.sh) read it
daemon_pid=$!
wait_ready bench-sqlite
echo "bench-sqlite: migrated, a copy step with batch = $batch"
t0=$(now)
"$migratectl" submit sqlite-bench --tenant all --wait >"$dir/submit.log" 2>&1 ||
    { tail -n 20 "$dir/submit.log" >&2; exit 1; }
t1=$(now)
daemon_s=$(elapsed "$t0" "$t1")
stop_daemon

# pgloader: the same file into the same table
sock=$(echo "$conninfo" | sed 's/.*host=\([^ ]*\).*/\1/')
cat >"$dir/load.pgl" <<PGL
LOAD DATABASE
     FROM sqlite://$dir/legacy.db
     INTO postgresql://postgres@unix:$sock:$port/bench_pgloader
WITH data only, truncate, batch rows = $batch
INCLUDING ONLY TABLE NAMES LIKE 'items';
PGL
echo "bench-sqlite: pgloader"
t0=$(now)
pgloader --quiet "$dir/load.pgl" >"$dir/pgloader.log" 2>&1 ||
    { tail -n 30 "$dir/pgloader.log" >&2; exit 1; }
t1=$(now)
pgloader_s=$(elapsed "$t0" "$t1")

want=$(result bench_pgloader)
got=$(result bench_daemon)
if [ "$want" != "$got" ]; then
	echo "bench-sqlite: the daemon left \"$got\", pgloader \"$want\"" >&2
	exit 1
fi
echo
echo "SQLite import: $rows rows (7 columns: integer, text, real, 0/1 into"
echo "boolean, ISO 8601 text into timestamptz, NULLs) into one table;"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
printf '%-10s %8s %6s %9s\n' what seconds ratio rows/s
awk -v d="$daemon_s" -v p="$pgloader_s" -v r="$rows" 'BEGIN {
	printf "%-10s %8.2f %6.2f %9.0f\n", "pgloader", p, 1, r / p
	printf "%-10s %8.2f %6.2f %9.0f\n", "migrated", d, d / p, r / d
}'
echo "same rows in both: ${got}"
