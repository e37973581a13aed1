// Lets a real tool (drizzle-orm, knex, kysely from npm) apply a schema set's
// NNN_name.sql files to a database, so that its own history table is what
// test_schema_adopt.py adopts. Run by the tests with NODE_PATH pointing at
// a node_modules holding pg and the tools:
//   node adopt_tools.js TOOL SOCKETDIR PORT DATABASE SETDIR [WORKDIR]
// Each tool runs every file in order; its history table ends up exactly as
// the tool lays it out.
'use strict';
const fs = require('fs');
const path = require('path');

const [tool, host, port, database, setDir, workDir] = process.argv.slice(2);
const conn = { host, port: Number(port), database, user: 'postgres' };
const files = fs.readdirSync(setDir)
    .filter((f) => /^[0-9]+_.*\.sql$/.test(f) && !f.endsWith('.down.sql'))
    .sort();
const stem = (f) => f.replace(/\.sql$/, '');

async function drizzle() {
  const { drizzle } = require('drizzle-orm/node-postgres');
  const { migrate } = require('drizzle-orm/node-postgres/migrator');
  const { Pool } = require('pg');
  // drizzle-kit's folder: the .sql files and meta/_journal.json
  const dir = path.join(workDir, 'drizzle');
  fs.mkdirSync(path.join(dir, 'meta'), { recursive: true });
  const entries = files.map((f, idx) => {
    fs.copyFileSync(path.join(setDir, f), path.join(dir, f));
    return { idx, version: '7', when: 1700000000000 + idx * 1000,
             tag: stem(f), breakpoints: true };
  });
  fs.writeFileSync(path.join(dir, 'meta', '_journal.json'),
                   JSON.stringify({ version: '7', dialect: 'postgresql',
                                    entries }));
  const pool = new Pool(conn);
  await migrate(drizzle(pool), { migrationsFolder: dir });
  await pool.end();
}

async function knex() {
  const dir = path.join(workDir, 'knex');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of files) {
    const sqlText = fs.readFileSync(path.join(setDir, f), 'utf8');
    fs.writeFileSync(path.join(dir, stem(f) + '.js'),
        'exports.up = (knex) => knex.raw(' + JSON.stringify(sqlText) + ');\n' +
        'exports.down = () => {};\n');
  }
  const db = require('knex')({ client: 'pg', connection: conn,
                               migrations: { directory: dir } });
  await db.migrate.latest();
  await db.destroy();
}

async function kysely() {
  const { Kysely, PostgresDialect, Migrator, sql } = require('kysely');
  const { Pool } = require('pg');
  const migrations = {};
  for (const f of files) {
    const text = fs.readFileSync(path.join(setDir, f), 'utf8');
    migrations[stem(f)] = { up: async (db) => { await sql.raw(text).execute(db); } };
  }
  const db = new Kysely({ dialect: new PostgresDialect({ pool: new Pool(conn) }) });
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error } = await migrator.migrateToLatest();
  await db.destroy();
  if (error) throw error;
}

const tools = { drizzle, knex, kysely };
tools[tool]().catch((e) => { console.error(e); process.exit(1); });
