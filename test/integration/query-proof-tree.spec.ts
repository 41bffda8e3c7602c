import { DataSource } from 'typeorm';
import { fromBase64, hashLeaf, verifyInclusion, type Hash } from '@cryptomesh/log';
import { dataSourceOptions, runMigrations } from '@cryptomesh/persistence';
import { createService, type RunningService } from '@cryptomesh/service';
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
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { scrape } from '../support/prometheus-text';

const SIZE = 700;

/**
 * The query service's proof tree (docs/design/query.md "Proof tree"; issue #17) against the real
 * PostgreSQL: it fills to the sealed size, its proofs and hash tiles are the database's and verify,
 * it answers from memory, and a database whose nodes do not give its seals' roots turns it off.
 */
describe('query: proofs from the in-memory proof tree', () => {
  const key = testLogKey('query.test/tree');
  let db: TestDatabase;
  let dataSource: DataSource;
  let withTree: RunningService;
  let database: RunningService;
  let entries: Uint8Array[];
  let root: Hash;

  beforeAll(async () => {
    db = await createTestDatabase('prooftree');
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 4 })).initialize();
    await runMigrations(dataSource);
    await enqueueAll(
      dataSource,
      Array.from({ length: SIZE }, (_, i) => testEntry('t', i)),
    );
    const signer = await createService(logSignerApp, {
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      LOG_KEY: key.signerKey,
      LOG_SIGNER_RULES: 'none',
      SEAL_INTERVAL_MS: '50',
      PART_MAX_ENTRIES: '100',
      QUEUE_POLL_MS: '5',
    });
    const env = { PORT: '0', LOG_LEVEL: 'warn', DATABASE_URL: db.url };
    withTree = await createService(queryApp, env);
    database = await createService(queryApp, { ...env, PROOF_TREE_MB: '0' });
    try {
      await eventually(
        `${SIZE} entries sealed`,
        async () => ((await checkpoint(withTree.url, key))?.size === SIZE ? true : undefined),
        20_000,
      );
    } finally {
      await signer.app.close();
    }
    const verified = await fetchAndVerifyLog(database.url, key);
    entries = verified.entries;
    root = verified.seals[verified.seals.length - 1]!.root;
  });

  afterAll(async () => {
    await withTree?.app.close();
    await database?.app.close();
    await dataSource?.destroy();
    await db?.drop();
  });

  const treeEntries = async (service: RunningService) =>
    (await scrape(service.url)).sum('query_proof_tree_entries', { log: 'self' });

  async function text(service: RunningService, path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`${service.url}${path}`);
    return { status: res.status, body: await res.text() };
  }

  async function inclusion(service: RunningService, index: number, size: number): Promise<Hash[]> {
    const res = await text(service, `/logs/self/proofs/inclusion?index=${index}&size=${size}`);
    expect(res.status).toBe(200);
    return (JSON.parse(res.body) as { path: string[] }).path.map((p) => fromBase64(p));
  }

  it('fills to the sealed size; its proofs and hash tiles are the database’s, and they verify', async () => {
    await eventually(
      'the tree holds the log',
      async () => ((await treeEntries(withTree)) === SIZE ? true : undefined),
      10_000,
    );
    expect(await treeEntries(database)).toBe(0);
    // Every entry's inclusion proof and every consistency proof, through the tree.
    await fetchAndVerifyLog(withTree.url, key);
    const seals = await dataSource.query<Array<{ size: string }>>('SELECT size FROM log_seals ORDER BY part');
    const sizes = seals.map((s) => Number(s.size));
    for (const size of sizes) {
      for (const index of [0, 1, size - 1, Math.floor(size / 3)]) {
        expect(await inclusion(withTree, index, size)).toEqual(await inclusion(database, index, size));
      }
      for (const from of sizes.filter((s) => s < size)) {
        const path = `/logs/self/proofs/consistency?from=${from}&to=${size}`;
        expect(await text(withTree, path)).toEqual(await text(database, path));
      }
    }
    for (const tile of ['tile/0/000', 'tile/0/001', 'tile/0/002.p/188', 'tile/1/000.p/2']) {
      const [fromTree, fromDatabase] = await Promise.all(
        [withTree, database].map(async (s) => {
          const res = await fetch(`${s.url}/logs/self/${tile}`);
          expect(res.status).toBe(200);
          return new Uint8Array(await res.arrayBuffer());
        }),
      );
      expect(fromTree).toEqual(fromDatabase);
    }
  });

  it('answers from memory: nodes the database loses afterwards change none of its proofs or tiles', async () => {
    const consistency = async (service: RunningService) =>
      (await text(service, `/logs/self/proofs/consistency?from=100&to=${SIZE}`)).body;
    const tile = async (service: RunningService) =>
      new Uint8Array(await (await fetch(`${service.url}/logs/self/tile/1/000.p/2`)).arrayBuffer());
    const before = { consistency: await consistency(database), tile: await tile(database) };
    const damaged = [
      [1, 1],
      [2, 12], // a node of the consistency proof from 100 (its level-2 sibling at 48..52 of [0, 100))
      [8, 1],
    ] as const;
    const rows = await Promise.all(
      damaged.map(([level, idx]) =>
        dataSource.query<Array<{ hash: Buffer }>>(
          'SELECT hash FROM log_tree_nodes WHERE level = $1 AND idx = $2',
          [level, idx],
        ),
      ),
    );
    await dataSource.query(
      `UPDATE log_tree_nodes SET hash = decode(repeat('00', 32), 'hex')
        WHERE (level, idx) IN ((1, 1), (2, 12), (8, 1))`,
    );
    await dataSource.query(
      `UPDATE log_tiles SET hashes = overlay(hashes placing decode(repeat('00', 32), 'hex') from 33 for 32)
        WHERE level = 1 AND idx = 0`,
    );
    try {
      const leaf = hashLeaf(entries[0]!);
      verifyInclusion(0, SIZE, leaf, await inclusion(withTree, 0, SIZE), root);
      // The database's own path reads the damaged node: its proof no longer verifies.
      const fromDatabase = await inclusion(database, 0, SIZE);
      expect(() => verifyInclusion(0, SIZE, leaf, fromDatabase, root)).toThrow();
      expect(await consistency(withTree)).toBe(before.consistency);
      expect(await consistency(database)).not.toBe(before.consistency);
      expect(await tile(withTree)).toEqual(before.tile);
      expect(await tile(database)).not.toEqual(before.tile);
    } finally {
      for (const [i, [level, idx]] of damaged.entries())
        await dataSource.query('UPDATE log_tree_nodes SET hash = $1 WHERE level = $2 AND idx = $3', [
          rows[i]![0]!.hash,
          level,
          idx,
        ]);
      await dataSource.query(
        `UPDATE log_tiles SET hashes = overlay(hashes placing $1 from 33 for 32) WHERE level = 1 AND idx = 0`,
        [rows[2]![0]!.hash],
      );
    }
  });

  it('turns itself off, with an error metric, when the stored nodes do not give the seal’s root', async () => {
    const [row] = await dataSource.query<Array<{ leaf_hash: Buffer }>>(
      'SELECT leaf_hash FROM log_entries WHERE idx = 5',
    );
    await dataSource.query(
      `UPDATE log_entries SET leaf_hash = decode(repeat('11', 32), 'hex') WHERE idx = 5`,
    );
    const fresh = await createService(queryApp, { PORT: '0', LOG_LEVEL: 'fatal', DATABASE_URL: db.url });
    try {
      expect((await text(fresh, '/logs/self/checkpoint')).status).toBe(200);
      const mismatches = async () =>
        (await scrape(fresh.url)).sum('query_proof_tree_fills_total', { outcome: 'mismatch' });
      await eventually('the mismatch', async () => ((await mismatches()) === 1 ? true : undefined), 10_000);
      expect(await treeEntries(fresh)).toBe(0);
      // Its proofs are the database's, as before the trees.
      expect(await inclusion(fresh, 300, SIZE)).toEqual(await inclusion(database, 300, SIZE));
      expect(await mismatches()).toBe(1);
    } finally {
      await fresh.app.close();
      await dataSource.query('UPDATE log_entries SET leaf_hash = $1 WHERE idx = 5', [row!.leaf_hash]);
    }
  });
});
