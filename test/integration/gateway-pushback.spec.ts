import { createService, type RunningService } from '@cryptomesh/service';
import { logSignerApp } from '../../apps/log-signer/src/log-signer.app';
import { testLogKey } from '../../apps/log-signer/test/log-fixture';
import { queryApp } from '../../apps/query/src/query.app';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { snapshotDatabase } from '../support/db-snapshot';
import { waitFor } from '../support/federation-oracle';
import { post, TestAccount, type Fields } from '../support/mesh-client';
import { startGateway } from '../support/test-gateway';

interface Readiness {
  status: number;
  checks: Record<string, { status: string; error?: string }>;
}

async function readiness(serviceUrl: string): Promise<Readiness> {
  const res = await fetch(`${serviceUrl}/health/ready`);
  const body = (await res.json()) as { checks: Readiness['checks'] };
  return { status: res.status, checks: body.checks };
}

interface SelfStatus {
  backlog: { depth: number; oldestQueuedMs: number | null };
  pushback: string | null;
}

async function selfStatus(queryUrl: string): Promise<SelfStatus> {
  const res = await fetch(`${queryUrl}/status/history?minutes=1`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { self: SelfStatus }).self;
}

/**
 * Issue #15, back-pressure (tessera's pushback): when the log queue is deeper than its bound, or its
 * oldest entry older than the log-signer should ever let it get, the gateway refuses logged
 * transactions with 503 and Retry-After — changing nothing — instead of growing the queue; readiness
 * and the status page say why; once the log-signer drains the queue the gateway accepts again.
 * Real PostgreSQL, the gateway, query and log-signer in-process.
 */
describe('gateway: pushback when the log cannot keep up', () => {
  const key = testLogKey('alpha.example/log');
  const dbs: TestDatabase[] = [];
  const services: RunningService[] = [];

  afterAll(async () => {
    for (const s of services.reverse()) await s.app.close();
    for (const db of dbs) await db.drop();
  });

  async function database(label: string): Promise<TestDatabase> {
    const db = await createTestDatabase(label);
    dbs.push(db);
    return db;
  }

  async function started(service: Promise<RunningService>): Promise<RunningService> {
    const s = await service;
    services.push(s);
    return s;
  }

  async function expectOk(gatewayUrl: string, name: string, body: Fields): Promise<void> {
    const answer = await post(gatewayUrl, name, body);
    expect([answer.status, answer.fields.Error]).toEqual([200, undefined]);
  }

  it('refuses changes with 503 beyond PUSHBACK_QUEUE_DEPTH, says why, and accepts again once the queue drains', async () => {
    const db = await database('pushback');
    const bounds = { PUSHBACK_QUEUE_DEPTH: '3', PUSHBACK_QUEUE_AGE_MS: '0', PUSHBACK_SAMPLE_MS: '50' };
    const gateway = await started(startGateway(db.url, bounds));
    const query = await started(
      createService(queryApp, { PORT: '0', LOG_LEVEL: 'warn', DATABASE_URL: db.url, ...bounds }),
    );

    // No log-signer runs: three accepted CreateAccounts stay queued.
    for (const address of ['a@example.com', 'b@example.com', 'c@example.com'])
      await expectOk(gateway.url, 'CreateAccount', await (await TestAccount.create(address)).createAccount());
    const ready = await waitFor('the gateway reports the queue over its bound', async () => {
      const r = await readiness(gateway.url);
      return r.status === 503 ? r : undefined;
    });
    expect(ready.checks['log-queue']).toMatchObject({ status: 'down' });
    expect(ready.checks['log-queue']!.error).toMatch(/3 entries \(bound 3\)/);
    expect(ready.checks['database']).toMatchObject({ status: 'up' });

    const dave = await TestAccount.create('d@example.com');
    const before = await snapshotDatabase(db.url);
    const refused = await post(gateway.url, 'CreateAccount', await dave.createAccount());
    expect([refused.status, refused.fields.Error, refused.fields.Status]).toEqual([503, 'log.pushback', 503]);
    expect(refused.fields.StatusDescription).toMatch(/not accepting changes now: the log queue holds 3/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await snapshotDatabase(db.url)).toEqual(before);
    // What is not logged goes on.
    expect((await post(gateway.url, 'Hello', {})).status).toBe(200);

    // The status page's data says the same, with the same bounds.
    const status = await selfStatus(query.url);
    expect(status.backlog.depth).toBe(3);
    expect(status.pushback).toMatch(/3 entries \(bound 3\)/);

    // The log-signer drains the queue: readiness comes back and the same request is accepted.
    await started(
      createService(logSignerApp, {
        PORT: '0',
        LOG_LEVEL: 'warn',
        DATABASE_URL: db.url,
        LOG_KEY: key.signerKey,
        LOG_ORIGIN: key.origin,
        SEAL_INTERVAL_MS: '100',
        QUEUE_POLL_MS: '10',
      }),
    );
    await waitFor('the gateway is ready again', async () => (await readiness(gateway.url)).status === 200);
    await expectOk(gateway.url, 'CreateAccount', await dave.createAccount());
    expect((await selfStatus(query.url)).pushback).toBeNull();
  }, 60_000);

  it('refuses changes while the oldest queued entry is older than PUSHBACK_QUEUE_AGE_MS (the log-signer is down)', async () => {
    const db = await database('pushbackage');
    const gateway = await started(
      startGateway(db.url, {
        PUSHBACK_QUEUE_DEPTH: '0',
        PUSHBACK_QUEUE_AGE_MS: '1000',
        PUSHBACK_SAMPLE_MS: '50',
      }),
    );
    const erin = await TestAccount.create('e@example.com');
    await expectOk(gateway.url, 'CreateAccount', await erin.createAccount());
    // Accepted while the entry is young; refused once it has waited past the bound.
    const ready = await waitFor('the gateway reports the stalled queue', async () => {
      const r = await readiness(gateway.url);
      return r.status === 503 ? r : undefined;
    });
    expect(ready.checks['log-queue']!.error).toMatch(/oldest queued entry has waited .* not sequencing/);
    const mail = await erin.application('mail', 'home', {});
    const personal = await erin.nextPersonal({ applications: [mail.entry] });
    const before = await snapshotDatabase(db.url);
    const refused = await post(gateway.url, 'Publish', await erin.publish('update', personal));
    expect([refused.status, refused.fields.Error]).toEqual([503, 'log.pushback']);
    expect(await snapshotDatabase(db.url)).toEqual(before);
  }, 60_000);
});
