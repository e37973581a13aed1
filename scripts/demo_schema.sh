# The schema-migration part of `make demo`, sourced by scripts/demo.sh: a
# database "app" whose schema a home-made runner started (files 001 and
# 002, recorded in its own schema_migrations table), adopted by migrated,
# brought up to date and checked against its files.
# Uses from demo.sh: step, $top, $dir, $conninfo, and ctl (migratectl on
# the demo's socket).

# Before the daemon starts: the database, the old runner's work, the config.
demo_schema_setup() {
	appdb=$(echo "$conninfo" | sed 's/dbname=migrated/dbname=app/')
	psql -X -q -d "$conninfo" -c "CREATE DATABASE app" >/dev/null
	for f in 001_accounts.sql 002_orders.sql; do
		psql -X -q -v ON_ERROR_STOP=1 -d "$appdb" \
		    -f "$top/conf/schema/app/$f" >/dev/null
	done
	psql -X -q -v ON_ERROR_STOP=1 -d "$appdb" >/dev/null <<'SQL'
CREATE TABLE schema_migrations (
    version bigint PRIMARY KEY,
    name text NOT NULL,
    executed_at timestamptz NOT NULL DEFAULT now());
INSERT INTO schema_migrations (version, name)
VALUES (1, 'accounts'), (2, 'orders');
SQL
	cat >>"$dir/migrated.conf" <<CONF

[database app]
conninfo = $appdb

[schema app]
database = app
dir = $top/conf/schema/app
CONF
}

demo_schema() {
	step "migratectl schema status app (a home-made runner applied 001 and 002; migrated has no record yet)"
	ctl schema status app || true
	step "migratectl schema adopt app --from table --table schema_migrations (one history from now on)"
	ctl schema adopt app --from table --table schema_migrations \
	    --version-column version --name-column name
	step "the old runner's table is no longer needed: dropping it"
	psql -X -q -d "$appdb" -c "DROP TABLE schema_migrations"
	step "migratectl schema apply app --wait (010: CREATE INDEX CONCURRENTLY, outside a transaction)"
	ctl schema apply app --wait
	step "migratectl schema status app --all (every version, applied ones too)"
	ctl schema status app --all
	step "migratectl schema drift app (the live database against its files)"
	ctl schema drift app
}
