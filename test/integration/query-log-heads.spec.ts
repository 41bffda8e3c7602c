import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrations } from '@cryptomesh/persistence';
import { createService, type RunningService } from '@cryptomesh/service';
import { logSignerApp } from '../../apps/log-signer/src/log-signer.app';
import { queryApp } from '../../apps/query/src/query.app';
import {
  checkpoint,
  enqueueAll,
  eventually,
  testEntry,
  testLogKey,
} from '../../apps/log-signer/test/log-fixture';
import { createTestDatabase, type TestDatabase } from '../env/test-database';

/** The bound under test: long enough that a lagging checkpoint is seen, short enough to wait out. */
const MAX_AGE_MS = 1_000;
/** One read of the heads, and the test's own polling, on a shared machine. */
const SLACK_MS = 750;

/**
 * The query service's in-memory checkpoints (docs/design/query.md "Log heads", issue #17) against a
 * real log-signer on the real PostgreSQL: after each new seal the served checkpoint advances within
 * CHECKPOINT_MAX_AGE_MS of the commit, it never goes back, and what lies beyond the held checkpoint
 * (a proof at the newer size) is served from the database meanwhile.
 */
describe('query: the latest checkpoint in memory (CHECKPOINT_MAX_AGE_MS)', () => {
  const key = testLogKey('heads.test/log');
  let db: TestDatabase;
  let dataSource: DataSource;
  let query: RunningService;
  let signer: RunningService | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('queryheads');
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 4 })).initialize();
    await runMigrations(dataSource);
    query = await createService(queryApp, {
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      CHECKPOINT_MAX_AGE_MS: String(MAX_AGE_MS),
    });
    signer = await createService(logSignerApp, {
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      LOG_KEY: key.signerKey,
      LOG_SIGNER_RULES: 'none',
      SEAL_INTERVAL_MS: '50',
      QUEUE_POLL_MS: '5',
    });
  });

  afterAll(async () => {
    await signer?.app.close();
    await query?.app.close();
    await dataSource?.destroy();
    await db?.drop();
  });

  /** The latest committed seal's size, read from the database, polled until it is at least `size`. */
  const committed = (size: number) =>
    eventually(
      `a seal of size ≥ ${size} committed`,
      async () => {
        const rows = await dataSource.query<Array<{ size: string }>>(
          'SELECT size FROM log_seals ORDER BY part DESC LIMIT 1',
        );
        const n = Number(rows[0]?.size ?? -1);
        return n >= size ? n : undefined;
      },
      20_000,
      5,
    );

  it('each new seal is served within the bound of its commit, and the served size never goes back', async () => {
    await enqueueAll(dataSource, [testEntry('heads', 0)]);
    await committed(1);
    await eventually('the first seal served', () => checkpoint(query.url, key), 20_000, 10);
    const served: number[] = [];
    for (let round = 1; round <= 3; round++) {
      await enqueueAll(dataSource, [testEntry('heads', round)]);
      const size = await committed(round + 1);
      const seenAt = Date.now();
      const delays = await eventually(
        `the seal of size ${size} served`,
        async () => {
          const seal = await checkpoint(query.url, key);
          served.push(seal?.size ?? 0);
          return seal !== undefined && seal.size >= size ? Date.now() - seenAt : undefined;
        },
        MAX_AGE_MS + 10_000,
        10,
      );
      expect(delays).toBeLessThanOrEqual(MAX_AGE_MS + SLACK_MS);
    }
    expect(served).toEqual([...served].sort((a, b) => a - b));
  }, 60_000);

  it('a proof at a size the held checkpoint does not reach yet is served from the database', async () => {
    const held = (await checkpoint(query.url, key))!.size;
    await enqueueAll(dataSource, [testEntry('heads', 100)]);
    const size = await committed(held + 1);
    const proof = await fetch(`${query.url}/logs/self/proofs/inclusion?index=0&size=${size}`);
    expect(proof.status).toBe(200);
    expect(await proof.json()).toMatchObject({ index: 0, size });
    const consistency = await fetch(`${query.url}/logs/self/proofs/consistency?from=${held}&to=${size}`);
    expect(consistency.status).toBe(200);
  });
});
