# shellcheck shell=sh
# The caller (demo.sh) sets dir, top, conninfo and daemon_pid.
# shellcheck disable=SC2154
# The SQLite part of `make demo`, sourced by scripts/demo.sh: a legacy CRM
# whose contacts sit in a SQLite file, imported into the target by a copy
# step (conf/demo/crm-import.plan) with its progress, then the rows whose
# values did not convert (rejects = keep).
# Uses from demo.sh: step, follow, submit_ids, $top, $dir, $conninfo, ctl.

# Before the daemon starts: the file and its [database crm] section.
demo_sqlite_setup() {
	/usr/bin/python3 - "$dir/crm.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, "
           "name TEXT, vip, signed_up, last_seen REAL, avatar BLOB, "
           "score INTEGER)")
rows = []
for i in range(1, 5001):
    rows.append((i, "c%d@crm.example" % i, "Contact %d ünï" % i,
                 ("yes", "no", 1, 0)[i % 4],
                 "2019-%02d-%02d" % (1 + i % 12, 1 + i % 28) if i % 2
                 else 1546300800 + 86400 * (i % 365),
                 1700000000 + i * 3600.5, bytes([i % 256, 7]),
                 str(i % 100) if i % 1000 else "n/a"))
rows[41] = (42, "bad@crm.example", "Bad date", "no", "2019-02-30",
            1700000000.0, None, 5)
db.executemany("INSERT INTO contacts VALUES (?,?,?,?,?,?,?,?)", rows)
db.commit()
PY
	cat >>"$dir/migrated.conf" <<CONF

[database crm]
sqlite = $dir/crm.db
CONF
}

# With the daemon running: the import, its progress, its rejects.
demo_sqlite() {
	step "a legacy SQLite file: $dir/crm.db (contacts of an old CRM)"
	sqlite3 -header -column "$dir/crm.db" "SELECT id, vip, typeof(vip),
	    signed_up, typeof(signed_up), score FROM contacts
	    WHERE id IN (1, 2, 42, 1000) ORDER BY id"
	psql -X -q -d "$conninfo" -c "CREATE TABLE crm_contacts (
	    id bigint PRIMARY KEY, email text, name text, vip boolean,
	    signed_up date, last_seen timestamptz, avatar bytea, score integer)"
	step "installing conf/demo/crm-import.plan and reloading"
	cp "$top/conf/demo/crm-import.plan" "$dir/plans/"
	kill -HUP "$daemon_pid"
	sleep 0.5
	ctl status
	step "migratectl submit crm-import --tenant crm (read on a worker thread)"
	ids=$(submit_ids crm-import --tenant crm)
	follow "$ids"
	ctl show "$ids"
	step "the rows that did not convert: migratectl rejects $ids"
	ctl rejects "$ids"
	step "converted on the target"
	psql -X -d "$conninfo" -c "SELECT id, vip, signed_up, last_seen,
	    encode(avatar, 'hex') AS avatar, score FROM crm_contacts
	    WHERE id IN (1, 2, 1000, 4999) ORDER BY id"
}
