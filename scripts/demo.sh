#!/bin/sh
# `make demo`: a throwaway PostgreSQL cluster, the daemon in front of it, and
# migratectl talking to the daemon. Leaves nothing behind.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"
. "$top/scripts/demo_schema.sh"
. "$top/scripts/demo_sqlite.sh"
migrated=$top/build/migrated
migratectl=$top/build/migratectl
port=${DEMO_PORT:-54329}
rows=${DEMO_ROWS:-1000000}
tenants=${DEMO_TENANTS:-100}
# psql's tables go straight to the screen, never into a pager waiting for a
# key
export PSQL_PAGER=cat

for b in "$migrated" "$migratectl"; do
	[ -x "$b" ] || { echo "demo: $b is not built; run make all" >&2; exit 1; }
done

step() {
	printf '\n==> %s\n' "$*"
}

# migratectl on the demo's socket (demo_schema.sh uses it too).
ctl() {
	"$migratectl" "$@"
}

# migratectl submit ARGS...: queues the jobs; prints their ids.
submit_ids() {
	"$migratectl" --json submit "$@" | /usr/bin/python3 -c '
import json, sys
print(" ".join(str(i) for i in json.load(sys.stdin)["jobs"]))'
}

# follow ID...: migratectl watch until the jobs have ended. On a terminal
# that is its progress bars; otherwise its JSON lines, told as one line per
# step as it ends.
follow() {
	if [ -t 1 ]; then
		"$migratectl" watch "$@"
		return
	fi
	"$migratectl" watch "$@" | /usr/bin/python3 -c '
import json, sys
seen = {}
for line in sys.stdin:
    j = json.loads(line)
    who = "job %d %s:%s" % (j["id"], j["tenant"], j["pair"] or "")
    for st in j["steps"]:
        k = (j["id"], st["name"])
        if st["state"] != "pending" and seen.get(k) != st["state"]:
            seen[k] = st["state"]
            print("%-34s step %-12s %-8s %6d/%d rows, %d changed"
                  % (who, st["name"], st["state"], st["rows_done"],
                     st["rows_estimated"], st["rows_changed"]))
    if j["state"] not in ("queued", "running") and \
            seen.get(j["id"]) != j["state"]:
        seen[j["id"]] = j["state"]
        print("%-34s %s%s" % (who, j["state"],
              ": " + j["error"] if j["error"] else ""))
    sys.stdout.flush()'
}

# changes ID...: one line per job, rows changed / rows read per step; fails
# unless every job succeeded.
changes() {
	for id in "$@"; do
		"$migratectl" --json show "$id"
	done | /usr/bin/python3 -c '
import json, sys
dec, text, jobs = json.JSONDecoder(), sys.stdin.read(), []
i = 0
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    obj, i = dec.raw_decode(text, i)
    jobs.append(obj["job"])
steps = []
for j in jobs:
    steps += [s["name"] for s in j["steps"] if s["name"] not in steps]
print("%4s  %-26s %-10s %s" % ("JOB", "PAIR", "STATE",
      "  ".join("%11s" % s for s in steps)))
for j in jobs:
    by = {s["name"]: s for s in j["steps"]}
    print("%4d  %-26s %-10s %s" % (j["id"], j["tenant"] + ":" + (j["pair"] or ""),
          j["state"], "  ".join("%11s" % ("%d/%d" % (by[s]["rows_changed"],
          by[s]["rows_done"]) if s in by else "-") for s in steps)))
print("(each step: rows changed / rows read from the legacy database)")
sys.exit(0 if all(j["state"] == "succeeded" for j in jobs) else 1)'
}

# The legacy import (conf/plans/legacy-import.plan) from database legacy.
legacy_import() {
	step "a legacy import: loading the legacy system into database legacy" \
	    "(conf/demo/legacy.sql)"
	psql -X -q -d "$legacy" -f "$top/conf/demo/legacy.sql"
	psql -X -d "$legacy" -c "SELECT 'tenants' AS tbl, count(*) FROM tenants
	    UNION ALL SELECT 'users', count(*) FROM users
	    UNION ALL SELECT 'roles', count(*) FROM roles
	    UNION ALL SELECT 'assignments', count(*) FROM assignments
	    UNION ALL SELECT 'templates', count(*) FROM templates
	    UNION ALL SELECT 'events', count(*) FROM events"
	psql -X -d "$legacy" -c "SELECT t.short_name, u.auth0_id, u.email,
	        u.display_name
	    FROM users u JOIN tenants t ON t.id = u.tenant_id
	    WHERE u.auth0_id IN (SELECT auth0_id FROM users
	                         GROUP BY 1 HAVING count(*) > 1)
	    ORDER BY u.auth0_id, t.short_name LIMIT 4"

	step "the new platform's schema on the target (conf/demo/platform.sql)"
	psql -X -q -d "$conninfo" -f "$top/conf/demo/platform.sql"
	echo "tenants by domain, users by auth0_id, roles and templates by" \
	    "(tenant_id, name), assignments by (user_id, tenant_id), events by" \
	    "(tenant_id, seq)"

	step "installing conf/plans/legacy-import.plan, checking it and reloading"
	cp "$top/conf/plans/legacy-import.plan" "$dir/plans/"
	"$migrated" -n -c "$dir/migrated.conf"
	kill -HUP "$daemon_pid"
	sleep 0.5
	"$migratectl" plans

	pairs="--pair tumi:tumi.example --pair tumi:tumi-archive.example
	    --pair acme:acme.example"
	features=tenants,users,roles,assignments
	step "importing $features for three pairs; tumi goes to two domains," \
	    "and a seventh of acme's users are tumi's too"
	echo "migratectl submit legacy-import $(echo $pairs) --steps $features"
	# shellcheck disable=SC2086 # one word per option
	ids=$(submit_ids legacy-import $pairs --steps "$features")
	# shellcheck disable=SC2086
	follow $ids
	# shellcheck disable=SC2086
	changes $ids
	psql -X -d "$conninfo" -c "SELECT t.domain, t.name,
	        (SELECT count(*) FROM roles r WHERE r.tenant_id = t.id) AS roles,
	        (SELECT count(*) FROM assignments a
	         WHERE a.tenant_id = t.id) AS assigned
	    FROM tenants t ORDER BY t.id" -c "SELECT count(*) AS users,
	        count(*) FILTER (WHERE (SELECT count(*) FROM assignments a
	                                WHERE a.user_id = u.id) > 1)
	            AS in_several_tenants
	    FROM users u"

	step "the same import again: nothing to change (rows_changed 0)"
	# shellcheck disable=SC2086
	ids=$(submit_ids legacy-import $pairs --steps "$features")
	# shellcheck disable=SC2086
	follow $ids
	# shellcheck disable=SC2086
	changes $ids

	first=${ids%% *}
	step "source against target for job $first (tumi:tumi.example):" \
	    "migratectl verify $first --compare"
	echo "(rows and checksums of the steps that merge by a natural key" \
	    "the select reads: tenants and users)"
	"$migratectl" verify "$first" --compare

	step "events alone for a new pair: refused, since the steps it needs" \
	    "(tenants, users) have not run for globex"
	"$migratectl" submit legacy-import --pair globex:globex.example \
	    --steps events || true

	step "the other features, templates and events, for the same pairs"
	# shellcheck disable=SC2086
	ids=$(submit_ids legacy-import $pairs --steps templates,events)
	# shellcheck disable=SC2086
	follow $ids
	# shellcheck disable=SC2086
	changes $ids

	step "meanwhile in the legacy system: a template of tumi deleted, a" \
	    "role described"
	psql -X -d "$legacy" -c "DELETE FROM templates
	    WHERE tenant_id = (SELECT id FROM tenants WHERE short_name = 'tumi')
	      AND name = 'template-50'" -c "UPDATE roles
	    SET description = 'Darf alles prüfen' WHERE name = 'Prüfer'
	      AND tenant_id = (SELECT id FROM tenants WHERE short_name = 'tumi')"

	step "a --fresh re-import of tumi:tumi.example: each step's clear" \
	    "first, then every step"
	echo "migratectl submit legacy-import --pair tumi:tumi.example --fresh"
	ids=$(submit_ids legacy-import --pair tumi:tumi.example --fresh)
	follow "$ids"
	changes "$ids"
	grep 'fresh: step' "$dir/migrated.log" | sed 's/^.*fresh: /fresh: /'
	psql -X -d "$conninfo" -c "SELECT t.domain,
	        (SELECT count(*) FROM templates p
	         WHERE p.tenant_id = t.id) AS templates,
	        (SELECT count(*) FROM events e WHERE e.tenant_id = t.id) AS events,
	        (SELECT description FROM roles r WHERE r.tenant_id = t.id
	         AND r.name = 'Prüfer') AS \"Prüfer\"
	    FROM tenants t ORDER BY t.id"
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
legacy=$(echo "$conninfo" | sed 's/dbname=migrated/dbname=legacy/')
echo "conninfo: $conninfo"
echo "legacy system (imported from later): $legacy"
psql -X -q -d "$conninfo" -c "CREATE DATABASE legacy"

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

[database legacy]
conninfo = $legacy
CONF
demo_schema_setup
demo_sqlite_setup
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

legacy_import
demo_sqlite
demo_schema

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
