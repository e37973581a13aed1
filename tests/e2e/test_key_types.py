"""Key types without a known lowest value fail the job with "key ... has
type ..." (issue 12), whatever their name starts with; a warning the
daemon cannot record on the job is logged."""

import pytest

from safety_util import install, make_data, run_job, safety_plan

PLAN = """[plan]
description = key type test
tenants = SELECT 'acme'

[step kt]
table = kt
key = k
where = true
apply = UPDATE kt SET v = v + 1 WHERE k > :lo AND k <= :hi
"""


@pytest.mark.parametrize("sqltype, value", [
    ("integer[]", "ARRAY[g]"),          # starts like integer
    ("daterange", "daterange(DATE '2020-01-01' + g, NULL)"),  # like date
    ("integer_list", "ARRAY[g]"),       # a domain over integer[]
])
def test_key_type_without_a_lowest_value(make_daemon, pg, sqltype, value):
    pg.psql("DROP TABLE IF EXISTS kt; DROP DOMAIN IF EXISTS integer_list;"
            " CREATE DOMAIN integer_list AS integer[];"
            " CREATE TABLE kt (k %s PRIMARY KEY, v integer NOT NULL);"
            " INSERT INTO kt SELECT %s, 0 FROM generate_series(1, 10) g"
            % (sqltype, value))
    d = make_daemon()
    install(d, kt=PLAN)
    d.start()
    job = run_job(d, "kt", "acme", want="failed")
    shown = "integer[]" if sqltype == "integer_list" else sqltype
    assert ("key k has type %s; batches need an integer, numeric, text,"
            " uuid, date or timestamp key" % shown) in job["error"], job
    assert pg.psql("SELECT sum(v) FROM kt").strip() == "0"


def test_a_domain_key_is_its_base_type(make_daemon, pg):
    pg.psql("DROP TABLE IF EXISTS kt; DROP DOMAIN IF EXISTS key_id;"
            " CREATE DOMAIN key_id AS bigint CHECK (VALUE > 0);"
            " CREATE TABLE kt (k key_id PRIMARY KEY, v integer NOT NULL);"
            " INSERT INTO kt SELECT g, 0 FROM generate_series(1, 10) g")
    d = make_daemon()
    install(d, kt=PLAN)
    d.start()
    run_job(d, "kt", "acme")
    assert pg.psql("SELECT sum(v) FROM kt").strip() == "10"


def test_a_warning_not_recorded_is_logged(make_daemon, pg):
    make_data(pg)
    d = make_daemon()
    install(d, safe=safety_plan(checks=True))
    d.start()
    # the job row refuses new warnings silently (a trigger, as an
    # operator's audit tooling might install)
    pg.psql("CREATE FUNCTION md_keep_warnings() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RETURN NULL; END $$;"
            " CREATE TRIGGER keep_warnings BEFORE UPDATE ON migrated.jobs"
            " FOR EACH ROW WHEN (NEW.warnings IS DISTINCT FROM OLD.warnings)"
            " EXECUTE FUNCTION md_keep_warnings()")
    try:
        job = run_job(d, "safe", "acme")
        assert job["warnings"] == [], job
        d.wait_log(r"cannot record the warnings: the "
                   r"job's row was not updated")
    finally:
        pg.psql("DROP TRIGGER keep_warnings ON migrated.jobs;"
                " DROP FUNCTION md_keep_warnings()")
