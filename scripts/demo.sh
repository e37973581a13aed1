#!/bin/sh
# `make demo`: a throwaway PostgreSQL cluster, the daemon in front of it, and
# migratectl talking to the daemon. Leaves nothing behind.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"
migrated=$top/build/migrated
migratectl=$top/build/migratectl
port=${DEMO_PORT:-54329}
rows=${DEMO_ROWS:-1000000}
tenants=${DEMO_TENANTS:-100}

for b in "$migrated" "$migratectl"; do
	[ -x "$b" ] || { echo "demo: $b is not built; run make all" >&2; exit 1; }
done

step() {
	printf '\n==> %s\n' "$*"
}

dir=$(mktemp -d /tmp/migrated-demo.XXXXXX)
chmod 755 "$dir"
daemon_pid=

cleanup() {
	status=$?
	trap - EXIT INT TERM HUP
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		step "stopping migrated (pid $daemon_pid)"
		stop_daemon
	fi
	step "removing the cluster in $dir"
	sh "$top/scripts/pgcluster.sh" destroy "$dir/pg" || true
	if [ "$status" -ne 0 ]; then
		echo "demo: failed; daemon log:" >&2
		cat "$dir/migrated.log" >&2 2>/dev/null || true
	fi
	rm -rf "$dir"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

step "starting a throwaway PostgreSQL 15 cluster in $dir/pg (port $port)"
sh "$top/scripts/pgcluster.sh" start "$dir/pg" "$port"
conninfo=$(sh "$top/scripts/pgcluster.sh" conninfo "$dir/pg" "$port")
echo "conninfo: $conninfo"

step "writing $dir/migrated.conf"
mkdir "$dir/plans"
cat >"$dir/migrated.conf" <<CONF
[daemon]
socket = $dir/io.migrated
plan_dir = $dir/plans
workers = 2
log_level = info
reconnect_max_ms = 1000

[target]
conninfo = $conninfo
CONF
cat "$dir/migrated.conf"

step "checking the configuration: migrated -n -c $dir/migrated.conf"
"$migrated" -n -c "$dir/migrated.conf"

step "starting migrated (log in $dir/migrated.log)"
"$migrated" -c "$dir/migrated.conf" </dev/null >"$dir/migrated.log" 2>&1 &
daemon_pid=$!
echo "pid $daemon_pid"

export MIGRATED_SOCKET="$dir/io.migrated"
step "waiting until it is ready (socket up, database connected)"
wait_ready demo

step "migratectl status"
"$migratectl" status

step "loading the demo data: $rows rows over $tenants tenants (conf/demo)"
psql -X -q -d "$conninfo" -v rows="$rows" -v tenants="$tenants" \
    -f "$top/conf/demo/schema.sql" -f "$top/conf/demo/data.sql"
psql -X -d "$conninfo" -c "SELECT 'profiles' AS tbl, count(*) FROM profiles
    UNION ALL SELECT 'claims', count(*) FROM claims
    UNION ALL SELECT 'documents', count(*) FROM documents"

step "installing the plan conf/plans/tenant-to-org.plan and reloading"
cp "$top/conf/plans/tenant-to-org.plan" "$dir/plans/"
kill -HUP "$daemon_pid"
sleep 0.5
"$migratectl" plans

step "validating the plan's pre-checks for two tenants"
"$migratectl" validate tenant-to-org --tenant tenant-001 --tenant tenant-002 ||
    true

step "migratectl submit tenant-to-org --all"
"$migratectl" submit tenant-to-org --all

step "progress (every second until every job has ended)"
while :; do
	line=$("$migratectl" --json status | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)["status"]
j = s["jobs"]
total = sum(j.values())
ended = j["succeeded"] + j["failed"] + j["cancelled"]
if total == 0:
    print("counting jobs...")
else:
    print("%3d/%d jobs ended (%d running, %d failed)  %9d rows  %8.0f rows/s"
          % (ended, total, j["running"], j["failed"], s["rows_done"],
             s["rows_per_sec"]))
print("done" if total > 0 and j["queued"] + j["running"] == 0 else "more")')
	echo "$line" | head -n 1
	[ "$(echo "$line" | tail -n 1)" = "done" ] && break
	sleep 1
done

step "the latest jobs"
"$migratectl" list --limit 5

step "checking the result in the database"
psql -X -d "$conninfo" -c "SELECT 'profiles' AS tbl,
        count(*) FILTER (WHERE organization_id IS NULL) AS unmigrated,
        count(*) AS total FROM profiles
    UNION ALL SELECT 'claims', count(*) FILTER (WHERE organization_id IS NULL),
        count(*) FROM claims
    UNION ALL SELECT 'documents',
        count(*) FILTER (WHERE organization_id IS NULL), count(*)
        FROM documents"

step "the audit log (newest 5 entries)"
"$migratectl" log --limit 5

step "stopping migrated with SIGTERM"
kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=
echo "migrated exited with status $rc"
[ "$rc" -eq 0 ]

step "daemon log (last 10 lines)"
tail -n 10 "$dir/migrated.log"

step "done"
