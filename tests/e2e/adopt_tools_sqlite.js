// Lets a real tool (drizzle-orm, knex, kysely from npm, on better-sqlite3)
// apply a schema set's NNN_name.sql files to a SQLite file, so that its own
// history table is what test_sqlite_schema.py adopts. Run by the tests with
// NODE_PATH pointing at a node_modules holding better-sqlite3 and the tools
// (scripts/deps.sh installs tests/e2e/adopt-npm-sqlite in build/npm-sqlite):
//   node adopt_tools_sqlite.js TOOL SQLITEFILE SETDIR WORKDIR
// Each tool runs every file in order; its history table ends up exactly as
// the tool lays it out in SQLite.
'use strict';
const fs = require('fs');
const path = require('path');

const [tool, file, setDir, workDir] = process.argv.slice(2);
const files = fs.readdirSync(setDir)
    .filter((f) => /^[0-9]+_.*\.sql$/.test(f) && !f.endsWith('.down.sql'))
    .sort();
const stem = (f) => f.replace(/\.sql$/, '');
const text = (f) => fs.readFileSync(path.join(setDir, f), 'utf8');

async function drizzle() {
  const Database = require('better-sqlite3');
  const { drizzle } = require('drizzle-orm/better-sqlite3');
  const { migrate } = require('drizzle-orm/better-sqlite3/migrator');
  // drizzle-kit's folder: the .sql files and meta/_journal.json
  const dir = path.join(workDir, 'drizzle');
  fs.mkdirSync(path.join(dir, 'meta'), { recursive: true });
  const entries = files.map((f, idx) => {
    fs.copyFileSync(path.join(setDir, f), path.join(dir, f));
    return { idx, version: '6', when: 1700000000000 + idx * 1000,
             tag: stem(f), breakpoints: true };
  });
  fs.writeFileSync(path.join(dir, 'meta', '_journal.json'),
                   JSON.stringify({ version: '7', dialect: 'sqlite', entries }));
  const sqlite = new Database(file);
  migrate(drizzle(sqlite), { migrationsFolder: dir });
  sqlite.close();
}

async function knex() {
  const dir = path.join(workDir, 'knex');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of files)
    fs.writeFileSync(path.join(dir, stem(f) + '.js'),
        'exports.up = (knex) => knex.raw(' + JSON.stringify(text(f)) + ');\n' +
        'exports.down = () => {};\n');
  const db = require('knex')({ client: 'better-sqlite3',
                               connection: { filename: file },
                               useNullAsDefault: true,
                               migrations: { directory: dir } });
  await db.migrate.latest();
  await db.destroy();
}

async function kysely() {
  const Database = require('better-sqlite3');
  const { Kysely, SqliteDialect, Migrator, sql } = require('kysely');
  const migrations = {};
  for (const f of files) {
    const t = text(f);
    migrations[stem(f)] = { up: async (db) => { await sql.raw(t).execute(db); } };
  }
  const db = new Kysely({ dialect: new SqliteDialect({ database: new Database(file) }) });
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error } = await migrator.migrateToLatest();
  await db.destroy();
  if (error) throw error;
}

const tools = { drizzle, knex, kysely };
tools[tool]().catch((e) => { console.error(e); process.exit(1); });
