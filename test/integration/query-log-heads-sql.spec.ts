import { DataSource } from 'typeorm';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  FULL_HEADS_SEARCH,
  TypeOrmFederationReader,
  type HeadsSearch,
  TypeOrmMirrorLog,
  TypeOrmPublishedLog,
  dataSourceOptions,
  runMigrations,
} from '@cryptomesh/persistence';
import type { FederationReader, StoredHeads, StoredLogHead } from '../../apps/query/src/federation-reader';
import { logHeadsLoader } from '../../apps/query/src/log-heads-loader';
import type { LogHeadsSnapshot } from '../../apps/query/src/log-heads';
import type { PublishedLog, PublishedSeal } from '../../apps/query/src/published-log';
import { HEADS_SQL } from '../../libs/persistence/src/stores/log-heads-sql';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { writeMirrorScenario, writePortalRow, type MirrorScenario } from '../support/mirror-scenario';

/**
 * The query service's heads in one statement (`TypeOrmFederationReader.heads`, docs/design/query.md
 * "Log heads", issue #17) on the real PostgreSQL, over the mirror scenario (test/support/
 * mirror-scenario.ts: cosignatures over another seal, a forged one, one gossiped ahead of its part,
 * a peer with nothing mirrored). The statement is compared with the same heads composed from the
 * one-row reads it replaces, before and after the portal row (quorum 2); the loader over it is
 * checked for which seal it serves as cosigned, and for reading nothing more when the newest
 * candidate verifies. Last, the scenario is changed: a failing candidate below the latest part,
 * quorum 0, no peers.
 */
interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Total Cost': number;
  readonly Plans?: PlanNode[];
}

describe('query: the log heads in one statement', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let s: MirrorScenario;

  beforeAll(async () => {
    db = await createTestDatabase('headssql');
    ds = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 4 })).initialize();
    await runMigrations(ds);
    s = await writeMirrorScenario(ds);
  }, 60_000);

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const own = () => new TypeOrmPublishedLog(ds);
  const mirror = (peer: string) => new TypeOrmMirrorLog(ds, peer);

  /** The reference: the roster, then per log its latest seal and the newest candidate, a read each. */
  async function composed(reader: TypeOrmFederationReader): Promise<StoredHeads> {
    const [portal, peers] = await Promise.all([reader.portal(), reader.peers()]);
    const quorum = portal?.quorum ?? 0;
    const headOf = async (log: PublishedLog, peer: string | undefined): Promise<StoredLogHead> => {
      const subject = peer ?? portal?.id;
      const seal = await log.latestSeal();
      if (seal === undefined) return { peer, latest: undefined, candidate: undefined };
      const rows = subject === undefined ? [] : await reader.cosignatures(subject, seal.part);
      const latest = { seal: pick(seal), cosignatures: rows };
      if (quorum === 0 || subject === undefined) return { peer, latest, candidate: undefined };
      const [part] = await reader.cosignedParts(subject, 0, quorum, 1, seal.part + 1);
      if (part === undefined) return { peer, latest, candidate: undefined };
      const candidateSeal = await log.sealOfPart(part);
      return {
        peer,
        latest,
        candidate: {
          part,
          seal: candidateSeal && pick(candidateSeal),
          cosignatures: await reader.cosignatures(subject, part),
        },
      };
    };
    const logs = [await headOf(own(), undefined)];
    for (const peer of peers) logs.push(await headOf(mirror(peer.id), peer.id));
    return { portal, peers, logs };
  }

  /** A seal as the heads carry it (the stores' seal records also carry digests). */
  const pick = ({ part, first, size, timeMs, note }: PublishedSeal): PublishedSeal => ({
    part,
    first,
    size,
    timeMs,
    note,
  });

  it('reads what the one-row reads read before the portal row exists, prepared or not', async () => {
    for (const prepared of [false, true]) {
      const reader = new TypeOrmFederationReader(ds, { prepared });
      const heads = await reader.heads();
      expect(heads).toEqual(await composed(reader));
      expect(heads.portal).toBeUndefined();
      expect(heads.logs.every((l) => l.candidate === undefined)).toBe(true);
    }
  });

  describe('with the portal row (quorum 2)', () => {
    beforeAll(() => writePortalRow(ds, s));

    it('reads what the one-row reads read, prepared or not', async () => {
      for (const prepared of [false, true]) {
        const reader = new TypeOrmFederationReader(ds, { prepared });
        expect(await reader.heads()).toEqual(await composed(reader));
      }
      const heads = await new TypeOrmFederationReader(ds).heads();
      // self: parts 0 and 1 have two rows, part 2 one; beta: its latest part (3) has two rows, one
      // over another seal, and part 4's rows are ahead of the mirror; gamma: its latest has a forged row.
      expect(heads.logs.map((l) => [l.peer, l.latest?.seal.part, l.candidate?.part])).toEqual([
        [undefined, 2, 1],
        ['beta', 3, 3],
        ['delta', undefined, undefined],
        ['gamma', 1, 1],
      ]);
      expect(heads.logs[0]!.candidate!.seal).toEqual(pick(s.self.seals[1]!));
      expect(heads.logs[0]!.candidate!.cosignatures.map((c) => c.witness)).toEqual(['beta', 'gamma']);
    });

    it('is planned cheap with and without statistics, searched whole or bounded, custom or generic: no JIT, no parallel workers', async () => {
      // A first version estimated millions (a cross join with the portal row guessed at hundreds of
      // rows): a fresh database JIT-compiled it at every execution, 500-900 ms a read of the heads.
      // The service prepares it (`prepared`), so the generic plan counts as much as the custom one.
      const searches: Array<[string, number]> = [
        ['{}', 1],
        ['{"alpha":[1,false],"beta":[2,false],"gamma":[null,true]}', 256],
      ];
      const cases = [false, true].flatMap((analyzed) =>
        searches.flatMap((params) =>
          ['auto', 'force_generic_plan'].map((mode) => ({ analyzed, params, mode })),
        ),
      );
      for (const { analyzed, params, mode } of cases) {
        if (analyzed) await ds.query('ANALYZE');
        const root = await ds.transaction(async (tx) => {
          // Parallel plans allowed whatever the server's setting, so that their absence means something.
          await tx.query('SET LOCAL max_parallel_workers_per_gather = 2');
          await tx.query(`SET LOCAL plan_cache_mode = ${mode}`);
          await tx.query(`PREPARE heads_plan AS ${HEADS_SQL}`);
          try {
            const plans = await tx.query<Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>>(
              `EXPLAIN (FORMAT JSON) EXECUTE heads_plan('${params[0]}', ${params[1]})`,
            );
            return plans[0]!['QUERY PLAN'][0]!.Plan;
          } finally {
            await tx.query('DEALLOCATE heads_plan');
          }
        });
        const jit = Number(
          (await ds.query<Array<{ jit_above_cost: string }>>('SHOW jit_above_cost'))[0]!.jit_above_cost,
        );
        expect(root['Total Cost']).toBeLessThan((jit < 0 ? 100_000 : Math.min(jit, 100_000)) / 2);
        const kinds: string[] = [];
        const walk = (node: PlanNode) => {
          kinds.push(node['Node Type']);
          node.Plans?.forEach(walk);
        };
        walk(root);
        expect(kinds.filter((k) => k.startsWith('Gather'))).toEqual([]);
      }
    });

    it('the loader serves the newest seal that verifies to the quorum, and reads no more when the first candidate does', async () => {
      const reader = new TypeOrmFederationReader(ds);
      const asked: string[] = [];
      const counted: FederationReader = Object.assign(Object.create(reader) as FederationReader, {
        cosignatures: (subject: string, part: number) => {
          asked.push(`cosignatures ${subject} ${part}`);
          return reader.cosignatures(subject, part);
        },
        cosignedParts: (subject: string, from: number, n: number, limit: number, before?: number) => {
          asked.push(`cosignedParts ${subject} <${before}`);
          return reader.cosignedParts(subject, from, n, limit, before);
        },
      });
      const load = logHeadsLoader({ own: own(), mirrors: mirror, federation: counted, ed25519: nodeEd25519 });
      const snapshot = await load();
      expect(snapshot.quorum).toBe(2);
      const cosigned = (name: string) => snapshot.heads.get(name)?.cosigned?.seal.part;
      // beta's part 3 and gamma's part 1 fail (a row over another seal, a forged line): the search
      // pages on below them; self's first candidate verifies and costs nothing more.
      expect([cosigned('self'), cosigned('beta'), cosigned('gamma'), cosigned('delta')]).toEqual([
        1,
        2,
        0,
        undefined,
      ]);
      expect(asked.filter((a) => a.includes(' alpha '))).toEqual([]);
      expect(asked).toEqual(
        expect.arrayContaining(['cosignedParts beta <3', 'cosignedParts gamma <1', 'cosignatures beta 2']),
      );
    });

    it("the loader remembers each log's floor: later reads search above it, the whole log only when due", async () => {
      const reader = new TypeOrmFederationReader(ds);
      const searches: Array<HeadsSearch | undefined> = [];
      const counted: FederationReader = Object.assign(Object.create(reader) as FederationReader, {
        heads: (search?: HeadsSearch) => {
          searches.push(search);
          return reader.heads(search);
        },
      });
      let clock = 0;
      const load = logHeadsLoader(
        { own: own(), mirrors: mirror, federation: counted, ed25519: nodeEd25519 },
        { window: 8, fullSearchMs: 1_000, now: () => clock },
      );
      const cosigned = (snapshot: LogHeadsSnapshot) =>
        ['self', 'beta', 'gamma', 'delta'].map((name) => snapshot.heads.get(name)?.cosigned?.seal.part);
      const bounds = (i: number) => Object.fromEntries(searches[i]!.subjects);
      // The parts each log's first read verified to meet the quorum.
      const floors = (full: boolean) => ({
        alpha: { floor: 1, full },
        beta: { floor: 2, full },
        gamma: { floor: 0, full },
      });
      // First read: nothing remembered, every log searched from part 0.
      expect(cosigned(await load())).toEqual([1, 2, 0, undefined]);
      expect(searches[0]).toEqual({ window: 8, subjects: new Map() });
      // Then above each verified part, within the windows; delta (no seal) is not searched.
      clock = 500;
      expect(cosigned(await load())).toEqual([1, 2, 0, undefined]);
      expect(bounds(1)).toEqual(floors(false));
      // A full search (above the floor) once fullSearchMs have passed since the last.
      clock = 1_000;
      expect(cosigned(await load())).toEqual([1, 2, 0, undefined]);
      expect(bounds(2)).toEqual(floors(true));
      clock = 1_500;
      await load();
      expect(Object.values(bounds(3)).map((b) => b.full)).toEqual([false, false, false]);
      // Another quorum: the floors were verified against the old one, so the same load reads again,
      // whole, and serves what a loader with no memory serves.
      await ds.query('UPDATE federation_portal SET quorum = 1');
      try {
        const changed = cosigned(await load());
        expect(searches).toHaveLength(6);
        expect(bounds(5)).toEqual({ alpha: { full: true }, beta: { full: true }, gamma: { full: true } });
        const fresh = logHeadsLoader({
          own: own(),
          mirrors: mirror,
          federation: reader,
          ed25519: nodeEd25519,
        });
        expect(changed).toEqual(cosigned(await fresh()));
        await load();
        expect(searches).toHaveLength(7);
      } finally {
        await ds.query('UPDATE federation_portal SET quorum = 2');
      }
    });

    // The cases below change the scenario, in this order.

    it('a candidate below the latest part that fails: the statement still names it, the loader pages below it', async () => {
      // gamma's row for self's part 1 gets gamma's valid line for part 0: signed, but over another seal.
      await ds.query(
        `UPDATE cosignatures SET line = (SELECT line FROM cosignatures WHERE subject = 'alpha' AND part = 0 AND witness = 'gamma')
          WHERE subject = 'alpha' AND part = 1 AND witness = 'gamma'`,
      );
      const reader = new TypeOrmFederationReader(ds);
      const heads = await reader.heads();
      expect(heads).toEqual(await composed(reader));
      expect(heads.logs[0]).toMatchObject({ latest: { seal: { part: 2 } }, candidate: { part: 1 } });
      const snapshot = await logHeadsLoader({
        own: own(),
        mirrors: mirror,
        federation: reader,
        ed25519: nodeEd25519,
      })();
      expect(snapshot.heads.get('self')?.cosigned?.seal.part).toBe(0);
    });

    it('quorum 0: the statement searches no candidate, and the loader serves no cosigned seal', async () => {
      await ds.query('UPDATE federation_portal SET quorum = 0');
      const reader = new TypeOrmFederationReader(ds);
      const heads = await reader.heads();
      expect(heads).toEqual(await composed(reader));
      expect(heads.portal?.quorum).toBe(0);
      expect(heads.logs.map((l) => l.candidate)).toEqual([undefined, undefined, undefined, undefined]);
      // The latest seals still come with their rows.
      expect(heads.logs[1]).toMatchObject({ peer: 'beta', latest: { seal: { part: 3 } } });
      expect(heads.logs[1]!.latest!.cosignatures.map((c) => c.witness).sort()).toEqual(['alpha', 'gamma']);
      const snapshot = await logHeadsLoader({
        own: own(),
        mirrors: mirror,
        federation: reader,
        ed25519: nodeEd25519,
      })();
      expect([...snapshot.heads.values()].map((h) => h.cosigned)).toEqual([
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
    });

    it('no peers: the own log alone', async () => {
      await ds.query('UPDATE federation_portal SET quorum = 2');
      await ds.query('DELETE FROM federation_peers');
      const reader = new TypeOrmFederationReader(ds);
      const heads = await reader.heads();
      expect(heads).toEqual(await composed(reader));
      expect(heads.peers).toEqual([]);
      expect(heads.logs.map((l) => [l.peer, l.latest?.seal.part])).toEqual([[undefined, 2]]);
    });
  });
});

describe('query: the heads search is bounded on a long log that never reaches its quorum', () => {
  // 20,000 parts of the own log, each with one cosignature row where the quorum is 2 (a cosigner
  // down for good): a search of the whole log reads every row, at every read of the heads. Rows are
  // not signed: the statement counts them, the loader (tested above) verifies them.
  const PARTS = 20_000;
  const WINDOW = 64;
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('headsbound');
    ds = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 2 })).initialize();
    await runMigrations(ds);
    await ds.query(
      `INSERT INTO log_seals (part, first, size, part_digest, chain, root, time_ms, note)
       SELECT p, p, p + 1, d, d, d, 1000 + p, format($2, p)
         FROM generate_series(0, $1 - 1) AS p, (SELECT ('\\x' || repeat('00', 32))::bytea AS d) AS z`,
      // A signed note's shape (the loader parses it); the signature is zeros, verified by nothing.
      [PARTS, `example.org/log\n%s\nAAAA\n\n\u2014 example.org/log ${Buffer.alloc(68).toString('base64')}\n`],
    );
    await ds.query(
      "INSERT INTO federation_portal (portal_id, witness_key, quorum) VALUES ('alpha', NULL, 2)",
    );
    await ds.query(
      `INSERT INTO cosignatures (subject, part, witness, seal, line, cosigned_at)
       SELECT 'alpha', p, 'beta', 'seal', 'line', 0 FROM generate_series(0, $1 - 1) AS p`,
      [PARTS],
    );
    await ds.query('ANALYZE');
  }, 60_000);

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  /** A second row on `part`: it then has the quorum's two. */
  const reachQuorum = (part: number) =>
    ds.query(
      `INSERT INTO cosignatures (subject, part, witness, seal, line, cosigned_at) VALUES ('alpha', $1, 'gamma', 'seal', 'line', 0)`,
      [part],
    );

  interface AnalyzedNode {
    readonly 'Relation Name'?: string;
    readonly 'Actual Rows': number;
    readonly 'Actual Loops': number;
    readonly 'Rows Removed by Filter'?: number;
    readonly Plans?: AnalyzedNode[];
  }

  /** The candidate the statement names under `search`, and how many cosignature rows it read. */
  async function search(search: HeadsSearch): Promise<{ candidate: number | undefined; rowsRead: number }> {
    const { logs } = await new TypeOrmFederationReader(ds).heads(search);
    const subjects: Record<string, [number | null, boolean]> = {};
    for (const [subject, b] of search.subjects) subjects[subject] = [b.floor ?? null, b.full];
    const plans = await ds.query<Array<{ 'QUERY PLAN': Array<{ Plan: AnalyzedNode }> }>>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${HEADS_SQL}`,
      [JSON.stringify(subjects), search.window],
    );
    // Rows the scans returned and rows their filters dropped: a bound applied as a filter instead
    // of an index condition would still read them all.
    let rowsRead = 0;
    const walk = (node: AnalyzedNode) => {
      if (node['Relation Name'] === 'cosignatures')
        rowsRead += (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0)) * node['Actual Loops'];
      node.Plans?.forEach(walk);
    };
    walk(plans[0]!['QUERY PLAN'][0]!.Plan);
    return { candidate: logs[0]!.candidate?.part, rowsRead };
  }

  const bounded = (floor: number | undefined, full: boolean): HeadsSearch => ({
    window: WINDOW,
    subjects: new Map([['alpha', { ...(floor === undefined ? {} : { floor }), full }]]),
  });

  it('a full search reads every row; a bounded one reads the windows only, whatever the log length', async () => {
    const full = await search(FULL_HEADS_SEARCH);
    expect(full.candidate).toBeUndefined();
    expect(full.rowsRead).toBeGreaterThanOrEqual(PARTS);
    const top = await search(bounded(undefined, false));
    expect(top.candidate).toBeUndefined();
    expect(top.rowsRead).toBeLessThanOrEqual(WINDOW + 1);
    const floored = await search(bounded(50, false));
    expect(floored.candidate).toBeUndefined();
    expect(floored.rowsRead).toBeLessThanOrEqual(2 * (WINDOW + 1));
  });

  it('finds a quorum in either window, one between them only in a full search, none below the floor', async () => {
    await reachQuorum(40); // below the floor
    expect((await search(bounded(50, true))).candidate).toBeUndefined();
    expect((await search(FULL_HEADS_SEARCH)).candidate).toBe(40);
    await reachQuorum(50); // the floor itself (its rows are read again: a late row joins its checkpoint)
    expect((await search(bounded(50, false))).candidate).toBe(50);
    await reachQuorum(50 + WINDOW - 1); // the floor's window, its last part
    expect((await search(bounded(50, false))).candidate).toBe(50 + WINDOW - 1);
    await reachQuorum(50 + WINDOW); // just past the floor's window
    expect((await search(bounded(50, false))).candidate).toBe(50 + WINDOW - 1);
    await reachQuorum(5_000); // between the windows
    const between = await search(bounded(50, false));
    expect(between.candidate).toBe(50 + WINDOW - 1);
    expect(between.rowsRead).toBeLessThanOrEqual(2 * (WINDOW + 2));
    expect((await search(bounded(50, true))).candidate).toBe(5_000);
    await reachQuorum(PARTS - WINDOW - 1); // just below the top window
    expect((await search(bounded(50, false))).candidate).toBe(50 + WINDOW - 1);
    await reachQuorum(PARTS - WINDOW); // the top window, its first part
    const top = await search(bounded(50, false));
    expect(top.candidate).toBe(PARTS - WINDOW);
    expect(top.rowsRead).toBeLessThanOrEqual(2 * (WINDOW + 2));
  });

  it("an outside witness's rows never make a part a candidate", async () => {
    await ds.query(
      `INSERT INTO cosignatures (subject, part, witness, seal, line, cosigned_at) VALUES ('alpha', $1, 'outside:w1', 'seal', 'line', 0)`,
      [PARTS - 1],
    );
    expect((await search(bounded(50, false))).candidate).toBe(PARTS - WINDOW);
    const reader = new TypeOrmFederationReader(ds);
    expect(await reader.cosignedParts('alpha', PARTS - 2, 2, 16)).toEqual([]);
  });

  it('the loader pages no further than the statement searched when every candidate fails to verify', async () => {
    // The top CANDIDATES parts, and the bottom two windows, now have two member rows (none signed),
    // so each is a candidate and none verifies: a later read that searched below the top window
    // (down to part 0, or the bottom window with no floor known) would page through about 60 times
    // the statements allowed below, or twice. (Not the whole log: the full first read costs two
    // statements a candidate, and 20,000 of them outlasted the test's time on a loaded host.)
    const CANDIDATES = 64 * WINDOW;
    await ds.query(
      `INSERT INTO cosignatures (subject, part, witness, seal, line, cosigned_at)
       SELECT 'alpha', p, 'gamma', 'seal', 'line', 0
         FROM generate_series($1::int - $2::int, $1::int - 1) AS p
       UNION ALL
       SELECT 'alpha', p, 'gamma', 'seal', 'line', 0 FROM generate_series(0, 2 * $3::int - 1) AS p
       ON CONFLICT DO NOTHING`,
      [PARTS, CANDIDATES, WINDOW],
    );
    const reader = new TypeOrmFederationReader(ds);
    let statements = 0;
    const counted: FederationReader = Object.assign(Object.create(reader) as FederationReader, {
      cosignatures: (subject: string, part: number) => {
        if (++statements > 1_000) throw new Error('the fallback paged beyond the searched windows');
        return reader.cosignatures(subject, part);
      },
      cosignedParts: (subject: string, from: number, n: number, limit: number, before?: number) => {
        if (++statements > 1_000) throw new Error('the fallback paged beyond the searched windows');
        return reader.cosignedParts(subject, from, n, limit, before);
      },
    });
    let clock = 0;
    const load = logHeadsLoader(
      {
        own: new TypeOrmPublishedLog(ds),
        mirrors: (peer) => new TypeOrmMirrorLog(ds, peer),
        federation: counted,
        ed25519: nodeEd25519,
      },
      { window: WINDOW, fullSearchMs: 60_000, now: () => clock },
    );
    // The first read is full, and pages every candidate once (about 265 pages of 16 parts).
    statements = -1_000_000;
    expect((await load()).heads.get('self')?.cosigned).toBeUndefined();
    // Later reads page the top window only: no floor was ever verified.
    for (const at of [1, 2, 3]) {
      clock = at;
      statements = 0;
      expect((await load()).heads.get('self')?.cosigned).toBeUndefined();
      expect(statements).toBeLessThanOrEqual(WINDOW + WINDOW / 16 + 2);
    }
  });
});
