import { DataSource } from 'typeorm';
import {
  PostgresLogSignerStore,
  dataSourceOptions,
  enqueueEntry,
  runMigrations,
} from '@cryptomesh/persistence';
import { createService, RunningService } from '@cryptomesh/service';
import { logSignerApp } from '../../apps/log-signer/src/log-signer.app';
import { queryApp } from '../../apps/query/src/query.app';
import {
  checkpoint,
  enqueueAll,
  eventually,
  fetchAndVerifyLog,
  testEntry,
  testLogKey,
} from '../../apps/log-signer/test/log-fixture';
import { createTestDatabase, TestDatabase } from '../env/test-database';

/**
 * The log-signer in-process (createService, PORT 0) against the real PostgreSQL: queued entries are
 * sequenced and sealed, and the query service publishes a log that verifies end to end with nothing
 * but the verifier key.
 */
describe('log-signer: queue → sequenced → sealed, verified through the query API', () => {
  const key = testLogKey('signer.test/log');
  let db: TestDatabase;
  let dataSource: DataSource;
  let signer: RunningService | undefined;
  let query: RunningService;

  beforeAll(async () => {
    db = await createTestDatabase('logsigner');
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 10 })).initialize();
    await runMigrations(dataSource);
    query = await createService(queryApp, { PORT: '0', LOG_LEVEL: 'warn', DATABASE_URL: db.url });
  });

  afterAll(async () => {
    await signer?.app.close();
    await query?.app.close();
    await dataSource?.destroy();
    await db?.drop();
  });

  function startSigner(env: Record<string, string> = {}): Promise<RunningService> {
    return createService(logSignerApp, {
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      LOG_KEY: key.signerKey,
      // Arbitrary JSON entries, not Mesh records: only the log is under test here.
      LOG_SIGNER_RULES: 'none',
      LOG_ORIGIN: key.origin,
      SEAL_INTERVAL_MS: '100',
      HEARTBEAT_MS: '60000',
      PART_MAX_ENTRIES: '64',
      SEQUENCE_BATCH_SIZE: '25',
      QUEUE_POLL_MS: '10',
      ...env,
    });
  }

  it('seals every entry queued, some concurrently, exactly once, and the whole log verifies', async () => {
    // Queued before the signer starts, then while it runs: both paths.
    const before = Array.from({ length: 150 }, (_, i) => testEntry('a', i));
    await enqueueAll(dataSource, before, 8);
    signer = await startSigner();
    const health = await fetch(`${signer.url}/health`);
    expect(health.status).toBe(200);
    const after = Array.from({ length: 250 }, (_, i) => testEntry('b', i));
    await enqueueAll(dataSource, after, 12);

    const head = await eventually(
      'all entries sealed',
      async () => {
        const seal = await checkpoint(query.url, key);
        return seal !== undefined && seal.size === 400 ? seal : undefined;
      },
      20_000,
    );
    expect(head.size).toBe(400);

    const log = await fetchAndVerifyLog(query.url, key);
    const seen = log.entries.map((e) => Buffer.from(e).toString());
    expect(new Set(seen).size).toBe(400);
    expect(new Set(seen)).toEqual(new Set([...before, ...after].map((e) => Buffer.from(e).toString())));
    // PART_MAX_ENTRIES bounds every part; part 0 was sealed at once, possibly empty.
    for (const seal of log.seals) expect(seal.size - seal.part.first).toBeLessThanOrEqual(64);
    expect(log.seals.length).toBeGreaterThanOrEqual(Math.ceil(400 / 64));
    const queued = await dataSource.query<Array<{ n: string }>>('SELECT count(*) AS n FROM log_queue');
    expect(queued[0]?.n).toBe('0');

    const metrics = await (await fetch(`${signer.url}/metrics`)).text();
    expect(metrics).toMatch(/log_entries_sequenced_total\{service="log-signer"\} 400/);
    expect(metrics).toMatch(/log_tree_size\{state="sealed",service="log-signer"\} 400/);
    expect(metrics).toMatch(/log_queue_depth\{service="log-signer"\} 0/);
    expect(metrics).toMatch(/log_signer_leader\{service="log-signer"\} 1/);
  });

  it('seals an empty heartbeat part after HEARTBEAT_MS with no traffic, and resumes after a restart', async () => {
    await signer?.app.close();
    signer = await startSigner({ HEARTBEAT_MS: '300' });
    const before = await checkpoint(query.url, key);
    const later = await eventually(
      'a heartbeat part',
      async () => {
        const seal = await checkpoint(query.url, key);
        return seal !== undefined && seal.part.index >= before!.part.index + 2 ? seal : undefined;
      },
      5_000,
    );
    expect(later.size).toBe(before!.size);
    expect(later.part.first).toBe(later.size);
    expect(later.timeMs).toBeGreaterThanOrEqual(before!.timeMs);
    await fetchAndVerifyLog(query.url, key);
  });

  it('under a steady load cuts each part before its oldest entry would miss SEAL_INTERVAL_MS (#17)', async () => {
    // The deadline rule (seal-policy.ts): a part is cut SEAL_INTERVAL_MS minus the sealing time it
    // keeps in hand after its oldest entry was queued. Without it, a part is cut only once the whole
    // interval has passed since the previous seal: every gap between seals of a steady load would be
    // at least SEAL_INTERVAL_MS, and the entry queued just after a cut would wait the interval plus
    // the seal's own time.
    await signer?.app.close();
    const interval = 2_000;
    signer = await startSigner({ SEAL_INTERVAL_MS: String(interval), PART_MAX_ENTRIES: '10000' });
    const start = await eventually('a checkpoint', () => checkpoint(query.url, key), 5_000);
    const queuedAt = new Map<string, number>();
    const until = Date.now() + 4.5 * interval;
    for (let n = 0; Date.now() < until; n++) {
      const entry = testEntry('steady', n);
      await dataSource.transaction((tx) => enqueueEntry(tx, entry));
      queuedAt.set(Buffer.from(entry).toString(), Date.now());
      await new Promise((r) => setTimeout(r, 25));
    }
    const total = start.size + queuedAt.size;
    await eventually(
      'the steady entries sealed',
      async () => ((await checkpoint(query.url, key))?.size === total ? true : undefined),
      3 * interval,
    );
    const log = await fetchAndVerifyLog(query.url, key);
    const seals = log.seals.filter((s) => s.part.first >= start.size && s.size > s.part.first);
    const gaps = seals.slice(1).map((s, i) => s.timeMs - seals[i]!.timeMs);
    expect(gaps.length).toBeGreaterThanOrEqual(2);
    gaps.sort((a, b) => a - b);
    expect(gaps[Math.floor(gaps.length / 2)]!).toBeLessThan(interval);
    // Every entry of the window was cut into a part within the interval of its queueing (the seal's
    // time is the cut; its commit follows within the budget kept in hand).
    let latest = 0;
    for (const seal of seals)
      for (let i = seal.part.first; i < seal.size; i++) {
        const queued = queuedAt.get(Buffer.from(log.entries[i]!).toString())!;
        latest = Math.max(latest, seal.timeMs - queued);
      }
    expect(latest).toBeLessThan(interval);
  }, 60_000);

  it('counts an entry queued from its queueing, not from the commit of a sequencing held up (#17)', async () => {
    // An entry's age is read with the queue's rows; the sequencing transaction that follows may take
    // long (a busy database, a big batch re-checked). Its queued instant is counted back from that
    // read: counted back from the commit instead, the held time would vanish from the integration
    // latency and from the seal's deadline, and parts would be cut that much late.
    await signer?.app.close();
    signer = await startSigner();
    const url = signer.url;
    const before = await checkpoint(query.url, key);
    const histogram = async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const value = (name: string) =>
        Number(
          new RegExp(`^log_integration_latency_seconds_${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1],
        );
      return { sum: value('sum'), count: value('count') };
    };
    const start = await histogram();
    const blocker = dataSource.createQueryRunner();
    await blocker.connect();
    try {
      await blocker.startTransaction();
      // Lets reads through and holds the sequencing's INSERT INTO log_entries.
      await blocker.query('LOCK TABLE log_entries IN SHARE ROW EXCLUSIVE MODE');
      const enqueuing = Date.now();
      await dataSource.transaction((tx) => enqueueEntry(tx, testEntry('held', 0)));
      const queued = Date.now();
      await eventually(
        'the sequencing waiting for the lock',
        async () => {
          const rows = await dataSource.query<Array<{ n: number }>>(
            `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'log_entries'::regclass`,
          );
          return rows[0]!.n > 0 ? true : undefined;
        },
        5_000,
      );
      // The hold under test: the entry, already read from the queue, waits this long in its batch.
      await new Promise((r) => setTimeout(r, 1_000));
      await blocker.commitTransaction();
      const released = Date.now();
      await eventually(
        'the held entry sealed',
        async () => ((await checkpoint(query.url, key))?.size === before!.size + 1 ? true : undefined),
        10_000,
      );
      const seen = Date.now();
      const end = await histogram();
      expect(end.count - start.count).toBe(1);
      // At least the hold, and no more than from before the entry was queued until its seal was seen.
      const observed = end.sum - start.sum;
      expect(observed).toBeGreaterThanOrEqual((released - queued) / 1000 - 0.05);
      expect(observed).toBeLessThanOrEqual((seen - enqueuing) / 1000 + 0.05);
    } finally {
      try {
        if (blocker.isTransactionActive) await blocker.rollbackTransaction();
      } finally {
        await blocker.release();
      }
    }
  }, 30_000);

  it('refuses a non-canonical entry at enqueue time, queueing nothing', async () => {
    const before = await dataSource.query<Array<{ n: string }>>('SELECT count(*) AS n FROM log_queue');
    const bad = new TextEncoder().encode('{"b":1,"a":2}');
    await expect(dataSource.transaction((tx) => enqueueEntry(tx, bad))).rejects.toMatchObject({
      code: 'entry.not-canonical',
    });
    await expect(
      dataSource.transaction((tx) => enqueueEntry(tx, new TextEncoder().encode('[1]'))),
    ).rejects.toMatchObject({ code: 'entry.malformed' });
    expect(await dataSource.query('SELECT count(*) AS n FROM log_queue')).toEqual(before);
  });

  it('refuses, reports and never seals a queued row that does not decode, and seals the rest (#15)', async () => {
    // What a gateway that bypasses enqueueEntry (or a compromised one, whose role may INSERT into
    // the queue) can queue: bytes that are not a canonical entry, between two good entries.
    const before = (await checkpoint(query.url, key))!;
    await enqueueAll(dataSource, [testEntry('refuse', 0)]);
    await dataSource.query(`INSERT INTO log_queue (entry, request_id) VALUES ($1, 'evil-1')`, [
      Buffer.from('{"b":1,"a":2}'),
    ]);
    await enqueueAll(dataSource, [testEntry('refuse', 1)]);
    const head = await eventually(
      'the good entries sealed',
      async () => {
        const seal = await checkpoint(query.url, key);
        return seal !== undefined && seal.size === before.size + 2 ? seal : undefined;
      },
      10_000,
    );
    expect(head.size).toBe(before.size + 2);
    expect(await dataSource.query('SELECT count(*)::int AS n FROM log_queue')).toEqual([{ n: 0 }]);
    const refused = await dataSource.query<Array<{ entry: Buffer; request_id: string; reason: string }>>(
      'SELECT entry, request_id, reason FROM log_queue_refused',
    );
    expect(refused).toEqual([
      {
        entry: Buffer.from('{"b":1,"a":2}'),
        request_id: 'evil-1',
        reason: expect.stringMatching(/^entry\.not-canonical: /) as string,
      },
    ]);
    const log = await fetchAndVerifyLog(query.url, key);
    const texts = log.entries.map((e) => Buffer.from(e).toString());
    expect(texts).not.toContain('{"b":1,"a":2}');
    expect(texts.slice(-2)).toEqual(
      [testEntry('refuse', 0), testEntry('refuse', 1)].map((e) => Buffer.from(e).toString()),
    );
    const metrics = await (await fetch(`${signer!.url}/metrics`)).text();
    expect(metrics).toMatch(/log_entries_refused_total\{service="log-signer"\} 1/);
    expect((await fetch(`${signer!.url}/health/ready`)).status).toBe(200); // still signing
  });

  it('holds leadership exclusively, and the database refuses a second seal for a part or a gap', async () => {
    const store = new PostgresLogSignerStore({ url: db.url });
    expect(await store.tryLead()).toBeUndefined(); // the running signer leads
    await signer?.app.close();
    signer = undefined;
    const session = await store.tryLead();
    expect(session).toBeDefined();
    try {
      const last = (await session!.lastSeal())!;
      const copy = { ...last, note: `${last.note}x` };
      await expect(session!.appendSeal(copy)).rejects.toMatchObject({ code: 'seal.conflict' });
      await expect(session!.appendSeal({ ...last, part: last.part + 2 })).rejects.toMatchObject({
        code: 'seal.gap',
      });
      await expect(
        session!.appendSeal({ ...last, part: last.part + 1, first: last.size - 1 }),
      ).rejects.toMatchObject({ code: 'seal.gap' });
      expect((await session!.lastSeal())!.part).toBe(last.part);
    } finally {
      await session!.close();
    }
  });
  it('polls an idle queue with one statement, and takes a row queued since in its transaction (#17)', async () => {
    await signer?.app.close();
    signer = undefined;
    const led = await new PostgresLogSignerStore({ url: db.url }).tryLead();
    expect(led).toBeDefined();
    const session = led!;
    const sent: string[] = [];
    const query = session.query;
    Object.assign(session, {
      query: (sql: string, params?: unknown[]) => {
        sent.push(sql.trim().split(/\s+/).slice(0, 2).join(' '));
        return query(sql, params);
      },
    });
    const refuse = () => {
      throw new Error('planned: nothing is sequenced here');
    };
    try {
      await dataSource.query('DELETE FROM log_queue');
      expect(await session.sequence(10, refuse)).toBe(0);
      expect(sent).toEqual(['BEGIN', 'SELECT seq,', 'ROLLBACK']);
      sent.length = 0;
      // Idle: one read outside a transaction, and no transaction at all.
      expect(await session.sequence(10, refuse)).toBe(0);
      expect(await session.sequence(10, refuse)).toBe(0);
      expect(sent).toEqual(['SELECT seq', 'SELECT seq']);
      sent.length = 0;
      await dataSource.transaction((tx) => enqueueEntry(tx, testEntry('after-idle', 0)));
      await expect(session.sequence(10, refuse)).rejects.toThrow('planned');
      expect(sent).toEqual(['SELECT seq', 'BEGIN', 'SELECT seq,', 'ROLLBACK']);
      sent.length = 0;
      // The last call found rows: the next goes straight to its transaction.
      await expect(session.sequence(10, refuse)).rejects.toThrow('planned');
      expect(sent).toEqual(['BEGIN', 'SELECT seq,', 'ROLLBACK']);
      const rows = await dataSource.query<Array<{ queued: string }>>(
        'SELECT count(*) AS queued FROM log_queue',
      );
      expect(Number(rows[0]!.queued)).toBe(1); // the failed plan rolled back: the row is still queued
    } finally {
      await session.close();
      await dataSource.query('DELETE FROM log_queue');
    }
  });
});
