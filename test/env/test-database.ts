import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops the database, disconnecting anything still connected. Idempotent. */
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.TEST_DATABASE_ADMIN_URL;
  if (!url) throw new Error('TEST_DATABASE_ADMIN_URL is not set: run the tests with npm test');
  return url;
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates a fresh, empty database for one test file. Its name starts with the run's tag, so the
 * runner drops it even if the test forgets to (or is interrupted before it can).
 */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const tag = process.env.CMP_TEST_RUN_TAG;
  if (!tag) throw new Error('CMP_TEST_RUN_TAG is not set: run the tests with npm test');
  const safeLabel = label
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 16);
  const name = `${tag}_${safeLabel}_${randomBytes(3).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

export function testKafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run the tests with npm test');
  return brokers.split(',');
}

/** The services that have a database role of their own (deploy/database/service-users.js). */
export type ServiceName = 'gateway' | 'query' | 'log-signer' | 'replication';

export interface ServiceUsers {
  /** service → a DATABASE_URL of the test database as that service's LOGIN user. */
  readonly urls: Readonly<Record<ServiceName, string>>;
  readonly users: Readonly<Record<ServiceName, string>>;
  /** Drops the users (call after dropping the database). Idempotent. */
  drop(): Promise<void>;
}

/**
 * One LOGIN user per service for `db`, each a member of its service's group role, exactly as
 * `npm run federation:up` and `compose:init` make them — so a service started with `urls[service]`
 * has only the rights the migration ServiceRoles1763808000000 grants it. Run the migrations (as
 * the owner, `db.url`) before starting the services.
 */
export async function createServiceUsers(db: TestDatabase): Promise<ServiceUsers> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const users = require('../../deploy/database/service-users') as {
    createServiceUsers: (
      client: Client,
      options: { prefix: string; databaseUrl: string; database?: string },
    ) => Promise<{ users: Record<ServiceName, string>; urls: Record<ServiceName, string> }>;
    dropServiceUsers: (client: Client, prefix: string) => Promise<void>;
  };
  const made = await admin((c) =>
    users.createServiceUsers(c, { prefix: db.name, databaseUrl: db.url, database: db.name }),
  );
  let dropped = false;
  return {
    urls: made.urls,
    users: made.users,
    async drop() {
      if (dropped) return;
      dropped = true;
      await db.drop();
      await admin((c) => users.dropServiceUsers(c, db.name));
    },
  };
}
