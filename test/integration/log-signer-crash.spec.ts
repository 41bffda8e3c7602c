import { DataSource } from 'typeorm';
import { dataSourceOptions, enqueueEntry, runMigrations } from '@cryptomesh/persistence';
import { createService, RunningService } from '@cryptomesh/service';
import { queryApp } from '../../apps/query/src/query.app';
import {
  checkpoint,
  eventually,
  fetchAndVerifyLog,
  kill,
  spawnSigner,
  testEntry,
  testLogKey,
  type ChildSigner,
} from '../../apps/log-signer/test/log-fixture';
import { createTestDatabase, TestDatabase } from '../env/test-database';

/**
 * The BUILT log-signer (`nest build log-signer`) as a child process, killed with SIGKILL while
 * entries are queued continuously (DESIGN.md invariants 1, 2, 5). Whatever instant the kill lands
 * on — mid-sequencing, between the signature and the seal's commit, after it — the restarted signer
 * resumes from what was persisted: every acknowledged entry is in the log exactly once, every part
 * index has one seal and the log verifies.
 */
describe('log-signer crash safety and leadership (built service, SIGKILL)', () => {
  const key = testLogKey('crash.test/log');
  let db: TestDatabase;
  let dataSource: DataSource;
  let query: RunningService;
  const children: ChildSigner[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('signercrash');
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 8 })).initialize();
    await runMigrations(dataSource);
    query = await createService(queryApp, { PORT: '0', LOG_LEVEL: 'warn', DATABASE_URL: db.url });
  }, 60_000);

  afterAll(async () => {
    for (const c of children) await kill(c.child);
    await query?.app.close();
    await dataSource?.destroy();
    await db?.drop();
  }, 60_000);

  function signer(env: Record<string, string> = {}): ChildSigner {
    const started = spawnSigner({
      DATABASE_URL: db.url,
      LOG_KEY: key.signerKey,
      // Arbitrary JSON entries, not Mesh records: only the log is under test here.
      LOG_SIGNER_RULES: 'none',
      SEAL_INTERVAL_MS: '40',
      HEARTBEAT_MS: '200',
      PART_MAX_ENTRIES: '16',
      SEQUENCE_BATCH_SIZE: '5',
      QUEUE_POLL_MS: '5',
      LEADER_RETRY_MS: '50',
      ...env,
    });
    children.push(started);
    return started;
  }

  /** Queues entries of run `tag` without pause until stopped; `acknowledged` holds each committed one. */
  function producer(tag: string, concurrency: number) {
    const acknowledged: string[] = [];
    let stop = false;
    let n = 0;
    const worker = async (): Promise<void> => {
      while (!stop) {
        const entry = testEntry(tag, n++);
        await dataSource.transaction((tx) => enqueueEntry(tx, entry));
        acknowledged.push(Buffer.from(entry).toString());
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const done = Promise.all(Array.from({ length: concurrency }, worker));
    return {
      acknowledged,
      stop: async () => {
        stop = true;
        await done;
      },
    };
  }

  async function sealedAll(count: number): Promise<void> {
    await eventually(
      `all ${count} acknowledged entries sealed`,
      async () => ((await checkpoint(query.url, key))?.size === count ? true : undefined),
      15_000,
      50,
    );
  }

  async function expectExactlyOnce(acknowledged: readonly string[]): Promise<void> {
    const log = await fetchAndVerifyLog(query.url, key);
    const seen = log.entries.map((e) => Buffer.from(e).toString());
    expect(seen.length).toBe(acknowledged.length);
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set(acknowledged));
    const parts = await dataSource.query<Array<{ n: string; max: string }>>(
      'SELECT count(*) AS n, max(part) AS max FROM log_seals',
    );
    expect(Number(parts[0]!.n)).toBe(Number(parts[0]!.max) + 1);
    expect(log.seals.map((s) => s.part.index)).toEqual(log.seals.map((_, i) => i));
  }

  it('loses and duplicates nothing across three SIGKILLs under load', async () => {
    const load = producer('crash', 3);
    for (const delayMs of [350, 600, 900]) {
      const running = signer();
      await running.leading;
      await new Promise((r) => setTimeout(r, delayMs));
      await kill(running.child);
    }
    const last = signer();
    await last.leading;
    await new Promise((r) => setTimeout(r, 300));
    await load.stop();
    expect(load.acknowledged.length).toBeGreaterThan(100);
    await sealedAll(load.acknowledged.length);
    await kill(last.child);
    await expectExactlyOnce(load.acknowledged);
  }, 180_000);

  it('two signers on one database: one seals, the other waits, then takes over without a gap', async () => {
    const before = (await checkpoint(query.url, key))!;
    const first = signer();
    await first.leading;
    const second = signer();
    const secondUrl = await second.url;

    const standby = await fetch(`${secondUrl}/health`);
    expect(standby.status).toBe(503);
    const standbyBody = (await standby.json()) as {
      checks: Record<string, { status: string; error?: string }>;
    };
    expect(standbyBody.checks['log-signer']).toMatchObject({ status: 'down' });
    expect(standbyBody.checks['log-signer']?.error).toContain('leader: false');
    expect(await (await fetch(`${secondUrl}/metrics`)).text()).toMatch(
      /log_signer_leader\{service="log-signer"\} 0/,
    );

    const load = producer('leader', 2);
    // The leader seals the load (however slow the machine); the standby, all that time, seals nothing.
    await eventually(
      'the leader seals under load',
      () => Promise.resolve(first.output().includes('"msg":"sealed"') ? true : undefined),
      60_000,
    );
    expect(second.output()).not.toContain('"msg":"sealed"');

    await kill(first.child);
    await second.leading;
    await new Promise((r) => setTimeout(r, 300));
    await load.stop();
    await sealedAll(before.size + load.acknowledged.length);
    expect(second.output()).toContain('"msg":"sealed"');
    expect((await fetch(`${secondUrl}/health`)).status).toBe(200);
    await kill(second.child);

    const log = await fetchAndVerifyLog(query.url, key);
    const mine = log.entries.map((e) => Buffer.from(e).toString()).filter((e) => e.includes('"leader"'));
    expect(new Set(mine)).toEqual(new Set(load.acknowledged));
    expect(mine.length).toBe(load.acknowledged.length);
  }, 180_000);
});
