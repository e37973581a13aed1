"""Other tools' history tables, laid out exactly as each tool lays them out
on PostgreSQL, for test_schema_adopt.py.

Where the layouts come from:
- Drizzle (drizzle-orm 0.45), Knex (3.3) and Kysely (0.28): dumped with
  pg_dump from the tables the real tools created when they migrated the set
  below (tests/e2e/adopt_tools.js; the tests run the real tools too when
  ADOPT_NODE_MODULES names a node_modules holding them). Drizzle's hash is
  the sha256 of each file's text as read (CRLF kept).
- sqitch: the PostgreSQL registry of sqitch 1.x (lib/App/Sqitch/Engine/pg.sql:
  sqitch.projects, sqitch.changes with script_hash), run by the real sqitch
  when it is installed (Debian package sqitch).
- Flyway: flyway_schema_history as Flyway 9/10 creates it on PostgreSQL
  (createMetaDataTable.sql: installed_rank primary key, the _s_idx index).
- Liquibase: databasechangelog as Liquibase 4 creates it on PostgreSQL.
- TypeORM: its "migrations" table (id serial, timestamp bigint, name).
- golang-migrate: its postgres driver's schema_migrations (version bigint
  primary key, dirty boolean), one row: the current version.
- goose: goose_db_version (id serial, version_id bigint, is_applied,
  tstamp), with the version 0 row goose writes when it creates the table.
- dbmate: schema_migrations (version varchar(128) primary key).
- Rails: schema_migrations (version character varying primary key) and
  ar_internal_metadata.
- Prisma: _prisma_migrations as prisma migrate creates it.
- Alembic: alembic_version (version_num varchar(32), primary key
  alembic_version_pkc), one row per head.
"""

import hashlib

from jobs_util import lit

# The set every layout describes: three files, the second with CRLF ends.
FILES = [
    ("create_users", "CREATE TABLE users (id int PRIMARY KEY);\n"),
    ("add_email", "ALTER TABLE users ADD email text;\r\n"),
    ("index_email", "CREATE INDEX ON users (email);\n"),
]
SMALL = [1, 2, 3]
STAMPS = [20240101120000, 20240102120000, 20240103120000]
TYPEORM_STAMPS = [1700000000001, 1700000000002, 1700000000003]


class Migration:
    def __init__(self, version, name, text, width):
        self.version = version
        self.name = name
        self.text = text
        self.stem = "%0*d_%s" % (width, version, name)
        self.file = self.stem + ".sql"
        self.sha256 = hashlib.sha256(text.encode()).hexdigest()


def migrations(versions, width=3):
    return [Migration(v, n, t, width)
            for v, (n, t) in zip(versions, FILES)]


def write_set(directory, migs):
    directory.mkdir(parents=True, exist_ok=True)
    for m in migs:
        (directory / m.file).write_bytes(m.text.encode())


def camel(name):
    return "".join(p.capitalize() for p in name.split("_"))


class Layout:
    """tool: SchemaAdopt's from; table: schema.table as adopt reports it;
    ddl: the tool's table; rows(migs): SQL recording migs as applied."""

    def __init__(self, tool, table, versions, ddl, rows, cumulative=False):
        self.tool = tool
        self.table = table
        self.versions = versions
        self.ddl = ddl
        self.rows = rows
        self.cumulative = cumulative  # keeps only the current version

    def sql(self, migs):
        return self.ddl + "\n" + self.rows(migs)


def values(rows):
    return ",\n".join("(%s)" % ", ".join(r) for r in rows)


FLYWAY_DDL = """
CREATE TABLE public.flyway_schema_history (
    installed_rank integer NOT NULL,
    version character varying(50),
    description character varying(200) NOT NULL,
    type character varying(20) NOT NULL,
    script character varying(1000) NOT NULL,
    checksum integer,
    installed_by character varying(100) NOT NULL,
    installed_on timestamp without time zone DEFAULT now() NOT NULL,
    execution_time integer NOT NULL,
    success boolean NOT NULL,
    CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank)
);
CREATE INDEX flyway_schema_history_s_idx
    ON public.flyway_schema_history USING btree (success);
"""


def flyway_rows(migs, failed=()):
    return ("INSERT INTO flyway_schema_history (installed_rank, version,"
            " description, type, script, checksum, installed_by,"
            " execution_time, success) VALUES\n" + values(
                [(str(i + 1), lit(m.version), lit(m.name.replace("_", " ")),
                  "'SQL'", lit("V%d__%s.sql" % (m.version, m.name)),
                  str(-123456 * (i + 1)), "'postgres'", "12",
                  "false" if m.version in failed else "true")
                 for i, m in enumerate(migs)]) + ";")


LIQUIBASE_DDL = """
CREATE TABLE public.databasechangelog (
    id character varying(255) NOT NULL,
    author character varying(255) NOT NULL,
    filename character varying(255) NOT NULL,
    dateexecuted timestamp without time zone NOT NULL,
    orderexecuted integer NOT NULL,
    exectype character varying(10) NOT NULL,
    md5sum character varying(35),
    description character varying(255),
    comments character varying(255),
    tag character varying(255),
    liquibase character varying(20),
    contexts character varying(255),
    labels character varying(255),
    deployment_id character varying(10)
);
CREATE TABLE public.databasechangeloglock (
    id integer NOT NULL PRIMARY KEY,
    locked boolean NOT NULL,
    lockgranted timestamp without time zone,
    lockedby character varying(255)
);
"""


def liquibase_rows(migs):
    return ("INSERT INTO databasechangelog (id, author, filename,"
            " dateexecuted, orderexecuted, exectype, md5sum, description,"
            " liquibase, deployment_id) VALUES\n" + values(
                [(lit("raw"), "'dev'", lit("db/changelog/" + m.file),
                  "now()", str(i + 1), "'EXECUTED'",
                  lit("9:" + m.sha256[:32]), "'sql'", "'4.25.0'",
                  "'1700000000'")
                 for i, m in enumerate(migs)]) + ";")


SQITCH_DDL = """
CREATE SCHEMA sqitch;
CREATE TABLE sqitch.projects (
    project         TEXT        PRIMARY KEY,
    uri             TEXT            NULL UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    creator_name    TEXT        NOT NULL,
    creator_email   TEXT        NOT NULL
);
CREATE TABLE sqitch.changes (
    change_id       TEXT        PRIMARY KEY,
    script_hash     TEXT            NULL,
    change          TEXT        NOT NULL,
    project         TEXT        NOT NULL REFERENCES sqitch.projects(project)
                                         ON UPDATE CASCADE,
    note            TEXT        NOT NULL DEFAULT '',
    committed_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    committer_name  TEXT        NOT NULL,
    committer_email TEXT        NOT NULL,
    planned_at      TIMESTAMPTZ NOT NULL,
    planner_name    TEXT        NOT NULL,
    planner_email   TEXT        NOT NULL,
    UNIQUE(project, script_hash)
);
"""


def sqitch_rows(migs):
    # sqitch's change names carry no number: matched by name
    return ("INSERT INTO sqitch.projects (project, creator_name,"
            " creator_email) VALUES ('app', 'Dev', 'dev@example.org');\n"
            "INSERT INTO sqitch.changes (change_id, script_hash, change,"
            " project, committed_at, committer_name, committer_email,"
            " planned_at, planner_name, planner_email) VALUES\n" + values(
                [(lit(hashlib.sha1(m.name.encode()).hexdigest()),
                  lit(hashlib.sha1(m.text.encode()).hexdigest()),
                  lit(m.name), "'app'",
                  "now() + interval '%d seconds'" % i, "'Dev'",
                  "'dev@example.org'", "now()", "'Dev'",
                  "'dev@example.org'")
                 for i, m in enumerate(migs)]) + ";")


DRIZZLE_DDL = """
CREATE SCHEMA drizzle;
CREATE TABLE drizzle.__drizzle_migrations (
    id serial PRIMARY KEY,
    hash text NOT NULL,
    created_at bigint
);
"""


def drizzle_rows(migs):
    return ("INSERT INTO drizzle.__drizzle_migrations (hash, created_at)"
            " VALUES\n" + values(
                [(lit(m.sha256), str(1700000000000 + 1000 * i))
                 for i, m in enumerate(migs)]) + ";")


KYSELY_DDL = """
CREATE TABLE public.kysely_migration (
    name character varying(255) NOT NULL PRIMARY KEY,
    "timestamp" character varying(255) NOT NULL
);
CREATE TABLE public.kysely_migration_lock (
    id character varying(255) NOT NULL PRIMARY KEY,
    is_locked integer DEFAULT 0 NOT NULL
);
INSERT INTO public.kysely_migration_lock VALUES ('migration_lock', 0);
"""


def kysely_rows(migs):
    return ("INSERT INTO kysely_migration (name, timestamp) VALUES\n"
            + values([(lit(m.stem), "'2024-01-01T12:00:00.000Z'")
                      for m in migs]) + ";")


KNEX_DDL = """
CREATE TABLE public.knex_migrations (
    id serial PRIMARY KEY,
    name character varying(255),
    batch integer,
    migration_time timestamp with time zone
);
CREATE TABLE public.knex_migrations_lock (
    index serial PRIMARY KEY,
    is_locked integer
);
INSERT INTO public.knex_migrations_lock (is_locked) VALUES (0);
"""


def knex_rows(migs, extra=()):
    names = [m.stem + ".js" for m in migs] + list(extra)
    return ("INSERT INTO knex_migrations (name, batch, migration_time)"
            " VALUES\n" + values([(lit(n), "1", "now()") for n in names])
            + ";")


TYPEORM_DDL = """
CREATE TABLE public.migrations (
    id SERIAL NOT NULL,
    "timestamp" bigint NOT NULL,
    name character varying NOT NULL,
    CONSTRAINT "PK_8c82d7f526340ab734260ea46be" PRIMARY KEY (id)
);
"""


def typeorm_rows(migs):
    return ("INSERT INTO migrations (timestamp, name) VALUES\n" + values(
        [(str(m.version), lit("%s%d" % (camel(m.name), m.version)))
         for m in migs]) + ";")


GOLANG_MIGRATE_DDL = """
CREATE TABLE public.schema_migrations (
    version bigint NOT NULL PRIMARY KEY,
    dirty boolean NOT NULL
);
"""


def golang_migrate_rows(migs, dirty=False):
    return ("INSERT INTO schema_migrations (version, dirty) VALUES (%d, %s);"
            % (migs[-1].version, "true" if dirty else "false"))


GOOSE_DDL = """
CREATE TABLE public.goose_db_version (
    id serial NOT NULL PRIMARY KEY,
    version_id bigint NOT NULL,
    is_applied boolean NOT NULL,
    tstamp timestamp without time zone DEFAULT now()
);
INSERT INTO public.goose_db_version (version_id, is_applied) VALUES (0, true);
"""


def goose_rows(migs, rolled_back=()):
    rows = [(str(m.version), "true") for m in migs]
    rows += [(str(v), "false") for v in rolled_back]
    return ("INSERT INTO goose_db_version (version_id, is_applied) VALUES\n"
            + values(rows) + ";")


DBMATE_DDL = """
CREATE TABLE public.schema_migrations (
    version character varying(128) NOT NULL PRIMARY KEY
);
"""

RAILS_DDL = """
CREATE TABLE public.schema_migrations (
    version character varying NOT NULL PRIMARY KEY
);
CREATE TABLE public.ar_internal_metadata (
    key character varying NOT NULL PRIMARY KEY,
    value character varying,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
);
INSERT INTO public.ar_internal_metadata VALUES
    ('environment', 'production', now(), now());
"""


def version_rows(migs):
    return ("INSERT INTO schema_migrations (version) VALUES\n"
            + values([(lit(m.version),) for m in migs]) + ";")


PRISMA_DDL = """
CREATE TABLE public."_prisma_migrations" (
    "id" VARCHAR(36) NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "_prisma_migrations_pkey" PRIMARY KEY ("id")
);
"""


def prisma_rows(migs, unfinished=(), rolled_back_then_reapplied=()):
    rows = []
    for i, m in enumerate(migs):
        name = "%d_%s" % (m.version, m.name)
        if m.version in rolled_back_then_reapplied:
            rows.append((lit("r%035d" % i), lit(m.sha256), "NULL",
                         lit(name), "'failed'", "now()",
                         "now() - interval '1 hour'", "0"))
        finished = "NULL" if m.version in unfinished else "now()"
        rows.append((lit("%036d" % i), lit(m.sha256), finished, lit(name),
                     "NULL", "NULL", "now() + interval '%d seconds'" % i,
                     "0" if m.version in unfinished else "1"))
    return ('INSERT INTO "_prisma_migrations" (id, checksum, finished_at,'
            ' migration_name, logs, rolled_back_at, started_at,'
            ' applied_steps_count) VALUES\n' + values(rows) + ";")


ALEMBIC_DDL = """
CREATE TABLE public.alembic_version (
    version_num character varying(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
"""


def alembic_rows(migs):
    # a revision made with alembic revision --rev-id 0003
    return ("INSERT INTO alembic_version (version_num) VALUES (%s);"
            % lit("%04d" % migs[-1].version))


LAYOUTS = {
    "flyway": Layout("flyway", "public.flyway_schema_history", SMALL,
                     FLYWAY_DDL, flyway_rows),
    "liquibase": Layout("liquibase", "public.databasechangelog", SMALL,
                        LIQUIBASE_DDL, liquibase_rows),
    "sqitch": Layout("sqitch", "sqitch.changes", SMALL, SQITCH_DDL,
                     sqitch_rows),
    "drizzle": Layout("drizzle", "drizzle.__drizzle_migrations", SMALL,
                      DRIZZLE_DDL, drizzle_rows),
    "kysely": Layout("kysely", "public.kysely_migration", SMALL, KYSELY_DDL,
                     kysely_rows),
    "typeorm": Layout("typeorm", "public.migrations", TYPEORM_STAMPS,
                      TYPEORM_DDL, typeorm_rows),
    "knex": Layout("knex", "public.knex_migrations", SMALL, KNEX_DDL,
                   knex_rows),
    "golang-migrate": Layout("golang-migrate", "public.schema_migrations",
                             SMALL, GOLANG_MIGRATE_DDL, golang_migrate_rows,
                             cumulative=True),
    "goose": Layout("goose", "public.goose_db_version", SMALL, GOOSE_DDL,
                    goose_rows),
    "dbmate": Layout("dbmate", "public.schema_migrations", STAMPS,
                     DBMATE_DDL, version_rows),
    "rails": Layout("rails", "public.schema_migrations", STAMPS, RAILS_DDL,
                    version_rows),
    "prisma": Layout("prisma", "public._prisma_migrations", STAMPS,
                     PRISMA_DDL, prisma_rows),
    "alembic": Layout("alembic", "public.alembic_version", SMALL,
                      ALEMBIC_DDL, alembic_rows, cumulative=True),
}

# The tools adopt_tools.js can run for real.
NODE_TOOLS = ("drizzle", "knex", "kysely")

# A home-made runner's table (--from table).
HOMEMADE_DDL = """
CREATE TABLE public.schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    executed_at timestamptz NOT NULL DEFAULT now()
);
"""


def homemade_rows(migs, names=None):
    return ("INSERT INTO schema_migrations (version, name) VALUES\n"
            + values([(str(m.version), lit((names or {}).get(m.version,
                                                            m.name)))
                      for m in migs]) + ";")
