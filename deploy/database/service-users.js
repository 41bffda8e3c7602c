'use strict';
/**
 * One PostgreSQL LOGIN user per service of a portal (docs/OPERATIONS.md "Database roles"), member of
 * that service's NOLOGIN group role, which the migration ServiceRoles1763808000000 grants exactly the
 * rights the service needs. Used by `npm run federation:up`, `npm run compose:init` (the SQL its
 * PostgreSQL containers run at their first start) and the tests. Plain CommonJS: no build step.
 */
const { randomBytes } = require('node:crypto');

/** service → its group role (the migration's names). */
const SERVICE_ROLES = Object.freeze({
  gateway: 'cryptomesh_gateway',
  query: 'cryptomesh_query',
  'log-signer': 'cryptomesh_log_signer',
  replication: 'cryptomesh_replication',
});
const SERVICES = Object.freeze(Object.keys(SERVICE_ROLES));

const quoteIdent = (name) => `"${String(name).replace(/"/g, '""')}"`;
const quoteLiteral = (text) => `'${String(text).replace(/'/g, "''")}'`;

/** `<prefix>_<service>` with `-` as `_`: e.g. alpha_log_signer. At most 63 bytes (PostgreSQL's limit). */
function serviceUserName(prefix, service) {
  if (!SERVICE_ROLES[service]) throw new Error(`no service ${JSON.stringify(service)}`);
  const name = `${prefix}_${service}`.replace(/-/g, '_');
  if (!/^[a-z_][a-z0-9_]*$/.test(name) || Buffer.byteLength(name) > 63)
    throw new Error(`${JSON.stringify(name)} is not a usable PostgreSQL user name (a-z, 0-9, _; at most 63)`);
  return name;
}

function newPassword() {
  return randomBytes(24).toString('base64url');
}

/**
 * SQL that creates the group roles if absent (as the migration would: the users can be made before
 * the first migration) and, for each service, its LOGIN user with `passwords[service]` as a member
 * of its group role. Idempotent: an existing user gets the password again. Run it as a role with
 * CREATEROLE (or a superuser), in any database of the cluster.
 */
function serviceUsersSql(prefix, passwords) {
  const lines = [
    `-- Generated for ${prefix}: one LOGIN user per service, member of its group role`,
    '-- (docs/OPERATIONS.md "Database roles"; the grants are the migration ServiceRoles1763808000000).',
    'DO $$',
    'BEGIN',
  ];
  for (const service of SERVICES) {
    const role = SERVICE_ROLES[service];
    const user = serviceUserName(prefix, service);
    const password = passwords[service];
    if (typeof password !== 'string' || password.length === 0)
      throw new Error(`no password for the ${service} user`);
    lines.push(
      // Another portal's start or migration may create the group role at the same moment.
      `  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${quoteLiteral(role)}) THEN`,
      `    BEGIN CREATE ROLE ${quoteIdent(role)} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;`,
      '  END IF;',
      `  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${quoteLiteral(user)}) THEN`,
      `    BEGIN CREATE ROLE ${quoteIdent(user)} LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;`,
      '  END IF;',
      `  ALTER ROLE ${quoteIdent(user)} LOGIN INHERIT PASSWORD ${quoteLiteral(password)};`,
      `  GRANT ${quoteIdent(role)} TO ${quoteIdent(user)};`,
    );
  }
  lines.push('END $$;', '');
  return lines.join('\n');
}

/** `databaseUrl` with the user and password of `service`'s user. */
function serviceUrl(databaseUrl, prefix, service, password) {
  const url = new URL(databaseUrl);
  url.username = serviceUserName(prefix, service);
  url.password = password;
  return url.toString();
}

/**
 * Creates (or updates) the four users on the server of `adminClient` (a connected `pg` Client of a
 * role with CREATEROLE), and, when `database` is given, lets only them and the owner connect to it
 * (REVOKE CONNECT … FROM PUBLIC): the group roles are cluster-wide, so without this one portal's
 * users could open another portal's database on a shared server. Resolves to { users, passwords,
 * urls } with one URL per service, derived from `databaseUrl` (the owner's).
 */
async function createServiceUsers(adminClient, { prefix, databaseUrl, database }) {
  const passwords = Object.fromEntries(SERVICES.map((s) => [s, newPassword()]));
  await adminClient.query(serviceUsersSql(prefix, passwords));
  const users = Object.fromEntries(SERVICES.map((s) => [s, serviceUserName(prefix, s)]));
  if (database) {
    await adminClient.query(`REVOKE CONNECT ON DATABASE ${quoteIdent(database)} FROM PUBLIC`);
    await adminClient.query(
      `GRANT CONNECT ON DATABASE ${quoteIdent(database)} TO ${SERVICES.map((s) => quoteIdent(users[s])).join(', ')}`,
    );
  }
  const urls = Object.fromEntries(SERVICES.map((s) => [s, serviceUrl(databaseUrl, prefix, s, passwords[s])]));
  return { users, passwords, urls };
}

/** Drops the four users of `prefix` (after their database: a user that still has rights there cannot go). */
async function dropServiceUsers(adminClient, prefix) {
  for (const service of SERVICES)
    await adminClient.query(`DROP ROLE IF EXISTS ${quoteIdent(serviceUserName(prefix, service))}`);
}

module.exports = {
  SERVICE_ROLES,
  SERVICES,
  serviceUserName,
  serviceUsersSql,
  serviceUrl,
  createServiceUsers,
  dropServiceUsers,
  newPassword,
};
