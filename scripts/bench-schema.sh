#!/bin/sh
# `make bench-schema`, in a throwaway PostgreSQL cluster through the real
# daemon's socket: SchemaDiff of two 500-table schemas (each table with a
# primary key, a foreign key, a check, defaults and a partial index; the two
# one column apart); SchemaApply of 1,000 small files (a job, one
# transaction per file); SchemaStatus of a set with a 10,000-row history,
# as a summary (the default) and with every file (all).
# Prints the time of each; it never judges it.
#
# Environment:
#   BENCH_TABLES  tables per schema (default 500)
#   REPEAT        calls to time (default 3)
#   BENCH_PORT    port of the throwaway cluster (default 54349)
#   B             build directory, as in the Makefile (default build)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
case ${B:-build} in
/*) build=$B ;;
*) build=$top/${B:-build} ;;
esac
tables=${BENCH_TABLES:-500}
repeat=${REPEAT:-3}
port=${BENCH_PORT:-54349}
PYTHON=/usr/bin/python3

dir=$(mktemp -d /tmp/mdbench.XXXXXX)
chmod 755 "$dir"
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	sh "$top/scripts/pgcluster.sh" destroy "$dir/pg" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

sh "$top/scripts/pgcluster.sh" start "$dir/pg" "$port"
conninfo=$(sh "$top/scripts/pgcluster.sh" conninfo "$dir/pg" "$port")
db() { echo "$conninfo" | sed "s/dbname=migrated/dbname=$1/"; }

schema() {
	$PYTHON - "$tables" "$1" <<'PY'
import sys
n, extra = int(sys.argv[1]), sys.argv[2] == "extra"
print("BEGIN; CREATE SCHEMA big;")
for i in range(n):
    print("CREATE TABLE big.t%d (id bigint PRIMARY KEY, name text NOT NULL"
          " DEFAULT 'x', ref bigint REFERENCES big.t%d (id), n int CHECK"
          " (n > 0), at timestamptz DEFAULT now());"
          " CREATE INDEX ON big.t%d (name) WHERE n > 1;" % (i, max(i - 1, 0), i))
if extra:
    print("ALTER TABLE big.t7 ADD x int;")
print("COMMIT;")
PY
}
# 1,000 small files to apply; 10,000 files with a history to report on
mkdir -p "$dir/bulk" "$dir/hist"
$PYTHON - "$dir" <<'PY'
import sys
d = sys.argv[1]
for i in range(1, 1001):
    open("%s/bulk/%04d_t%d.sql" % (d, i, i), "w").write(
        "CREATE TABLE bulk.t%d (id int PRIMARY KEY, v text);\n" % i)
open("%s/bulk/0000_schema.sql" % d, "w").write("CREATE SCHEMA bulk;\n")
for i in range(1, 10001):
    open("%s/hist/%05d_v%d.sql" % (d, i, i), "w").write("SELECT %d;\n" % i)
PY
psql -X -q -d "$conninfo" -c "CREATE DATABASE bulk TEMPLATE template0"
for side in a b; do
	psql -X -q -d "$conninfo" -c "CREATE DATABASE big_$side TEMPLATE template0"
	if [ "$side" = b ]; then mode=extra; else mode=plain; fi
	schema "$mode" | psql -X -q -v ON_ERROR_STOP=1 -d "$(db "big_$side")" >/dev/null
done

cat >"$dir/migrated.conf" <<CONF
[daemon]
socket = $dir/io.migrated
plan_dir = $dir
log_level = warning

[target]
conninfo = $conninfo

[database big_a]
conninfo = $(db big_a)

[database big_b]
conninfo = $(db big_b)

[database bulk]
conninfo = $(db bulk)

[schema bulk]
database = bulk
dir = $dir/bulk

[schema hist]
database = target
dir = $dir/hist
CONF
"$build/migrated" -c "$dir/migrated.conf" >"$dir/migrated.log" 2>&1 &
pid=$!

PYTHONPATH=$top/tests/e2e $PYTHON - "$dir/io.migrated" "$tables" "$repeat" <<'PY'
import sys, time
import varlink
sock, tables, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + 15
while True:
    try:
        varlink.call(sock, "io.migrated.GetStatus", {})
        break
    except (OSError, varlink.Closed):
        if time.monotonic() > deadline:
            sys.exit("bench-schema: the daemon did not start")
        time.sleep(0.1)
for i in range(repeat):
    t0 = time.monotonic()
    r = varlink.call(sock, "io.migrated.SchemaDiff",
                     {"a": "big_a", "b": "big_b"}, 60)
    took = time.monotonic() - t0
    if "error" in r:
        sys.exit("bench-schema: %r" % r)
    d = r["parameters"]["differences"]
    print("SchemaDiff of two %d-table schemas: %.3f s (%d difference%s)"
          % (tables, took, len(d), "" if len(d) == 1 else "s"))

def ok(method, params, timeout=60):
    r = varlink.call(sock, "io.migrated." + method, params, timeout)
    if "error" in r:
        sys.exit("bench-schema: %s: %r" % (method, r))
    return r["parameters"]

t0 = time.monotonic()
job = ok("SchemaApply", {"set": "bulk"})["job"]
while True:
    j = ok("ShowJob", {"id": job})["job"]
    if j["state"] not in ("queued", "running"):
        break
    time.sleep(0.05)
took = time.monotonic() - t0
if j["state"] != "succeeded":
    sys.exit("bench-schema: the apply job ended %s: %s" % (j["state"], j["error"]))
print("SchemaApply of 1,001 small files (one transaction each): %.2f s" % took)

ok("SchemaBaseline", {"set": "hist", "version": 10000}, 120)
# the summary (the default), then every file (all)
for every in (False, True):
    for i in range(repeat):
        t0 = time.monotonic()
        sets = ok("SchemaStatus", {"set": "hist", "all": every})["sets"]
        took = time.monotonic() - t0
        rows = sum(sets[0]["counts"].values())
        print("SchemaStatus%s of a set with a %d-row history: %.3f s"
              " (%d file%s listed)"
              % (" all" if every else "", rows, took,
                 len(sets[0]["files"]),
                 "" if len(sets[0]["files"]) == 1 else "s"))
PY
