#!/bin/sh
# A throwaway PostgreSQL 15 cluster for tests and the demo. Tuned for speed,
# never for safety: do not keep data in it.
#
#   pgcluster.sh start DIR PORT     initialise DIR if needed, start, create
#                                   the database "migrated"
#   pgcluster.sh stop DIR           fast shutdown (no-op if not running)
#   pgcluster.sh destroy DIR        stop, then remove DIR
#   pgcluster.sh conninfo DIR PORT  print the libpq conninfo for clients
#
# The server listens only on the unix socket directory DIR/sock. PostgreSQL
# refuses to run as root, so as root the server runs as user postgres and DIR
# is handed to it; otherwise it runs as the current user. Superuser
# "postgres", trust authentication.
set -eu

PGBIN=/usr/lib/postgresql/15/bin

usage() {
	echo "usage: pgcluster.sh start DIR PORT | stop DIR | destroy DIR | conninfo DIR PORT" >&2
	exit 2
}

# Runs a command as the cluster's owner, from DIR so that it never needs
# access to the caller's working directory.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd "$dir" && runuser -u postgres -- "$@")
	else
		(cd "$dir" && "$@")
	fi
}

is_running() {
	[ -f "$dir/data/postmaster.pid" ] &&
	    as_owner "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

init_cluster() {
	mkdir -p "$dir"
	chmod 755 "$dir"
	mkdir -p "$dir/sock"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir" "$dir/sock"
	fi
	as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
	    --no-locale --no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		echo "pgcluster.sh: initdb failed in $dir/data" >&2
		exit 1
	}
	echo "include_if_exists = 'pgcluster.conf'" >>"$dir/data/postgresql.conf"
}

# Settings are rewritten at every start so that PORT can change.
write_settings() {
	cat >"$dir/data/pgcluster.conf" <<-CONF
	listen_addresses = ''
	port = $port
	unix_socket_directories = '$dir/sock'
	fsync = off
	synchronous_commit = off
	full_page_writes = off
	max_connections = 50
	CONF
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir/data/pgcluster.conf"
	fi
}

psql_admin() {
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/sock" -p "$port" \
	    -U postgres -d postgres "$@"
}

start() {
	[ -f "$dir/data/PG_VERSION" ] || init_cluster
	if is_running; then
		return 0
	fi
	write_settings
	as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
	    start >/dev/null || {
		tail -n 20 "$dir/server.log" >&2 || true
		echo "pgcluster.sh: server in $dir did not start" >&2
		exit 1
	}
	if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = 'migrated'")" != 1 ]; then
		psql_admin -c "CREATE DATABASE migrated"
	fi
}

stop() {
	if is_running; then
		as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop \
		    >/dev/null
	fi
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
case $cmd in
start | conninfo)
	[ $# -eq 3 ] || usage
	port=$3
	;;
stop | destroy)
	[ $# -eq 2 ] || usage
	;;
*)
	usage
	;;
esac
case $dir in
/*) ;;
*) dir=$(pwd)/$dir ;;
esac

case $cmd in
start) start ;;
stop) stop ;;
destroy)
	stop
	rm -rf "$dir"
	;;
conninfo) echo "host=$dir/sock port=$port dbname=migrated user=postgres" ;;
esac
