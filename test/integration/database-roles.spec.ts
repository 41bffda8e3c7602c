import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  dataSourceOptions,
  runMigrations,
  schemaIsCurrent,
  startEmbeddedPostgres,
} from '@cryptomesh/persistence';
import {
  createServiceUsers,
  createTestDatabase,
  type ServiceName,
  type ServiceUsers,
  type TestDatabase,
} from '../env/test-database';

const ROLES: Record<ServiceName, string> = {
  gateway: 'cryptomesh_gateway',
  query: 'cryptomesh_query',
  'log-signer': 'cryptomesh_log_signer',
  replication: 'cryptomesh_replication',
};
const SERVICES = Object.keys(ROLES) as ServiceName[];

/**
 * Every table's grants to the services' group roles, as the migrations leave them (issue #15, least
 * privilege). A table missing here fails the first test: a migration that adds a table decides who
 * may read and write it, and records that decision here.
 */
const MATRIX: Record<string, Partial<Record<ServiceName, string>>> = {
  schema_migrations: { gateway: 'SELECT', query: 'SELECT', 'log-signer': 'SELECT', replication: 'SELECT' },
  log_queue: {
    gateway: 'INSERT(entry,request_id) SELECT(queued_at,seq)',
    query: 'SELECT(queued_at,seq)',
    'log-signer': 'DELETE SELECT UPDATE(queued_at)',
    replication: 'SELECT(seq)',
  },
  log_queue_refused: { 'log-signer': 'INSERT SELECT' },
  log_account_states: { 'log-signer': 'INSERT SELECT UPDATE' },
  log_account_profiles: { 'log-signer': 'INSERT SELECT' },
  log_account_states_state: { 'log-signer': 'SELECT UPDATE' },
  log_nonces: { 'log-signer': 'DELETE INSERT SELECT UPDATE' },
  log_entries: { query: 'SELECT', 'log-signer': 'INSERT SELECT', replication: 'SELECT' },
  log_tree_nodes: { query: 'SELECT', 'log-signer': 'INSERT SELECT', replication: 'SELECT' },
  log_seals: { query: 'SELECT', 'log-signer': 'INSERT SELECT', replication: 'SELECT' },
  log_profile_index: { query: 'SELECT', 'log-signer': 'INSERT SELECT', replication: 'SELECT' },
  log_profile_index_state: { query: 'SELECT', 'log-signer': 'SELECT UPDATE', replication: 'SELECT' },
  accounts: {
    gateway: 'INSERT SELECT UPDATE',
    query: 'SELECT(account_udf,master,personal,status)',
    replication: 'SELECT(account_udf,master,status)',
  },
  catalog_objects: { gateway: 'INSERT SELECT UPDATE' },
  connect_requests: { gateway: 'DELETE INSERT SELECT UPDATE' },
  escrow_blobs: { gateway: 'INSERT SELECT', replication: 'SELECT' },
  escrow_outbox: { gateway: 'INSERT', replication: 'DELETE SELECT' },
  mirror_escrow_blobs: { gateway: 'SELECT', replication: 'INSERT SELECT' },
  request_nonces: { gateway: 'DELETE INSERT SELECT' },
  federation_portal: { query: 'SELECT', replication: 'INSERT SELECT UPDATE' },
  federation_peers: { query: 'SELECT', replication: 'INSERT SELECT UPDATE' },
  mirror_heads: { query: 'SELECT', replication: 'INSERT SELECT UPDATE' },
  mirror_account_states: { gateway: 'SELECT', query: 'SELECT', replication: 'INSERT SELECT UPDATE' },
  mirror_account_profiles: { gateway: 'SELECT', query: 'SELECT', replication: 'INSERT SELECT' },
  user_catalog_objects: {
    gateway: 'DELETE INSERT SELECT UPDATE',
    replication: 'SELECT(access_account,access_master,access_rule,account_udf,catalog,state)',
  },
  inbound_spool: { gateway: 'DELETE INSERT SELECT UPDATE', replication: 'DELETE INSERT SELECT' },
  inbound_outbox: { gateway: 'DELETE INSERT SELECT', replication: 'DELETE SELECT UPDATE' },
  mirror_nonces: { replication: 'DELETE INSERT SELECT UPDATE' },
  findings: { query: 'SELECT', replication: 'INSERT SELECT UPDATE' },
  log_publication: { replication: 'INSERT SELECT UPDATE' },
  consumer_progress: { replication: 'INSERT SELECT UPDATE' },
  mirror_entries: { query: 'SELECT', replication: 'INSERT SELECT' },
  mirror_tree_nodes: { query: 'SELECT', replication: 'INSERT SELECT' },
  mirror_seals: { query: 'SELECT', replication: 'INSERT SELECT' },
  mirror_profile_index: { query: 'SELECT', replication: 'INSERT SELECT' },
  cosignatures: { query: 'SELECT', replication: 'INSERT SELECT' },
  witness_outbox: { replication: 'DELETE INSERT SELECT UPDATE(created_at)' },
  log_tiles: { query: 'SELECT', 'log-signer': 'INSERT SELECT UPDATE', replication: 'SELECT' },
  mirror_tiles: { query: 'SELECT', replication: 'INSERT SELECT UPDATE' },
  witness_checkpoints: { query: 'SELECT', replication: 'INSERT SELECT UPDATE' },
  outside_witnesses: { query: 'SELECT', replication: 'INSERT SELECT UPDATE' },
};

const DENIED = { code: '42501' }; // insufficient_privilege
const hash = (n: number) => `'\\x${n.toString(16).padStart(2, '0').repeat(32)}'::bytea`;
/** A seal row the database's own checks accept for part 0 of an empty log. */
const SEAL_0 = `INSERT INTO log_seals (part, first, size, part_digest, chain, root, time_ms, note)
               VALUES (0, 0, 0, ${hash(1)}, ${hash(2)}, ${hash(3)}, 1, 'a note')`;

/**
 * Issue #15, least privilege: each service's PostgreSQL role against the real server, as the LOGIN
 * user a deployment makes for it (deploy/database/service-users.js) — refused what it must not do,
 * allowed what it needs. The services themselves run with these users in
 * portal-end-to-end.spec.ts and in every federation test (deploy/federation/federation.js).
 */
describe('database roles: one per service, only the rights it needs', () => {
  let db: TestDatabase;
  let users: ServiceUsers;
  let owner: DataSource;
  const clients = new Map<ServiceName, Client>();
  let tables: string[];

  beforeAll(async () => {
    db = await createTestDatabase('roles');
    owner = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 2 })).initialize();
    await runMigrations(owner);
    users = await createServiceUsers(db);
    for (const service of SERVICES) {
      const client = new Client({ connectionString: users.urls[service] });
      await client.connect();
      clients.set(service, client);
    }
    tables = (
      await owner.query<Array<{ name: string }>>(
        `SELECT relname AS name FROM pg_class
          WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' ORDER BY relname`,
      )
    ).map((t) => t.name);
  });

  afterAll(async () => {
    for (const client of clients.values()) await client.end();
    await owner?.destroy();
    if (users) await users.drop();
    else await db?.drop();
  });

  const as = (service: ServiceName) => clients.get(service)!;

  /** Runs `sql` as `service` in a transaction that is rolled back: nothing it did stays. */
  async function attempt(service: ServiceName, sql: string): Promise<unknown> {
    const client = as(service);
    await client.query('BEGIN');
    try {
      return await client.query(sql);
    } finally {
      await client.query('ROLLBACK');
    }
  }

  it('grants each table exactly what the matrix says, and knows every table', async () => {
    const rows = await owner.query<Array<{ table: string; role: string; privilege: string }>>(
      `SELECT c.relname AS table, r.rolname AS role, a.privilege_type AS privilege
         FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a JOIN pg_roles r ON r.oid = a.grantee
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
       UNION ALL
       SELECT c.relname, r.rolname, a.privilege_type || '(' || string_agg(att.attname, ',' ORDER BY att.attname) || ')'
         FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid
              CROSS JOIN LATERAL aclexplode(att.attacl) a JOIN pg_roles r ON r.oid = a.grantee
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
        GROUP BY c.relname, r.rolname, a.privilege_type`,
    );
    const seen: Record<string, Partial<Record<ServiceName, string>>> = {};
    for (const table of tables) seen[table] = {};
    const byRole = new Map(Object.entries(ROLES).map(([s, r]) => [r, s as ServiceName]));
    const lists = new Map<string, string[]>();
    const ownerRole = (await owner.query<Array<{ u: string }>>('SELECT current_user AS u'))[0]!.u;
    for (const { table, role, privilege } of rows) {
      if (role === ownerRole) continue;
      const service = byRole.get(role);
      // Nothing is granted to PUBLIC or to any other role.
      expect({ table, role, known: service !== undefined }).toEqual({ table, role, known: true });
      const key = `${table}/${service}`;
      lists.set(key, [...(lists.get(key) ?? []), privilege]);
    }
    for (const [key, privileges] of lists) {
      const [table, service] = key.split('/') as [string, ServiceName];
      seen[table]![service] = privileges.sort().join(' ');
    }
    expect(Object.keys(seen).sort()).toEqual(Object.keys(MATRIX).sort());
    expect(seen).toEqual(MATRIX);
  });

  it('query (internet-facing): refused INSERT, UPDATE, DELETE and TRUNCATE on every table', async () => {
    for (const table of tables) {
      const column = (
        await owner.query<Array<{ name: string }>>(
          `SELECT attname AS name FROM pg_attribute
            WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
            ORDER BY attnum LIMIT 1`,
          [table],
        )
      )[0]!.name;
      for (const sql of [
        `INSERT INTO ${table} DEFAULT VALUES`,
        `UPDATE ${table} SET ${column} = ${column} WHERE false`,
        `DELETE FROM ${table} WHERE false`,
        `TRUNCATE ${table}`,
      ])
        await expect(attempt('query', sql)).rejects.toMatchObject(DENIED);
    }
    // …nor reads the catalog or the queued bytes; reads what it serves.
    for (const sql of [
      'SELECT * FROM accounts',
      'SELECT entry FROM log_queue',
      'SELECT * FROM witness_outbox',
    ])
      await expect(attempt('query', sql)).rejects.toMatchObject(DENIED);
    await expect(attempt('query', 'SELECT count(*), min(queued_at) FROM log_queue')).resolves.toBeDefined();
    await expect(attempt('query', 'SELECT * FROM log_seals, mirror_seals, findings')).resolves.toBeDefined();
  });

  it('only the log-signer writes seals, entries and tree nodes', async () => {
    await expect(attempt('log-signer', SEAL_0)).resolves.toMatchObject({ rowCount: 1 });
    for (const service of ['gateway', 'query', 'replication'] as const) {
      await expect(attempt(service, SEAL_0)).rejects.toMatchObject(DENIED);
      await expect(attempt(service, 'DELETE FROM log_seals WHERE false')).rejects.toMatchObject(DENIED);
      await expect(
        attempt(service, `INSERT INTO log_entries (idx, entry, leaf_hash) VALUES (0, '\\x7b7d', ${hash(4)})`),
      ).rejects.toMatchObject(DENIED);
      await expect(
        attempt(service, `INSERT INTO log_tree_nodes (level, idx, hash) VALUES (1, 0, ${hash(5)})`),
      ).rejects.toMatchObject(DENIED);
      await expect(
        attempt(service, 'UPDATE log_profile_index_state SET indexed_size = indexed_size'),
      ).rejects.toMatchObject(DENIED);
    }
  });

  it('gateway: queues entries and keeps the catalog, but cannot alter the queue or touch seals', async () => {
    await expect(
      attempt('gateway', `INSERT INTO log_queue (entry, request_id) VALUES ('\\x7b7d', 'r-1') RETURNING seq`),
    ).resolves.toMatchObject({ rowCount: 1 });
    await expect(
      attempt(
        'gateway',
        `INSERT INTO accounts (account_udf, address, status, master, personal)
         VALUES ('MA', 'a@example.org', 'active', '{}', '{}')`,
      ),
    ).resolves.toMatchObject({ rowCount: 1 });
    for (const sql of [
      `INSERT INTO log_queue (entry, queued_at) VALUES ('\\x7b7d', now() - interval '1 hour')`,
      'UPDATE log_queue SET entry = entry WHERE false',
      'DELETE FROM log_queue WHERE false',
      'SELECT entry FROM log_queue',
      'UPDATE log_seals SET note = note WHERE false',
      'SELECT * FROM findings',
      `INSERT INTO findings (fingerprint, subject, reporter, kind, code, detail, evidence)
       VALUES ('f', 's', 'r', 'gap', 'c', 'd', '{}')`,
    ])
      await expect(attempt('gateway', sql)).rejects.toMatchObject(DENIED);
  });

  it('log-signer: consumes the queue, but cannot queue, nor write the catalog or the mirrors', async () => {
    await expect(
      attempt('log-signer', 'SELECT seq, entry FROM log_queue ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED'),
    ).resolves.toBeDefined();
    await expect(attempt('log-signer', 'DELETE FROM log_queue WHERE false')).resolves.toBeDefined();
    for (const sql of [
      `INSERT INTO log_queue (entry) VALUES ('\\x7b7d')`,
      'UPDATE log_queue SET entry = entry WHERE false',
      'UPDATE accounts SET version = version WHERE false',
      'DELETE FROM mirror_seals WHERE false',
      'UPDATE findings SET status = status WHERE false',
    ])
      await expect(attempt('log-signer', sql)).rejects.toMatchObject(DENIED);
  });

  it('replication: writes mirrors, findings and its cursors, never the own log or the queue', async () => {
    await expect(
      attempt(
        'replication',
        `INSERT INTO findings (fingerprint, subject, reporter, kind, code, detail, evidence)
         VALUES ('f', 's', 'r', 'gap', 'c', 'd', '{}') RETURNING id`,
      ),
    ).resolves.toMatchObject({ rowCount: 1 });
    await expect(
      attempt('replication', `INSERT INTO log_publication (topic) VALUES ('t') ON CONFLICT DO NOTHING`),
    ).resolves.toMatchObject({ rowCount: 1 });
    for (const sql of [
      `INSERT INTO log_queue (entry) VALUES ('\\x7b7d')`,
      'DELETE FROM log_queue WHERE false',
      'SELECT * FROM log_queue',
      'UPDATE log_entries SET entry = entry WHERE false',
      'DELETE FROM log_entries WHERE false',
      'UPDATE accounts SET version = version WHERE false',
      'SELECT * FROM accounts',
      'DELETE FROM mirror_seals WHERE false',
    ])
      await expect(attempt('replication', sql)).rejects.toMatchObject(DENIED);
  });

  it('no service changes the schema; a table added later is readable by the internal services only', async () => {
    for (const service of SERVICES) {
      await expect(attempt(service, 'CREATE TABLE intruder (x int)')).rejects.toMatchObject(DENIED);
      await expect(attempt(service, 'DROP TABLE log_seals')).rejects.toMatchObject(DENIED);
      await expect(attempt(service, 'ALTER TABLE accounts ADD COLUMN x int')).rejects.toMatchObject(DENIED);
    }
    // As a later migration would, by the owner: default privileges decide.
    await owner.query('CREATE TABLE later_table (x int)');
    try {
      for (const service of ['log-signer', 'replication'] as const) {
        await expect(attempt(service, 'SELECT * FROM later_table')).resolves.toBeDefined();
        await expect(attempt(service, 'INSERT INTO later_table VALUES (1)')).rejects.toMatchObject(DENIED);
      }
      for (const service of ['gateway', 'query'] as const)
        await expect(attempt(service, 'SELECT * FROM later_table')).rejects.toMatchObject(DENIED);
    } finally {
      await owner.query('DROP TABLE later_table');
    }
  });

  it("keeps another portal's users out of this portal's database on a shared server", async () => {
    const other = await createTestDatabase('rolesother');
    const otherUsers = await createServiceUsers(other);
    try {
      // Same cluster, same group roles: only CONNECT on the database tells the portals apart.
      const intruder = new Client({ connectionString: otherUsers.urls.gateway.replace(other.name, db.name) });
      await expect(intruder.connect()).rejects.toMatchObject({ code: '42501' });
      const own = new Client({ connectionString: otherUsers.urls.gateway });
      await own.connect();
      await own.end();
    } finally {
      await otherUsers.drop();
    }
  });

  it('refuses to migrate where a service role exists as a LOGIN or SUPERUSER role', async () => {
    // Roles belong to the whole cluster: this one runs on an embedded PostgreSQL of its own, so that
    // the other suites' migrations never see the misconfigured role.
    const dir = mkdtempSync(join(tmpdir(), 'cmp-roles-'));
    const pg = await startEmbeddedPostgres({ dataDir: dir });
    const source = await new DataSource(dataSourceOptions({ url: pg.url, poolSize: 1 })).initialize();
    try {
      for (const attribute of ['LOGIN', 'SUPERUSER']) {
        // A role of that name made by hand, with a right a group role must not have.
        await source.query(`DROP ROLE IF EXISTS cryptomesh_query`);
        await source.query(`CREATE ROLE cryptomesh_query ${attribute}`);
        await expect(runMigrations(source)).rejects.toThrow(
          /role cryptomesh_query must be a plain NOLOGIN group role/,
        );
        expect(await schemaIsCurrent(source)).toBe(false);
        // Nothing of the roles' migration is left: it was one transaction.
        const granted = await source.query<Array<{ n: number }>>(
          `SELECT count(*)::int AS n FROM information_schema.role_table_grants WHERE grantee LIKE 'cryptomesh\\_%'`,
        );
        expect(granted).toEqual([{ n: 0 }]);
      }
      // Once it is the plain group role the migration asks for, the migrations complete.
      await source.query(`ALTER ROLE cryptomesh_query NOLOGIN NOSUPERUSER`);
      expect((await runMigrations(source)).length).toBeGreaterThan(0);
      expect(await schemaIsCurrent(source)).toBe(true);
    } finally {
      await source.destroy();
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
