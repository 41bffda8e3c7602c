import { DataSource } from 'typeorm';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  TypeOrmFederationReader,
  TypeOrmMirrorLog,
  TypeOrmPublishedLog,
  dataSourceOptions,
  runMigrations,
} from '@cryptomesh/persistence';
import type { FederationReader, StoredHeads, StoredLogHead } from '../../apps/query/src/federation-reader';
import { logHeadsLoader } from '../../apps/query/src/log-heads-loader';
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

    it('is planned cheap with and without statistics: no JIT, no parallel workers', async () => {
      // A first version estimated millions (a cross join with the portal row guessed at hundreds of
      // rows): a fresh database JIT-compiled it at every execution, 500-900 ms a read of the heads.
      for (const analyzed of [false, true]) {
        if (analyzed) await ds.query('ANALYZE');
        const root = await ds.transaction(async (tx) => {
          // Parallel plans allowed whatever the server's setting, so that their absence means something.
          await tx.query('SET LOCAL max_parallel_workers_per_gather = 2');
          const plans = await tx.query<Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>>(
            `EXPLAIN (FORMAT JSON) ${HEADS_SQL}`,
          );
          return plans[0]!['QUERY PLAN'][0]!.Plan;
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
