#!/bin/sh
# `make bench`: the daemon against one plain UPDATE ... FROM per table, on
# identical demo data (conf/demo) in a throwaway PostgreSQL cluster, then the
# control socket's GetStatus latency with 50 clients polling while 2 workers
# migrate. Prints figures and checks that both ways give the same rows; it
# never judges timings. docs/BENCHMARKS.md explains the figures.
#
# Environment:
#   BENCH_ROWS     row counts to measure (default "100000 1000000")
#   BATCH          batch_size in the daemon's configuration (default 5000;
#                  steps that set their own batch keep it)
#   WORKERS        workers in the daemon's configuration (default 2)
#   LAT_ROWS       rows migrated while latency is measured (default 1000000;
#                  0 skips the latency run)
#   LAT_CLIENTS    latency clients (default 50)
#   LAT_INTERVAL   seconds between one client's calls (default 0.1)
#   BENCH_PORT     port of the throwaway cluster (default 54339)
#   B              build directory, as in the Makefile (default build)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/${B:-build}
case ${B:-build} in
/*) build=$B ;;
esac
migrated=$build/migrated
migratectl=$build/migratectl
PGBIN=/usr/lib/postgresql/15/bin
PYTHON=/usr/bin/python3
rows_list=${BENCH_ROWS:-100000 1000000}
batch=${BATCH:-5000}
workers=${WORKERS:-2}
lat_rows=${LAT_ROWS:-1000000}
lat_clients=${LAT_CLIENTS:-50}
lat_interval=${LAT_INTERVAL:-0.1}
port=${BENCH_PORT:-54339}
plan=tenant-to-org
tables="profiles claims documents"

for b in "$migrated" "$migratectl"; do
	[ -x "$b" ] || { echo "bench: $b is not built; run make all" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/migrated-bench.XXXXXX)
chmod 755 "$dir"
sock=$dir/pg/sock              # where pgcluster.sh puts the server's socket
daemon_pid=
lat_pid=

say() {
	printf '==> %s\n' "$*" >&2
}

stop_daemon() {
	[ -n "$daemon_pid" ] || return 0
	kill -TERM "$daemon_pid" 2>/dev/null || true
	n=0
	while kill -0 "$daemon_pid" 2>/dev/null && [ "$n" -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -KILL "$daemon_pid" 2>/dev/null || true
	wait "$daemon_pid" 2>/dev/null || true
	daemon_pid=
}

cleanup() {
	status=$?
	trap - EXIT INT TERM HUP
	if [ -n "$lat_pid" ]; then
		kill -TERM "$lat_pid" 2>/dev/null || true
		wait "$lat_pid" 2>/dev/null || true
	fi
	stop_daemon
	if [ "$status" -ne 0 ]; then
		echo "bench: failed; last lines of the daemon log:" >&2
		tail -n 30 "$dir/migrated.log" >&2 2>/dev/null || true
	fi
	sh "$top/scripts/pgcluster.sh" destroy "$dir/pg" || true
	rm -rf "$dir"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# psql on database $1, quiet and strict; the rest are psql arguments.
sql() {
	db=$1
	shift
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" \
	    -U postgres -d "$db" "$@"
}

# One value: psql on database $1 with -tAc "$2".
sql_value() {
	sql "$1" -tAc "$2"
}

now() {
	date +%s.%N
}

# Seconds from $1 to $2, three decimals.
elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}

# A fresh database $1 holding $2 demo rows, written out to disk.
load() {
	sql postgres -c "SET client_min_messages = warning" \
	    -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" \
	    -c "CREATE DATABASE $1"
	sql "$1" -v rows="$2" -f "$top/conf/demo/schema.sql" \
	    -f "$top/conf/demo/data.sql"
	sql "$1" -c CHECKPOINT
}

# "rows without organization_id" and "md5 of every (id, organization_id)"
# of database $1, one line.
result_of() {
	sql_value "$1" "
	    SELECT (SELECT count(*) FROM profiles WHERE organization_id IS NULL)
	         + (SELECT count(*) FROM claims WHERE organization_id IS NULL)
	         + (SELECT count(*) FROM documents WHERE organization_id IS NULL),
	           md5((SELECT string_agg(id || ':' || organization_id, ','
	                                  ORDER BY id) FROM profiles)
	            || (SELECT string_agg(id || ':' || organization_id, ','
	                                  ORDER BY id) FROM claims)
	            || (SELECT string_agg(id || ':' || organization_id, ','
	                                  ORDER BY id) FROM documents))" |
	    tr '|' ' '
}

# Seconds taken by the single-statement baseline on database $1.
baseline() {
	set --
	for t in $tables; do
		set -- "$@" -c "UPDATE $t t SET organization_id = m.organization_id
		    FROM tenant_org_mappings m WHERE t.tenant_id = m.tenant_id"
	done
	t0=$(now)
	sql bench_baseline "$@"
	t1=$(now)
	elapsed "$t0" "$t1"
}

# Starts the daemon on database $1 and waits until it serves.
start_daemon() {
	cat >"$dir/migrated.conf" <<-CONF
	[daemon]
	socket = $dir/io.migrated
	plan_dir = $top/conf/plans
	workers = $workers
	batch_size = $batch
	log_level = info

	[target]
	conninfo = host=$sock port=$port dbname=$1 user=postgres
	CONF
	"$migrated" -c "$dir/migrated.conf" </dev/null >>"$dir/migrated.log" \
	    2>&1 &
	daemon_pid=$!
	tries=0
	until "$migratectl" --json status 2>/dev/null |
	    grep -Eq '"database" *: *"connected"'; do
		kill -0 "$daemon_pid" 2>/dev/null || {
			echo "bench: migrated exited early" >&2
			daemon_pid=
			exit 1
		}
		tries=$((tries + 1))
		[ "$tries" -le 100 ] ||
		    { echo "bench: migrated not ready after 10 s" >&2; exit 1; }
		sleep 0.1
	done
}

# Runs the plan for every tenant through the daemon; prints the seconds
# from submit until --wait returned.
daemon_run() {
	t0=$(now)
	"$migratectl" submit "$plan" --all --wait >"$dir/submit.log" 2>&1 || {
		echo "bench: migratectl submit failed:" >&2
		tail -n 20 "$dir/submit.log" >&2
		exit 1
	}
	t1=$(now)
	elapsed "$t0" "$t1"
}

# "batches jobs span" from the daemon's state in database $1: committed
# batches, succeeded jobs, seconds from the first job's creation to the
# last one's end.
daemon_stats() {
	sql_value "$1" "
	    SELECT (SELECT sum(batches) FROM migrated.job_steps),
	           count(*) FILTER (WHERE state = 'succeeded'),
	           round(extract(epoch FROM max(finished) - min(created))::numeric,
	                 3)
	    FROM migrated.jobs" | tr '|' ' '
}

# Stops after printing why when the two results differ or rows are left.
compare() {
	set -- $1 $2
	if [ "$1" -ne 0 ] || [ "$3" -ne 0 ] || [ "$2" != "$4" ]; then
		echo "bench: results differ: baseline: $1 rows left, md5 $2;" \
		    "daemon: $3 rows left, md5 $4" >&2
		exit 1
	fi
}

say "throwaway PostgreSQL 15 cluster in $dir/pg (port $port)"
sh "$top/scripts/pgcluster.sh" start "$dir/pg" "$port"
export MIGRATED_SOCKET="$dir/io.migrated"

results=
for rows in $rows_list; do
	say "$rows rows: baseline, one UPDATE ... FROM per table"
	load bench_baseline "$rows"
	base_s=$(baseline)
	base_result=$(result_of bench_baseline)
	sql postgres -c "DROP DATABASE bench_baseline"

	say "$rows rows: migrated, $workers workers, batch_size $batch"
	load bench_daemon "$rows"
	start_daemon bench_daemon
	daemon_s=$(daemon_run)
	stop_daemon
	daemon_result=$(result_of bench_daemon)
	stats=$(daemon_stats bench_daemon)
	compare "$base_result" "$daemon_result"
	say "same result: 0 rows left, md5 ${base_result#* }"
	results="$results$rows $base_s $daemon_s $stats
"
done

echo
echo "Throughput: $workers workers, batch_size $batch; wall seconds"
printf '%9s %10s %10s %7s %10s %8s %6s %10s\n' rows baseline daemon ratio \
    'rows/s' batches jobs 'job span'
printf '%s' "$results" | while read -r rows base_s daemon_s batches jobs span; do
	awk -v r="$rows" -v b="$base_s" -v d="$daemon_s" -v n="$batches" \
	    -v j="$jobs" -v s="$span" 'BEGIN {
		printf "%9d %10.2f %10.2f %7.2f %10.0f %8d %6d %10.2f\n",
		    r, b, d, d / b, r / d, n, j, s
	}'
done

[ "$lat_rows" -gt 0 ] || exit 0

echo
say "latency: $lat_clients clients polling GetStatus every ${lat_interval}s" \
    "while $workers workers migrate $lat_rows rows"
load bench_daemon "$lat_rows"
start_daemon bench_daemon
"$PYTHON" "$top/scripts/bench_latency.py" --socket "$MIGRATED_SOCKET" \
    --clients "$lat_clients" --interval "$lat_interval" >"$dir/latency.out" &
lat_pid=$!
lat_daemon_s=$(daemon_run)
kill -TERM "$lat_pid"
lat_rc=0
wait "$lat_pid" || lat_rc=$?
lat_pid=
stop_daemon
cat "$dir/latency.out"
[ "$lat_rc" -eq 0 ] || echo "bench: some GetStatus calls failed" >&2
echo "(the migration took ${lat_daemon_s} s under this load)"
