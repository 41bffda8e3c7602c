// The federation the query service's mirror tests read (test/integration/query-mirrors.spec.ts,
// query-federation.spec.ts), written straight into one portal's database as its log-signer and its
// replication service would have stored it. This portal is `alpha`; `beta` and `gamma` are peers
// with real logs; `delta` is a peer no longer configured with nothing mirrored.
import { DataSource } from 'typeorm';
import type { NoteSigner } from '@cryptomesh/log';
import { dataSourceOptions, runMigrations } from '@cryptomesh/persistence';
import { createService, type RunningService } from '@cryptomesh/service';
import { queryApp } from '../../apps/query/src/query.app';
import { createTestDatabase } from '../env/test-database';
import { testEntry } from '../../apps/log-signer/test/log-fixture';
import {
  accountRecords,
  buildLog,
  encodeRecord,
  logKey,
  storeCosignature,
  storeMirror,
  storeOwnLog,
  witnessKey,
  type BuiltLog,
  type TestAccountRecords,
} from './mirror-log';

export interface MirrorScenario {
  /** When the scenario was written: seal and finding times are `now` minus a few seconds. */
  readonly now: number;
  readonly self: BuiltLog;
  readonly beta: BuiltLog;
  readonly gamma: BuiltLog;
  /** Witness keys of alpha (this portal), beta, gamma, delta. */
  readonly witnesses: Readonly<Record<'alpha' | 'beta' | 'gamma' | 'delta', NoteSigner>>;
  /** carol (in self and gamma), bob (beta; his device deleted by beta entry 3), frank (beta and gamma), dave (beta), erin (gamma). */
  readonly people: Readonly<Record<'carol' | 'bob' | 'frank' | 'dave' | 'erin', TestAccountRecords>>;
}

/**
 * Writes the logs, the roster (`federation_peers`, NOT `federation_portal`: see `writePortalRow`)
 * and the cosignatures:
 *
 * | log | parts (sizes) | cosigned by (quorum 2) |
 * | --- | --- | --- |
 * | self  | 2 4 6 | beta+gamma, beta+gamma (beta's row over the whole note), beta |
 * | beta  | 2 4 7 9 | alpha+gamma ×3, then alpha + a gamma row over ANOTHER seal; part 4 (not mirrored): gamma+delta |
 * | gamma | 1 4 | alpha+beta, alpha + a FORGED beta line |
 */
export async function writeMirrorScenario(ds: DataSource): Promise<MirrorScenario> {
  const now = Date.now();
  const witnesses = {
    alpha: witnessKey('alpha.test/witness'),
    beta: witnessKey('beta.test/witness'),
    gamma: witnessKey('gamma.test/witness'),
    delta: witnessKey('delta.test/witness'),
  };
  const names = ['carol', 'bob', 'frank', 'dave', 'erin'] as const;
  const people = Object.fromEntries(
    await Promise.all(
      names.map(async (name, i) => [name, await accountRecords(`${name}@example.org`, 10 + 20 * i)]),
    ),
  ) as MirrorScenario['people'];
  const record = (name: (typeof names)[number]) => encodeRecord(people[name].create);
  const filler = (tag: string, n: number) => Array.from({ length: n }, (_, i) => testEntry(tag, i));
  const at =
    (...ago: number[]) =>
    (part: number) =>
      now - ago[part]!;
  const log = (name: string, entries: Uint8Array[], ends: number[], times: (part: number) => number) =>
    buildLog(`${name}.test/log`, logKey(`${name}.test/log`), entries, ends, times);

  const self = log('alpha', [record('carol'), ...filler('a', 5)], [2, 4, 6], at(30e3, 20e3, 10e3));
  const beta = log(
    'beta',
    [
      record('bob'),
      testEntry('b', 0),
      record('frank'),
      encodeRecord(await people.bob.deleteDevice()),
      testEntry('b', 1),
      record('dave'),
      ...filler('b2', 3),
    ],
    [2, 4, 7, 9],
    at(40e3, 30e3, 20e3, 5e3),
  );
  const gamma = log(
    'gamma',
    [record('erin'), record('frank'), record('carol'), testEntry('g', 0)],
    [1, 4],
    at(60e3, 50e3),
  );
  await storeOwnLog(ds, self);
  await storeMirror(ds, 'beta', beta);
  await storeMirror(ds, 'gamma', gamma);
  const delta = logKey('delta.test/log');
  for (const [id, origin, key, configured] of [
    ['beta', beta.origin, beta.logKey, true],
    ['gamma', gamma.origin, gamma.logKey, true],
    ['delta', 'delta.test/log', delta, false],
  ] as const)
    await ds.query(
      `INSERT INTO federation_peers (peer, origin, verifier_key, witness_key, query_url, configured)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [id, origin, key.verifierKey.text, witnesses[id].verifierKey.text, `http://${id}.test`, configured],
    );

  const w = witnesses;
  const [s0, s1, s2] = self.seals;
  await storeCosignature(ds, 'alpha', s0!, 'beta', w.beta);
  await storeCosignature(ds, 'alpha', s0!, 'gamma', w.gamma);
  await storeCosignature(ds, 'alpha', s1!, 'gamma', w.gamma);
  await storeCosignature(ds, 'alpha', s1!, 'beta', w.beta, { over: 'note' });
  await storeCosignature(ds, 'alpha', s2!, 'beta', w.beta);
  for (const seal of beta.seals.slice(0, 3)) {
    await storeCosignature(ds, 'beta', seal, 'alpha', w.alpha);
    await storeCosignature(ds, 'beta', seal, 'gamma', w.gamma, { over: seal.part === 2 ? 'note' : 'body' });
  }
  const last = beta.seals[3]!;
  await storeCosignature(ds, 'beta', last, 'alpha', w.alpha);
  await storeCosignature(ds, 'beta', last, 'gamma', w.gamma, { sealColumn: 'beta.test/log\n9\nother\n' });
  await storeCosignature(ds, 'beta', { ...last, part: 4 }, 'gamma', w.gamma);
  await storeCosignature(ds, 'beta', { ...last, part: 4 }, 'delta', w.delta);
  await storeCosignature(ds, 'gamma', gamma.seals[0]!, 'alpha', w.alpha);
  await storeCosignature(ds, 'gamma', gamma.seals[0]!, 'beta', w.beta);
  await storeCosignature(ds, 'gamma', gamma.seals[1]!, 'alpha', w.alpha);
  await storeCosignature(ds, 'gamma', gamma.seals[1]!, 'beta', w.beta, { forge: true });
  return { now, self, beta, gamma, witnesses, people };
}

/** `federation_portal` as replication writes it at start: alpha, its witness key, quorum 2. */
export async function writePortalRow(ds: DataSource, scenario: MirrorScenario): Promise<void> {
  await ds.query('INSERT INTO federation_portal (portal_id, witness_key, quorum) VALUES ($1, $2, 2)', [
    'alpha',
    scenario.witnesses.alpha.verifierKey.text,
  ]);
}

/**
 * Five findings, observed 4 s … 0.5 s before `now` (f1 oldest): beta has f1 (gap), f2 (rule) open and
 * f3 (stale) resolved; gamma f4 (equivocation) open; alpha itself f5 (bad-part) open.
 */
export async function writeFindings(ds: DataSource, now: number): Promise<void> {
  const rows: Array<[string, string, string, string, number | null, string, number, number | null]> = [
    ['f1', 'beta', 'alpha', 'gap', 3, 'open', 4000, null],
    ['f2', 'beta', 'alpha', 'rule', 2, 'open', 3000, null],
    ['f3', 'beta', 'alpha', 'stale', null, 'resolved', 2000, 1000],
    ['f4', 'gamma', 'beta', 'equivocation', 1, 'open', 1000, null],
    ['f5', 'alpha', 'gamma', 'bad-part', 0, 'open', 500, null],
  ];
  for (const [id, subject, reporter, kind, part, status, ago, resolvedAgo] of rows)
    await ds.query(
      `INSERT INTO findings (fingerprint, subject, reporter, kind, part, code, detail, evidence, status,
                             observed_at, resolved_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, to_timestamp($10 / 1000.0), to_timestamp($11 / 1000.0))`,
      [
        id,
        subject,
        reporter,
        kind,
        part,
        `${kind}.code`,
        `detail of ${id}`,
        JSON.stringify({ notes: [id, 'b'] }),
        status,
        now - ago,
        resolvedAgo === null ? null : now - resolvedAgo,
      ],
    );
}

/** A query service over a fresh database that holds the mirror scenario. */
export interface ScenarioQuery {
  readonly s: MirrorScenario;
  readonly ds: DataSource;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Creates a test database, migrates it, writes the scenario (and what `extra` adds), and starts the
 * query service on it; `close()` stops and drops everything, as does a failure on the way.
 */
export async function startScenarioQuery(
  label: string,
  extra: (ds: DataSource, s: MirrorScenario) => Promise<void> = () => Promise.resolve(),
): Promise<ScenarioQuery> {
  const db = await createTestDatabase(label);
  let ds: DataSource | undefined;
  let query: RunningService | undefined;
  const close = async () => {
    await query?.app.close();
    await ds?.destroy();
    await db.drop();
  };
  try {
    ds = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 4 })).initialize();
    await runMigrations(ds);
    const s = await writeMirrorScenario(ds);
    await extra(ds, s);
    query = await createService(queryApp, { PORT: '0', LOG_LEVEL: 'warn', DATABASE_URL: db.url });
    return { s, ds, url: query.url, close };
  } catch (error) {
    await close();
    throw error;
  }
}
