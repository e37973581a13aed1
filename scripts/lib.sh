# shellcheck shell=sh
# The caller sets migratectl and daemon_pid.
# shellcheck disable=SC2154
# Shell functions shared by demo.sh and bench.sh (sourced, not run).

# wait_ready WHO: waits until the daemon $daemon_pid answers migratectl on
# $MIGRATED_SOCKET with its database connected. If the daemon exits or is
# not ready within 10 s, says so (as WHO) and exits 1.
wait_ready() {
	tries=0
	until "$migratectl" --json status 2>/dev/null |
	    grep -Eq '"database" *: *"connected"'; do
		kill -0 "$daemon_pid" 2>/dev/null || {
			echo "$1: migrated exited early" >&2
			daemon_pid=
			exit 1
		}
		tries=$((tries + 1))
		[ "$tries" -le 100 ] ||
		    { echo "$1: migrated not ready after 10 s" >&2; exit 1; }
		sleep 0.1
	done
}

# stop_daemon: SIGTERM to $daemon_pid, SIGKILL after 10 s; forgets the pid.
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
