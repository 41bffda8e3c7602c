'use strict';
/** The test run's PostgreSQL databases: checked, swept, dropped. Plain JS: the runner has no build step. */
const { Client } = require('pg');

const TEST_DB_PATTERN = /^cmp_t_(\d+)_[0-9a-f]+(_|$)/;

function adminUrl() {
  return (
    process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
  );
}

async function withClient(url, fn) {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function checkServer(url) {
  try {
    await withClient(url, (c) => c.query('SELECT 1'));
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${url.replace(/:[^:@/]*@/, ':***@')} (${error.message}). ` +
        'The integration tests need a PostgreSQL server: set TEST_DATABASE_URL or DATABASE_URL to a role that may CREATE DATABASE.',
    );
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

async function listTestDatabases(client) {
  const { rows } = await client.query(`SELECT datname FROM pg_database WHERE datname LIKE 'cmp\\_t\\_%'`);
  return rows.map((r) => r.datname);
}

async function dropAll(client, names) {
  for (const name of names) {
    await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
    // …and the LOGIN users a test made for its services (test/env/test-database.ts createServiceUsers).
    const { rows } = await client.query(
      `SELECT rolname FROM pg_roles WHERE rolcanlogin AND left(rolname, length($1) + 1) = $1 || '_'`,
      [name],
    );
    for (const { rolname } of rows)
      await client.query(`DROP ROLE IF EXISTS "${rolname.replace(/"/g, '""')}"`);
  }
  return names;
}

/** Drops test databases whose runner process no longer exists. */
async function sweepStaleDatabases(url) {
  return withClient(url, async (client) => {
    const stale = (await listTestDatabases(client)).filter((name) => {
      const match = TEST_DB_PATTERN.exec(name);
      return match && Number(match[1]) !== process.pid && !alive(Number(match[1]));
    });
    return dropAll(client, stale);
  });
}

/** Drops every database of the run tagged `runTag`. */
async function dropRunDatabases(url, runTag) {
  return withClient(url, async (client) => {
    const mine = (await listTestDatabases(client)).filter(
      (name) => name === runTag || name.startsWith(`${runTag}_`),
    );
    return dropAll(client, mine);
  });
}

module.exports = {
  adminUrl,
  checkServer,
  sweepStaleDatabases,
  dropRunDatabases,
  listTestDatabases,
  withClient,
};
