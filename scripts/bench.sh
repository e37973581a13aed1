#!/bin/sh
# `make bench`: the daemon against one plain UPDATE ... FROM per table, on
# identical demo data (conf/demo) in a throwaway PostgreSQL cluster; a copy
# step importing a legacy table against the best hand-written pipeline
# (COPY | COPY, then one INSERT ... ON CONFLICT); then the control socket's
# GetStatus latency with 50 clients polling while the workers migrate, next
# to a bare epoll server answering the same call on the same machine.
# Prints figures and checks that every run leaves the same rows; it never
# judges timings. docs/BENCHMARKS.md explains the figures.
#
# Environment:
#   BENCH_ROWS     row counts to measure (default "100000 1000000"; 0
#                  skips the throughput runs)
#   BENCH_PLANS    plan variants (default "shipped bare"): shipped is
#                  conf/plans/tenant-to-org.plan as it is; bare is the same
#                  plan without backups and post-verifications, which is
#                  what the single statement does
#   REPEAT         runs of each measurement (default 1)
#   BATCH          batch_size in the daemon's configuration (default 5000;
#                  steps that set their own batch keep it)
#   WORKERS        workers in the daemon's configuration (default 2)
#   LAT_ROWS       rows migrated while latency is measured (default 1000000;
#                  0 skips the latency run)
#   LAT_CLIENTS    latency clients (default 50)
#   LAT_INTERVAL   seconds between one client's calls (default 0.1)
#   SUBMIT_TENANTS tenants submitted at once for the submit time and the
#                  daemon's peak memory (default 10000; 0 skips)
#   COPY_ROWS      rows of the copy benchmark: a legacy table imported by a
#                  copy step against COPY | COPY and one INSERT ... ON
#                  CONFLICT (default 1000000; 0 skips)
#   COPY_BATCHES   batch sizes of the copy step (default "1000 5000 20000")
#   COPY_BACKUP    backup of the copy step (default no; yes measures the
#                  pre-images the daemon stores, which the pipeline lacks)
#   FLEET_ROWS     rows of the several-daemons run: the shipped plan over
#                  the demo data by one daemon, then by two daemons sharing
#                  the state database (default 1000000; 0 skips)
#   BENCH_STATEMENTS yes: load pg_stat_statements (track = all, planning
#                  too) and print, after each throughput run, where the
#                  server's time went, statement by statement (default no;
#                  the extension costs a few percent, so the figures of
#                  such a run are not comparable with the others)
#   SQLITE_ROWS    rows of the SQLite benchmark (scripts/bench-sqlite.sh:
#                  a SQLite table imported by the daemon and by pgloader;
#                  default 1000000; 0 skips)
#   BENCH_PORT     port of the throwaway cluster (default 54339)
#   B              build directory, as in the Makefile (default build)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"
case ${B:-build} in
/*) build=$B ;;
*) build=$top/${B:-build} ;;
esac
migrated=$build/migrated
migratectl=$build/migratectl
PGBIN=/usr/lib/postgresql/15/bin
PYTHON=/usr/bin/python3
rows_list=${BENCH_ROWS:-100000 1000000}
plans=${BENCH_PLANS:-shipped bare}
repeat=${REPEAT:-1}
batch=${BATCH:-5000}
workers=${WORKERS:-2}
lat_rows=${LAT_ROWS:-1000000}
lat_clients=${LAT_CLIENTS:-50}
lat_interval=${LAT_INTERVAL:-0.1}
submit_tenants=${SUBMIT_TENANTS:-10000}
copy_rows=${COPY_ROWS:-1000000}
copy_batches=${COPY_BATCHES:-1000 5000 20000}
copy_backup=${COPY_BACKUP:-no}
fleet_rows=${FLEET_ROWS:-1000000}
port=${BENCH_PORT:-54339}
statements=${BENCH_STATEMENTS:-no}
plan=tenant-to-org
tables="profiles claims documents"
hz=$(getconf CLK_TCK)

for b in "$migrated" "$migratectl"; do
	[ -x "$b" ] || { echo "bench: $b is not built; run make all" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/migrated-bench.XXXXXX)
chmod 755 "$dir"
sock=$dir/pg/sock              # where pgcluster.sh puts the server's socket
daemon_pid=
daemon2_pid=
lat_pid=
epoll_pid=

say() {
	printf '==> %s\n' "$*" >&2
}

cleanup() {
	status=$?
	trap - EXIT INT TERM HUP
	for p in "$lat_pid" "$epoll_pid"; do
		[ -n "$p" ] || continue
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	stop_daemon
	stop_second_daemon
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

# One value (or one row, fields separated by spaces) of query $2 on $1.
sql_value() {
	sql "$1" -tAF ' ' -c "$2"
}

now() {
	date +%s.%N
}

# Seconds from $1 to $2, three decimals.
elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}

# CPU seconds (user + system) used so far by the processes $@.
cpu_of() {
	for p in "$@"; do
		cat "/proc/$p/stat"
	done | awk -v hz="$hz" '
	    { sub(/^.*\) /, ""); t += $12 + $13 }   # utime, stime
	    END { printf "%.2f", t / hz }'
}

# A fresh database $1 holding $2 demo rows of $3 (default 100) tenants,
# written out to disk.
load() {
	sql postgres -c "SET client_min_messages = warning" \
	    -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" \
	    -c "CREATE DATABASE $1"
	sql "$1" -v rows="$2" -v tenants="${3:-100}" \
	    -f "$top/conf/demo/schema.sql" -f "$top/conf/demo/data.sql"
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
	                                  ORDER BY id) FROM documents))"
}

# The single-statement baseline on database bench_baseline, one statement
# (and transaction) per table; prints "wall-seconds cpu-seconds
# backend-cpu-seconds": the CPU of the whole cluster during the statements
# (cluster_cpu: the backend that ran them and every other server process),
# and of the backend that ran them alone.
baseline() {
	{
		echo 'SELECT pg_backend_pid() AS pid \gset'
		for t in $tables; do
			echo "UPDATE $t t SET organization_id = m.organization_id"
			echo "FROM tenant_org_mappings m"
			echo "WHERE t.tenant_id = m.tenant_id;"
		done
		echo '\setenv BENCH_PID :pid'
		echo "\\! cat /proc/\$BENCH_PID/stat >$dir/baseline.stat"
	} >"$dir/baseline.sql"
	c0=$(cluster_cpu)
	t0=$(now)
	sql bench_baseline -f "$dir/baseline.sql"
	t1=$(now)
	c1=$(cluster_cpu)
	echo "$(elapsed "$t0" "$t1") $(minus "$c0" "$c1") $(awk -v hz="$hz" '
	    { sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
	    "$dir/baseline.stat")"
}

# With BENCH_STATEMENTS=yes: statements_reset DB before a run, then
# statements_top DB WHAT after it prints the statements that took the most
# server time (execution and planning) in DB, with their share.
statements_reset() {
	[ "$statements" = yes ] || return 0
	sql "$1" -c "SET client_min_messages = warning" \
	    -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
	    -c "SELECT pg_stat_statements_reset()" >/dev/null
}

statements_top() {
	[ "$statements" = yes ] || return 0
	{
		echo
		echo "Where the server's time went: $2"
		sql "$1" -P pager=off -c "
		    WITH s AS (
		        SELECT calls, total_exec_time + total_plan_time AS ms,
		               total_plan_time AS plan_ms,
		               shared_blks_hit + shared_blks_read AS blks,
		               regexp_replace(query, '\s+', ' ', 'g') AS q
		        FROM pg_stat_statements s JOIN pg_database d
		          ON d.oid = s.dbid AND d.datname = current_database())
		    SELECT calls, round(ms::numeric / 1000, 2) AS seconds,
		           round((100 * ms / sum(ms) OVER ())::numeric, 1) AS pct,
		           round(plan_ms::numeric / 1000, 2) AS planning,
		           blks AS buffers, left(q, 70) AS statement
		    FROM s ORDER BY ms DESC LIMIT 12"
	} >>"$dir/statements.out"
}

# The plan directory for variant $1.
plan_dir() {
	case $1 in
	shipped)
		echo "$top/conf/plans"
		;;
	bare)
		# the same plan without backup = yes and [verify] sections
		mkdir -p "$dir/plans-bare"
		awk '/^\[/ { skip = ($0 ~ /^\[verify /) }
		     !skip && !/^backup *= *yes/' \
		    "$top/conf/plans/$plan.plan" >"$dir/plans-bare/$plan.plan"
		echo "$dir/plans-bare"
		;;
	*)
		echo "bench: unknown plan variant $1 (shipped or bare)" >&2
		exit 2
		;;
	esac
}

# Starts the daemon on database $1 with plan directory $2, and database $3
# as its [database legacy] if given; waits until it serves.
start_daemon() {
	cat >"$dir/migrated.conf" <<-CONF
	[daemon]
	socket = $dir/io.migrated
	plan_dir = $2
	workers = $workers
	batch_size = $batch
	log_level = info

	[target]
	conninfo = host=$sock port=$port dbname=$1 user=postgres
	CONF
	if [ -n "${3:-}" ]; then
		printf '\n[database legacy]\nconninfo = %s\n' \
		    "host=$sock port=$port dbname=$3 user=postgres" \
		    >>"$dir/migrated.conf"
	fi
	"$migrated" -c "$dir/migrated.conf" </dev/null >>"$dir/migrated.log" \
	    2>&1 &
	daemon_pid=$!
	wait_ready bench
}

# Field $1 of the daemon's /proc status, in MiB (VmRSS, VmHWM).
daemon_mem() {
	awk -v f="$1:" '$1 == f { printf "%.1f", $2 / 1024 }' \
	    "/proc/$daemon_pid/status"
}

# "daemon backends cluster": CPU seconds used so far by the daemon, by
# the backends $@, and by the whole cluster (those backends included).
machine_cpu() {
	echo "$(cpu_of "$daemon_pid") $(cpu_of "$@") $(cluster_cpu)"
}

# The server processes serving database $1's clients (the daemon's
# connections, once it is ready).
backends_of() {
	sql_value "$1" "SELECT pid FROM pg_stat_activity
	    WHERE datname = current_database() AND pid <> pg_backend_pid()
	      AND backend_type = 'client backend'"
}

# "total daemon background" CPU seconds from machine_cpu $1 to $2: the
# daemon and the whole cluster; the daemon alone; the cluster but the
# backends measured (autovacuum, checkpointer, WAL writer, other clients).
cpu_split() {
	echo "$1 $2" | awk '{ printf "%.2f %.2f %.2f", $4 - $1 + $6 - $3,
	    $4 - $1, ($6 - $3) - ($5 - $2) }'
}

# Runs plan $1 through the daemon with submit arguments $2...; prints the
# seconds from submit until --wait returned.
daemon_run_plan() {
	t0=$(now)
	"$migratectl" submit "$@" --wait >"$dir/submit.log" 2>&1 || {
		echo "bench: migratectl submit failed:" >&2
		tail -n 20 "$dir/submit.log" >&2
		exit 1
	}
	t1=$(now)
	elapsed "$t0" "$t1"
}

# Runs the plan for every tenant through the daemon; prints the seconds
# from submit until --wait returned.
daemon_run() {
	daemon_run_plan "$plan" --all
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
	    FROM migrated.jobs"
}

# Stops after printing why when result $2 differs from the baseline's $1
# or rows are left without an organization.
compare() {
	# shellcheck disable=SC2086 # "count md5" twice: four fields
	set -- $1 $2
	if [ "$1" -ne 0 ] || [ "$3" -ne 0 ] || [ "$2" != "$4" ]; then
		echo "bench: results differ: baseline: $1 rows left, md5 $2;" \
		    "daemon: $3 rows left, md5 $4" >&2
		exit 1
	fi
}

# GetStatus latency with LAT_CLIENTS pollers while the workers migrate, on
# the daemon's socket and, in the same run and client process, on a bare
# epoll server (bench_epoll.py) sending the daemon's own reply: the floor.
latency() {
	echo
	say "latency: $lat_clients clients polling GetStatus every" \
	    "${lat_interval}s on migrated and on a bare epoll server while" \
	    "$workers workers migrate $lat_rows rows"
	load bench_daemon "$lat_rows"
	start_daemon bench_daemon "$(plan_dir shipped)"
	"$PYTHON" "$top/scripts/bench_epoll.py" --socket "$dir/epoll.sock" \
	    --reply-from "$MIGRATED_SOCKET" &
	epoll_pid=$!
	n=0
	until [ -S "$dir/epoll.sock" ]; do
		kill -0 "$epoll_pid" 2>/dev/null ||
		    { echo "bench: bench_epoll.py exited" >&2; exit 1; }
		n=$((n + 1))
		[ "$n" -le 100 ] ||
		    { echo "bench: bench_epoll.py not listening" >&2; exit 1; }
		sleep 0.1
	done
	"$PYTHON" "$top/scripts/bench_latency.py" \
	    --socket "migrated=$MIGRATED_SOCKET" \
	    --socket "bare-epoll=$dir/epoll.sock" \
	    --clients "$lat_clients" --interval "$lat_interval" \
	    >"$dir/latency.out" &
	lat_pid=$!
	lat_daemon_s=$(daemon_run)
	kill -TERM "$lat_pid"
	lat_rc=0
	wait "$lat_pid" || lat_rc=$?
	lat_pid=
	kill -TERM "$epoll_pid"
	wait "$epoll_pid" || true
	epoll_pid=
	stop_daemon
	cat "$dir/latency.out"
	echo "  while migrating $lat_rows rows in $lat_daemon_s s (plan shipped);" \
	    "bare-epoll: bench_epoll.py answering every call with migrated's" \
	    "GetStatus reply"
	[ "$lat_rc" -eq 0 ] || echo "bench: some GetStatus calls failed" >&2
}

# Time to submit SUBMIT_TENANTS tenants at once, and the daemon's memory.
submit_many() {
	say "submit: $submit_tenants tenants at once"
	load bench_daemon 0 "$submit_tenants"
	start_daemon bench_daemon "$(plan_dir shipped)"
	rss_idle=$(daemon_mem VmRSS)
	t0=$(now)
	"$migratectl" submit "$plan" --all >/dev/null
	t1=$(now)
	hwm_submit=$(daemon_mem VmHWM)
	"$migratectl" --json list --limit "$submit_tenants" >"$dir/list.json"
	t2=$(now)
	queued=$(sql_value bench_daemon \
	    "SELECT count(*) FROM migrated.jobs WHERE state = 'queued'")
	hwm=$(daemon_mem VmHWM)
	stop_daemon
	echo
	echo "Submit: $submit_tenants tenants in $(elapsed "$t0" "$t1") s" \
	    "(submit --all); listing them all (list --limit $submit_tenants)" \
	    "took $(elapsed "$t1" "$t2") s"
	echo "  daemon memory: RSS $rss_idle MiB idle; peak $hwm_submit MiB" \
	    "after the submit, $hwm MiB after the listing; $queued jobs" \
	    "still queued then"
}

# ---- copy: a legacy table imported by a copy step, or by hand ----

copy_cols="ext_id, email, name, plan, balance_cents, created_at, note"

# The merge both sides run: the statement the daemon builds for upsert =
# ext_id (INSERT ... ON CONFLICT DO UPDATE where something differs), here
# reading the pipeline's staging table.
copy_merge_sql="INSERT INTO accounts AS t ($copy_cols)
    SELECT s.ext_id, s.email, s.name, s.plan, s.balance_cents, s.created_at,
           s.note
    FROM staging s
    ON CONFLICT (ext_id) DO UPDATE SET email = excluded.email,
        name = excluded.name, plan = excluded.plan,
        balance_cents = excluded.balance_cents,
        created_at = excluded.created_at, note = excluded.note
    WHERE (t.email, t.name, t.plan, t.balance_cents, t.created_at, t.note)
          IS DISTINCT FROM (excluded.email, excluded.name, excluded.plan,
                            excluded.balance_cents, excluded.created_at,
                            excluded.note)"

# "rows md5" of the imported columns of accounts in database $1.
copy_result() {
	sql_value "$1" "SELECT count(*), md5(string_agg(md5(row($copy_cols)::text),
	    '' ORDER BY ext_id)) FROM accounts"
}

# CPU seconds used so far by the whole cluster: the postmaster, its live
# children, and the children it has reaped (cutime, cstime), so that
# backends which have exited still count.
cluster_cpu() {
	pm=$(head -n 1 "$dir/pg/data/postmaster.pid")
	# shellcheck disable=SC2046 # one pid per argument
	for p in "$pm" $(cat "/proc/$pm/task/$pm/children"); do
		cat "/proc/$p/stat" 2>/dev/null || true
	done | awk -v hz="$hz" -v pm="$pm" '
	    { pid = $1; sub(/^.*\) /, ""); t += $12 + $13
	      if (pid == pm) t += $14 + $15 }
	    END { printf "%.2f", t / hz }'
}

# $2 - $1, two decimals.
minus() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

# A fresh target database bench_copy with an empty accounts, written out.
copy_target() {
	sql postgres -c "SET client_min_messages = warning" \
	    -c "DROP DATABASE IF EXISTS bench_copy WITH (FORCE)" \
	    -c "CREATE DATABASE bench_copy"
	sql bench_copy -v part=target -f "$top/conf/demo/copy-bench.sql"
	sql bench_copy -c CHECKPOINT
}

# The hand-written pipeline into bench_copy: COPY out of the source piped
# into COPY into an unlogged staging table, then one INSERT ... ON
# CONFLICT. Prints "copy-seconds merge-seconds total-seconds
# server-cpu-seconds".
copy_pipeline() {
	sql bench_copy -c "SET client_min_messages = warning" \
	    -c "DROP TABLE IF EXISTS staging" \
	    -c "CREATE UNLOGGED TABLE staging (id bigint, ext_id text,
	        email text, name text, plan text, balance_cents bigint,
	        created_at timestamptz, note text)"
	c0=$(cluster_cpu)
	t0=$(now)
	sql bench_legacy -c "COPY (SELECT id, $copy_cols FROM accounts)
	    TO STDOUT" | sql bench_copy -c "COPY staging FROM STDIN"
	t1=$(now)
	sql bench_copy -c "$copy_merge_sql"
	t2=$(now)
	c1=$(cluster_cpu)
	echo "$(elapsed "$t0" "$t1") $(elapsed "$t1" "$t2") $(elapsed "$t0" "$t2")" \
	    "$(minus "$c0" "$c1")"
}

# The plan directory of the copy step with batch $1.
copy_plan() {
	mkdir -p "$dir/plans-copy"
	cat >"$dir/plans-copy/copy-bench.plan" <<-PLAN
	[plan]
	description = bench: one legacy table imported by natural key
	tenants = SELECT 'all'
	source = legacy

	[step accounts]
	source = legacy
	select = SELECT id, $copy_cols FROM accounts
	key = id
	into = accounts
	upsert = ext_id
	batch = $1
	backup = $copy_backup
	PLAN
	echo "$dir/plans-copy"
}

# One import by the daemon (already started): prints "seconds batches
# rows_changed daemon-cpu-seconds server-cpu-seconds" of the newest job.
copy_daemon_run() {
	c0=$(cpu_of "$daemon_pid")
	k0=$(cluster_cpu)
	secs=$(daemon_run_plan copy-bench --tenant all)
	c1=$(cpu_of "$daemon_pid")
	k1=$(cluster_cpu)
	st=$(sql_value bench_copy "SELECT s.batches, s.rows_changed
	    FROM migrated.jobs j JOIN migrated.job_steps s ON s.job_id = j.id
	    ORDER BY j.id DESC LIMIT 1")
	echo "$secs $st $(minus "$c0" "$c1") $(minus "$k0" "$k1")"
}

# Stops when result $2 (of what $3 did) differs from the source's $1.
copy_check() {
	if [ "$1" != "$2" ]; then
		echo "bench: copy: $3 left \"$2\", the source has \"$1\"" >&2
		exit 1
	fi
}

# The copy benchmark: the pipeline, then the daemon at each batch size,
# each on a fresh target; each of them once more over the imported data.
copy_bench() {
	echo
	say "copy: $copy_rows legacy rows, the source database bench_legacy"
	copy_load=$(cut -d' ' -f1-3 /proc/loadavg)
	sql postgres -c "SET client_min_messages = warning" \
	    -c "DROP DATABASE IF EXISTS bench_legacy WITH (FORCE)" \
	    -c "CREATE DATABASE bench_legacy"
	sql bench_legacy -v part=source -v rows="$copy_rows" \
	    -f "$top/conf/demo/copy-bench.sql"
	sql bench_legacy -c CHECKPOINT
	want=$(sql_value bench_legacy "SELECT count(*),
	    md5(string_agg(md5(row($copy_cols)::text), '' ORDER BY ext_id))
	    FROM accounts")
	copy_results=
	run=1
	while [ "$run" -le "$repeat" ]; do
		say "copy, run $run: pipeline, COPY | COPY then INSERT ... ON" \
		    "CONFLICT"
		copy_target
		p=$(copy_pipeline)
		copy_check "$want" "$(copy_result bench_copy)" pipeline
		say "copy, run $run: pipeline again over the imported rows"
		p2=$(copy_pipeline)
		copy_check "$want" "$(copy_result bench_copy)" "pipeline again"
		copy_results="$copy_results$run pipeline - $p
$run pipeline-again - $p2
"
		for b in $copy_batches; do
			say "copy, run $run: migrated, a copy step with batch = $b"
			copy_target
			start_daemon bench_copy "$(copy_plan "$b")" bench_legacy
			d=$(copy_daemon_run)
			copy_check "$want" "$(copy_result bench_copy)" \
			    "the daemon (batch $b)"
			say "copy, run $run: migrated again over the imported rows"
			d2=$(copy_daemon_run)
			copy_check "$want" "$(copy_result bench_copy)" \
			    "the daemon again (batch $b)"
			stop_daemon
			copy_results="$copy_results$run daemon $b $d
$run daemon-again $b $d2
"
		done
		run=$((run + 1))
	done
	sql postgres -c "DROP DATABASE bench_copy WITH (FORCE)" \
	    -c "DROP DATABASE bench_legacy WITH (FORCE)"
	echo
	echo "Copy: $copy_rows rows from database bench_legacy into accounts" \
	    "(unique ext_id, identity id) in bench_copy; backup = $copy_backup;" \
	    "times in seconds"
	echo "load average before: $copy_load; after:" \
	    "$(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	printf '%3s %-15s %6s %8s %6s %8s %8s %8s %8s %8s\n' run what batch \
	    seconds ratio batches changed 'cpu srv' 'cpu dmn' 'rows/s'
	printf '%s' "$copy_results" | awk -v rows="$copy_rows" '
	    $2 == "pipeline" { base[$1] = $6; again[$1] = $6 }
	    $2 == "pipeline-again" { again[$1] = $6 }
	    {
		if ($2 ~ /^pipeline/) {
			s = $6; b = ($2 == "pipeline") ? base[$1] : again[$1]
			printf "%3d %-15s %6s %8.2f %6.2f %8s %8s %8.2f %8s %8.0f\n",
			    $1, $2, "-", s, s / b, "-", "-", $7, "-", rows / s
		} else {
			s = $4; b = ($2 == "daemon") ? base[$1] : again[$1]
			printf "%3d %-15s %6d %8.2f %6.2f %8d %8d %8.2f %8.2f %8.0f\n",
			    $1, $2, $3, s, s / b, $5, $6, $8, $7, rows / s
		}
	    }'
	printf '%s' "$copy_results" | awk '$2 ~ /^pipeline/ {
	    printf "  %s run %d: COPY | COPY %.2f s, INSERT ... ON CONFLICT" \
	        " %.2f s\n", $2, $1, $4, $5 }'
	cat <<-'EOF'

	pipeline: psql -c "COPY (SELECT ...) TO STDOUT" | psql -c "COPY staging
	FROM STDIN" into an unlogged table, then one INSERT ... SELECT ... ON
	CONFLICT (ext_id) DO UPDATE ... WHERE (...) IS DISTINCT FROM (...), the
	merge the daemon builds. daemon: one job of a copy step (upsert = ext_id,
	backup = COPY_BACKUP, default no), from submit until submit --wait
	returned, one transaction per batch. again: the same over the imported
	rows (nothing changes). ratio: daemon / pipeline (again: / pipeline
	again). cpu srv: CPU seconds of the whole cluster (every backend, both
	databases) during the run; cpu dmn: of migrated. Every run is checked
	against the source (count and md5 of the imported columns).
	EOF
}

# ---- several daemons: one daemon, then two, on the same run ----

# A second daemon like the one start_daemon started, on its own socket.
start_second_daemon() {
	sed "s|^socket = .*|socket = $dir/io.migrated2|" "$dir/migrated.conf" \
	    >"$dir/migrated2.conf"
	"$migrated" -c "$dir/migrated2.conf" </dev/null \
	    >>"$dir/migrated2.log" 2>&1 &
	daemon2_pid=$!
	until MIGRATED_SOCKET=$dir/io.migrated2 "$migratectl" --json status \
	    2>/dev/null | grep -Eq '"database" *: *"connected"'; do
		kill -0 "$daemon2_pid" 2>/dev/null ||
		    { echo "bench: the second migrated exited" >&2; exit 1; }
		sleep 0.1
	done
}

stop_second_daemon() {
	[ -n "$daemon2_pid" ] || return 0
	kill -TERM "$daemon2_pid" 2>/dev/null || true
	wait "$daemon2_pid" 2>/dev/null || true
	daemon2_pid=
}

# The shipped plan over FLEET_ROWS rows by $1 daemons (1 or 2); prints
# "seconds server-cpu-seconds daemons-cpu-seconds batches jobs".
fleet_run() {
	load bench_daemon "$fleet_rows"
	start_daemon bench_daemon "$(plan_dir shipped)"
	[ "$1" -eq 1 ] || start_second_daemon
	k0=$(cluster_cpu)
	# shellcheck disable=SC2086 # no second pid: no argument
	c0=$(cpu_of "$daemon_pid" $daemon2_pid)
	secs=$(daemon_run)
	k1=$(cluster_cpu)
	# shellcheck disable=SC2086
	c1=$(cpu_of "$daemon_pid" $daemon2_pid)
	owners=$(sql_value bench_daemon "SELECT count(DISTINCT
	    split_part(owner, ':', 2)) FROM migrated.batches")
	stop_second_daemon
	stop_daemon
	[ "$owners" -eq "$1" ] || {
		echo "bench: fleet: $owners daemon(s) ran batches, not $1" >&2
		exit 1
	}
	stats=$(daemon_stats bench_daemon)
	echo "$secs $(minus "$k0" "$k1") $(minus "$c0" "$c1") $stats"
}

fleet_bench() {
	echo
	say "fleet: $fleet_rows rows by one daemon, then by two"
	fleet_load=$(cut -d' ' -f1-3 /proc/loadavg)
	load bench_baseline "$fleet_rows"
	baseline >/dev/null
	base_result=$(result_of bench_baseline)
	sql postgres -c "DROP DATABASE bench_baseline"
	fleet_results=
	run=1
	while [ "$run" -le "$repeat" ]; do
		for n in 1 2; do
			say "fleet, run $run: $n daemon(s) of $workers workers"
			r=$(fleet_run "$n")
			compare "$base_result" "$(result_of bench_daemon)"
			fleet_results="$fleet_results$run $n $r
"
		done
		run=$((run + 1))
	done
	sql postgres -c "DROP DATABASE IF EXISTS bench_daemon"
	echo
	echo "Several daemons: plan $plan (shipped) over $fleet_rows demo rows," \
	    "$workers workers per daemon, one state database; $(nproc) CPUs"
	echo "load average before: $fleet_load; after:" \
	    "$(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	printf '%3s %7s %8s %9s %8s %8s %9s %7s\n' run daemons seconds \
	    'rows/s' 'cpu srv' 'cpu dmn' 'srv busy' batches
	printf '%s' "$fleet_results" | awk -v rows="$fleet_rows" \
	    -v cpus="$(nproc)" '{
		printf "%3d %7d %8.2f %9.0f %8.2f %8.2f %8.0f%% %7d\n",
		    $1, $2, $3, rows / $3, $4, $5, 100 * $4 / ($3 * cpus), $6
	    }'
	cat <<-'EOF'

	seconds: from submit --all until submit --wait returned; every run
	leaves the same rows as one UPDATE per table (checked), and the batch
	record (migrated.batches) shows that as many daemons as asked ran
	batches. cpu srv: CPU seconds of the whole PostgreSQL cluster during
	the run; cpu dmn: of the daemons; srv busy: cpu srv / (seconds * CPUs),
	the share of the machine the database used.
	EOF
}

say "throwaway PostgreSQL 15 cluster in $dir/pg (port $port)"
sh "$top/scripts/pgcluster.sh" start "$dir/pg" "$port"
if [ "$statements" = yes ]; then
	cat >>"$dir/pg/data/postgresql.conf" <<-CONF
	shared_preload_libraries = 'pg_stat_statements'
	pg_stat_statements.track = all
	pg_stat_statements.track_planning = on
	pg_stat_statements.max = 1000
	CONF
	sh "$top/scripts/pgcluster.sh" stop "$dir/pg"
	sh "$top/scripts/pgcluster.sh" start "$dir/pg" "$port"
fi
export MIGRATED_SOCKET="$dir/io.migrated"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

results=
# BENCH_ROWS=0: no throughput runs (the copy, latency and submit parts only)
[ "$rows_list" = 0 ] || {
for rows in $rows_list; do
	run=1
	while [ "$run" -le "$repeat" ]; do
		say "$rows rows, run $run: baseline, one UPDATE ... FROM per table"
		load bench_baseline "$rows"
		statements_reset bench_baseline
		base=$(baseline)
		statements_top bench_baseline "$rows rows, run $run, baseline"
		base_result=$(result_of bench_baseline)
		sql postgres -c "DROP DATABASE bench_baseline"
		for variant in $plans; do
			say "$rows rows, run $run: migrated, plan $variant"
			load bench_daemon "$rows"
			start_daemon bench_daemon "$(plan_dir "$variant")"
			statements_reset bench_daemon
			# shellcheck disable=SC2046 # one argument per pid
			set -- $(backends_of bench_daemon)
			c0=$(machine_cpu "$@")
			daemon_s=$(daemon_run)
			cpu=$(cpu_split "$c0" "$(machine_cpu "$@")")
			stop_daemon
			statements_top bench_daemon \
			    "$rows rows, run $run, plan $variant"
			stats=$(daemon_stats bench_daemon)
			compare "$base_result" "$(result_of bench_daemon)"
			results="$results$rows $variant $base $daemon_s $cpu $stats
"
		done
		say "same rows in every run: md5 ${base_result#* }"
		run=$((run + 1))
	done
done
sql postgres -c "DROP DATABASE IF EXISTS bench_daemon"

echo
echo "$("$migrated" --version 2>/dev/null | head -n 1)," \
    "$(nproc) CPUs, $(sql_value postgres 'SHOW server_version') with" \
    "fsync=$(sql_value postgres 'SHOW fsync')," \
    "shared_buffers=$(sql_value postgres 'SHOW shared_buffers')"
echo "load average before: $load_before;" \
    "after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "workers = $workers, batch_size = $batch (steps with their own batch" \
    "keep it); times in seconds"
echo
printf '%8s %-7s %8s %7s %6s %7s %8s %7s %8s %8s %6s %6s %6s %6s %5s\n' \
    rows plan baseline daemon ratio span 'rows/s' batches 'cpu base' \
    'cpu dmn' 'cpu x' 'bg b' 'bg d' 'own d' jobs
printf '%s' "$results" |
while read -r rows variant base_s base_cpu base_be daemon_s cpu own bg \
    batches jobs span; do
	awk -v r="$rows" -v v="$variant" -v b="$base_s" -v d="$daemon_s" \
	    -v s="$span" -v bc="$base_cpu" -v be="$base_be" -v c="$cpu" \
	    -v own="$own" -v bg="$bg" -v n="$batches" -v j="$jobs" 'BEGIN {
		printf "%8d %-7s %8.2f %7.2f %6.2f %7.2f %8.0f %7d %8.2f %8.2f %6.2f %6.2f %6.2f %6.2f %5d\n",
		    r, v, b, d, d / b, s, r / d, n, bc, c, (bc > 0 ? c / bc : 0),
		    bc - be, bg, own, j
	}'
done
cat <<'EOF'

baseline: wall seconds of the three statements. daemon: wall seconds from
submit until `submit --wait` returned; ratio = daemon / baseline; span: from
the first job's creation to the last job's end, as the daemon recorded them
(--wait notices the end up to 0.25 s later). rows/s: rows / daemon. batches:
batches committed. cpu base: CPU seconds (user + system, from /proc) of the
whole cluster while the statements ran: every server process, those that
exited included; cpu dmn: of migrated plus the whole cluster from submit
until --wait returned. cpu x = cpu dmn / cpu base. bg b, bg d: the part of
cpu base and cpu dmn not spent by the backends doing the work (autovacuum,
checkpointer, WAL writer, anything else on the cluster); own d: the part of
cpu dmn spent by migrated itself.
EOF
[ "$statements" != yes ] || cat "$dir/statements.out"
}

if [ "$copy_rows" -gt 0 ]; then
	copy_bench
fi
if [ "$lat_rows" -gt 0 ]; then
	latency
fi
if [ "$submit_tenants" -gt 0 ]; then
	submit_many
fi
if [ "$fleet_rows" -gt 0 ]; then
	fleet_bench
fi
if [ "${SQLITE_ROWS:-1000000}" -gt 0 ]; then
	sh "$top/scripts/bench-sqlite.sh"
fi
