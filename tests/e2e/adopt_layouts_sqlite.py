"""Other tools' history tables laid out exactly as each tool lays them out
in SQLite, for test_sqlite_schema.py. The set is adopt_layouts.FILES with
SQLite-only DDL (three files, the second with CRLF ends).

Where the layouts come from:
- Drizzle (drizzle-orm 0.45, drizzle-orm/better-sqlite3/migrator), Knex
  (3.3, client better-sqlite3) and Kysely (0.28, SqliteDialect): the tables
  the real tools created when they migrated the set (adopt_tools_sqlite.js,
  with better-sqlite3 12 from npm); the tests run the real tools when
  build/npm-sqlite (or ADOPT_SQLITE_NODE_MODULES) holds them. Drizzle's
  "id SERIAL PRIMARY KEY" is no rowid alias in SQLite: its ids are NULL.
- TypeORM: src/migration/MigrationExecutor.ts createMigrationsTableIfNotExist
  on the sqlite driver: "migrations" (id integer PRIMARY KEY AUTOINCREMENT
  NOT NULL, timestamp bigint NOT NULL, name varchar NOT NULL).
- goose: its sqlite3 dialect (internal/dialect/dialectquery/sqlite3.go):
  goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id
  INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT
  (datetime('now'))), with the version 0 row goose writes on creation.
- dbmate: pkg/driver/sqlite CreateMigrationsTable: schema_migrations
  (version varchar(128) primary key).
- golang-migrate: database/sqlite3 ensureVersionTable: schema_migrations
  (version uint64, dirty bool) with the unique index version_unique; one
  row, the current version.
- Prisma: the SQLite connector's _prisma_migrations (id TEXT PRIMARY KEY
  NOT NULL, checksum TEXT NOT NULL, finished_at DATETIME, migration_name
  TEXT NOT NULL, logs TEXT, rolled_back_at DATETIME, started_at DATETIME
  NOT NULL DEFAULT current_timestamp, applied_steps_count INTEGER UNSIGNED
  NOT NULL DEFAULT 0).
"""

import hashlib

# The set: three files, the second with CRLF ends.
FILES = [
    ("create_users", "CREATE TABLE users (id INTEGER PRIMARY KEY);\n"),
    ("add_email", "ALTER TABLE users ADD email TEXT;\r\n"),
    ("index_email", "CREATE INDEX users_email ON users (email);\n"),
]
STAMPS = [20240101120000, 20240102120000, 20240103120000]
TYPEORM_STAMPS = [1700000000001, 1700000000002, 1700000000003]


def stem(version, name, width=3):
    return "%0*d_%s" % (width, version, name)


def write_set(directory, versions, width=3):
    directory.mkdir(parents=True, exist_ok=True)
    for v, (name, text) in zip(versions, FILES):
        (directory / (stem(v, name, width) + ".sql")).write_bytes(
            text.encode())


def camel(name):
    return "".join(p.capitalize() for p in name.split("_"))


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def q(s):
    return "'" + str(s).replace("'", "''") + "'"


def build(tool):
    """(versions, width, the SQL that makes tool's table recording the set
    as applied, the files' DDL too, as the tool would have run them)."""
    ddl = "".join(t for _, t in FILES)
    small = [1, 2, 3]
    if tool == "drizzle":
        rows = "".join(
            "INSERT INTO \"__drizzle_migrations\" (hash, created_at)"
            " VALUES (%s, %d);\n" % (q(sha(t)), 1700000000000 + i * 1000)
            for i, (_, t) in enumerate(FILES))
        return small, 3, (
            'CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (\n'
            "\t\t\t\tid SERIAL PRIMARY KEY,\n\t\t\t\thash text NOT NULL,\n"
            "\t\t\t\tcreated_at numeric\n\t\t\t);\n" + rows + ddl)
    if tool == "knex":
        rows = "".join(
            "INSERT INTO knex_migrations (name, batch, migration_time)"
            " VALUES (%s, 1, 1796168412085);\n" % q(stem(v, n) + ".js")
            for v, (n, _) in zip(small, FILES))
        return small, 3, (
            "CREATE TABLE `knex_migrations` (`id` integer not null primary"
            " key autoincrement, `name` varchar(255), `batch` integer,"
            " `migration_time` datetime);\n"
            "CREATE TABLE `knex_migrations_lock` (`index` integer not null"
            " primary key autoincrement, `is_locked` integer);\n"
            + rows + ddl)
    if tool == "kysely":
        rows = "".join(
            "INSERT INTO kysely_migration VALUES (%s,"
            " '2026-01-01T00:00:00.000Z');\n" % q(stem(v, n))
            for v, (n, _) in zip(small, FILES))
        return small, 3, (
            'CREATE TABLE IF NOT EXISTS "kysely_migration" ("name"'
            ' varchar(255) not null primary key, "timestamp" varchar(255)'
            " not null);\n"
            'CREATE TABLE IF NOT EXISTS "kysely_migration_lock" ("id"'
            ' varchar(255) not null primary key, "is_locked" integer'
            " default 0 not null);\n" + rows + ddl)
    if tool == "typeorm":
        rows = "".join(
            "INSERT INTO migrations (timestamp, name) VALUES (%d, %s);\n"
            % (s, q(camel(n) + str(s)))
            for s, (n, _) in zip(TYPEORM_STAMPS, FILES))
        return TYPEORM_STAMPS, 13, (
            'CREATE TABLE "migrations" ("id" integer PRIMARY KEY'
            ' AUTOINCREMENT NOT NULL, "timestamp" bigint NOT NULL, "name"'
            " varchar NOT NULL);\n" + rows + ddl)
    if tool == "goose":
        rows = "".join(
            "INSERT INTO goose_db_version (version_id, is_applied)"
            " VALUES (%d, 1);\n" % v for v in small)
        return small, 5, (
            "CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY"
            " AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER"
            " NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));\n"
            "INSERT INTO goose_db_version (version_id, is_applied)"
            " VALUES (0, 1);\n" + rows + ddl)
    if tool == "dbmate":
        rows = "".join("INSERT INTO schema_migrations (version) VALUES"
                       " (%s);\n" % q(s) for s in STAMPS)
        return STAMPS, 14, (
            "CREATE TABLE IF NOT EXISTS schema_migrations (version"
            " varchar(128) primary key);\n" + rows + ddl)
    if tool == "golang-migrate":
        return small, 6, (
            "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,"
            "dirty bool);\nCREATE UNIQUE INDEX IF NOT EXISTS version_unique"
            " ON schema_migrations (version);\n"
            "INSERT INTO schema_migrations VALUES (3, 0);\n" + ddl)
    if tool == "prisma":
        rows = "".join(
            "INSERT INTO _prisma_migrations (id, checksum, finished_at,"
            " migration_name, applied_steps_count) VALUES (%s, %s,"
            " current_timestamp, %s, 1);\n"
            % (q("id%d" % i), q(sha(t)), q("%d_%s" % (s, n)))
            for i, (s, (n, t)) in enumerate(zip(STAMPS, FILES)))
        return STAMPS, 14, (
            'CREATE TABLE "_prisma_migrations" ("id" TEXT PRIMARY KEY NOT'
            ' NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME,'
            ' "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at"'
            ' DATETIME, "started_at" DATETIME NOT NULL DEFAULT'
            ' current_timestamp, "applied_steps_count" INTEGER UNSIGNED NOT'
            " NULL DEFAULT 0);\n" + rows + ddl)
    raise KeyError(tool)


TOOLS = ["drizzle", "knex", "kysely", "typeorm", "goose", "dbmate",
         "golang-migrate", "prisma"]
