import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  decodeWitnessMessage,
  encodeWitnessMessage,
  findingFingerprint,
  findingSignedMessage,
  signFinding,
  verifyFinding,
  type FederationPeer,
  type FindingMessage,
  type JsonValue,
  type WitnessRecord,
} from '@cryptomesh/intermesh';
import {
  cosign,
  findEquivocation,
  formatNote,
  formatSignatureLine,
  parseNote,
  signSeal,
  toBase64,
  verifyEquivocation,
  type NoteSigner,
} from '@cryptomesh/log';
import {
  TypeOrmCosignatureStore,
  TypeOrmFindingStore,
  TypeOrmMirrorStore,
  TypeOrmOwnSealReader,
  dataSourceOptions,
  runMigrations,
} from '@cryptomesh/persistence';
import { MetricsService } from '@cryptomesh/service';
import { FederationMetrics } from '../../apps/replication/src/federation/federation.metrics';
import {
  WitnessIntakeService,
  type IntakeOutcome,
} from '../../apps/replication/src/federation/witness-intake.service';
import {
  WitnessService,
  type FederationContext,
} from '../../apps/replication/src/federation/witness.service';
import { PeerAudit, fixedClock } from '@cryptomesh/audit';
import { PeerLog } from '../../libs/audit/test/peer-log';
import {
  LogFixture,
  logSigner,
  sampleEntry,
  witnessSigner,
  type FixturePart,
} from '../../libs/log/testdata/log-fixture';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { queryDatabase, snapshotDatabase } from '../support/db-snapshot';

// What the replication service takes from `intermesh.witness` (docs/design/federation.md
// "Cosignatures received"): this portal is alpha, its peers beta (mirrored here) and gamma; delta
// is no member. Every refusal is checked against a snapshot of the whole database.

const ED = nodeEd25519;
const NOW = 1_763_800_000_000 + 3_600_000;
const TS = Math.floor(NOW / 1000);
const utf8 = new TextEncoder();
const W: Record<string, NoteSigner> = Object.fromEntries(
  ['alpha', 'beta', 'gamma', 'delta'].map((id) => [id, witnessSigner(`${id}.test/witness`, ED)]),
);

// This portal's own log: parts 0 and 1 are stored in log_seals; part 2 is signed, never stored.
const alpha = new LogFixture('alpha.test/log', ED);
const [own0, own1, unsealed] = [0, 1, 2].map((i) => alpha.sealPart([sampleEntry(i)])) as [
  FixturePart,
  FixturePart,
  FixturePart,
];
// gamma's log is not mirrored here; its seals serve as equivocation evidence.
const gamma = new LogFixture('gamma.test/log', ED);
const gamma0 = gamma.sealPart([sampleEntry(0)]);
const impostor = logSigner('gamma.test/log', ED, 'impostor');

/** The same seal with another time: a different body for the same part. */
const resealed = (p: FixturePart, signer: NoteSigner, plusMs = 1) =>
  signSeal({ ...p.value, timeMs: p.value.timeMs + plusMs }, signer);

function line(seal: string, witness: NoteSigner): string {
  return formatSignatureLine(cosign(parseNote(seal).text, witness, TS));
}

/** `witness`'s cosignature of `subject`'s seal, signed with the witness key named `witness` unless `text`. */
function cos(subject: string, witness: string, part: number, seal: string, text?: string): WitnessRecord {
  const cosignature = text ?? line(seal, W[witness]!);
  return encodeWitnessMessage({ type: 'cosignature', subject, witness, part, seal, cosignature });
}

/** The line with one bit of its Ed25519 signature flipped. */
function tampered(cosignatureLine: string): string {
  const [dash, name, b64] = cosignatureLine.split(' ') as [string, string, string];
  const bytes = Buffer.from(b64, 'base64');
  bytes[bytes.length - 1]! ^= 1;
  return `${dash} ${name} ${bytes.toString('base64')}`;
}

/** The note with one bit of its log signature flipped: the right key ID, a forged signature. */
function forged(note: string): string {
  const { text, signatures } = parseNote(note);
  const signature = Uint8Array.from(signatures[0]!.signature);
  signature[0]! ^= 1;
  return formatNote({ text, signatures: [{ ...signatures[0]!, signature }] });
}

type Claim = Pick<FindingMessage, 'subject' | 'kind' | 'code' | 'part' | 'evidence'>;

function signedFinding(reporter: string, claim: Claim, signer = W[reporter]!): FindingMessage {
  const fields = { ...claim, reporter, id: findingFingerprint(claim), detail: `${reporter} saw it` };
  return signFinding({ ...fields, observedAt: NOW }, signer);
}

const finding = (reporter: string, claim: Claim, signer?: NoteSigner): WitnessRecord =>
  encodeWitnessMessage(signedFinding(reporter, claim, signer));

/** Equivocation evidence as it travels (JSON), from `findEquivocation` over two notes of `key`. */
function evidenceOf(key: NoteSigner, notes: readonly [string, string]): JsonValue {
  const evidence = findEquivocation({ logKey: key.verifierKey, ed25519: ED, notes });
  return JSON.parse(JSON.stringify(evidence)) as JsonValue;
}

/** beta reports gamma's equivocation of part 0 with `evidence`. */
const gammaEquivocation = (evidence: JsonValue): WitnessRecord =>
  finding('beta', { subject: 'gamma', kind: 'equivocation', code: 'seal.conflict', part: 0, evidence });

type Raw = { key: string | undefined; type: string | undefined; value: Uint8Array };

describe('WitnessIntakeService (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let metrics: MetricsService;
  let store: TypeOrmMirrorStore;
  let findings: TypeOrmFindingStore;
  let cosignatures: TypeOrmCosignatureStore;
  let intake: WitnessIntakeService;
  let beta: PeerLog;
  let beta0: FixturePart;
  let beta1: FixturePart;
  const tally = new Map<string, number>();

  async function receive(record: Raw): Promise<IntakeOutcome> {
    const outcome = await intake.receive(record);
    tally.set(`${record.type}/${outcome}`, (tally.get(`${record.type}/${outcome}`) ?? 0) + 1);
    return outcome;
  }

  /** The message has `outcome` and changes nothing at all. */
  async function refused(record: Raw, outcome: IntakeOutcome): Promise<void> {
    const before = await snapshotDatabase(db.url);
    expect(await receive(record)).toBe(outcome);
    expect(await snapshotDatabase(db.url)).toEqual(before);
  }

  /** `record` is stored and changes `table` only. */
  async function storedIn(table: string, record: Raw): Promise<void> {
    const before = await snapshotDatabase(db.url);
    expect(await receive(record)).toBe('stored');
    const after = await snapshotDatabase(db.url);
    expect({ ...after, [table]: before[table] }).toEqual(before);
    expect(after[table]).toHaveLength(before[table]!.length + 1);
  }

  const findingRows = (subject: string) =>
    queryDatabase<{
      reporter: string;
      kind: string;
      code: string;
      part: string | null;
      status: string;
      verified: boolean;
    }>(
      db.url,
      `SELECT reporter, kind, code, part, status, verified FROM findings WHERE subject = $1 ORDER BY id`,
      [subject],
    );

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase('witnessintake');
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 4 })).initialize();
    await runMigrations(dataSource);
    for (const { value: v, seal } of [own0, own1]) {
      await dataSource.query(
        `INSERT INTO log_seals (part, first, size, part_digest, chain, root, time_ms, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [v.part.index, v.part.first, v.size, v.part.digest, v.chain, v.root, v.timeMs, seal].map((x) =>
          x instanceof Uint8Array ? Buffer.from(x) : x,
        ),
      );
    }

    // beta's parts 0 and 1 mirrored here, verified by the auditor and stored as the mirror does.
    store = new TypeOrmMirrorStore(dataSource);
    findings = new TypeOrmFindingStore(dataSource);
    cosignatures = new TypeOrmCosignatureStore(dataSource);
    beta = new PeerLog('beta', 'beta.test/log', ED);
    [beta0, beta1] = [beta.seal(await beta.entries(2)), beta.seal(await beta.entries(1))];
    const audit = new PeerAudit(
      { id: 'beta', origin: beta.fixture.origin, verifierKey: beta.verifierKey },
      undefined,
      {
        sealNote: () => Promise.resolve(undefined),
        accountState: () => Promise.resolve(undefined),
        accountEntries: () => Promise.resolve([]),
      },
      ED,
      fixedClock(NOW),
    );
    for (const p of [beta0, beta1]) {
      const step = await audit.verify(p.entries, p.seal);
      if (step.kind !== 'part') throw new Error(`beta's part ${p.value.part.index} does not verify`);
      audit.commit();
      const { seal, ...verified } = step.part;
      const { index: part, first, digest: partDigest } = seal.part;
      const { size, chain, root, timeMs } = seal;
      await store.storePart({
        ...verified,
        peer: 'beta',
        source: 'topic',
        part,
        first,
        partDigest,
        size,
        chain,
        root,
        timeMs,
      });
    }

    const peer = (id: string, log: NoteSigner): FederationPeer => ({
      id,
      origin: log.verifierKey.name,
      verifierKey: log.verifierKey,
      witnessKey: W[id]!.verifierKey,
      queryUrl: `http://${id}.invalid`,
    });
    const context: FederationContext = {
      portalId: 'alpha',
      peers: [peer('beta', beta.fixture.signer), peer('gamma', gamma.signer)],
      witnessKey: W.alpha,
      quorum: 2,
    };
    metrics = new MetricsService({ name: 'replication', version: 'test' });
    const fedMetrics = new FederationMetrics(metrics);
    const witness = new WitnessService(context, findings, fixedClock(NOW), fedMetrics);
    intake = new WitnessIntakeService(
      witness,
      store,
      new TypeOrmOwnSealReader(dataSource),
      cosignatures,
      findings,
      fedMetrics,
    );
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  describe('cosignatures', () => {
    it("stores a configured peer's cosignature of this portal's own seal once; a replay changes nothing", async () => {
      const message = cos('alpha', 'beta', 0, own0.seal);
      await storedIn('cosignatures', message);
      expect(await cosignatures.cosignature('alpha', 0, 'beta')).toEqual({
        ...{ subject: 'alpha', part: 0, witness: 'beta', seal: own0.seal },
        ...{ line: line(own0.seal, W.beta!), cosignedAt: TS },
      });
      await refused(message, 'duplicate');
    });

    const refusals: Array<[string, () => Raw, IntakeOutcome]> = [
      [
        'bytes that are no message',
        () => ({ key: 'alpha', type: 'cosignature', value: utf8.encode('{"v":1,') }),
        'malformed',
      ],
      ['a cosignature by an unknown witness', () => cos('alpha', 'delta', 1, own1.seal), 'unknown-portal'],
      ['a cosignature of an unknown subject', () => cos('delta', 'beta', 0, own0.seal), 'unknown-portal'],
      [
        'a bad signature',
        () => cos('alpha', 'beta', 1, own1.seal, tampered(line(own1.seal, W.beta!))),
        'invalid',
      ],
      [
        "another peer's key naming this witness",
        () => cos('alpha', 'beta', 1, own1.seal, line(own1.seal, W.gamma!)),
        'invalid',
      ],
      [
        'a seal this portal never signed',
        () => cos('alpha', 'beta', 1, resealed(own1, alpha.signer)),
        'conflict',
      ],
      ['a part this portal has not sealed', () => cos('alpha', 'beta', 2, unsealed.seal), 'unknown-seal'],
      [
        "a peer's seal with a forged log signature",
        () => cos('beta', 'gamma', 0, forged(beta0.seal)),
        'invalid',
      ],
      ["a peer's seal of another part than named", () => cos('beta', 'gamma', 1, beta0.seal), 'invalid'],
      ["this portal's own cosignature echoed back", () => cos('beta', 'alpha', 0, beta0.seal), 'own'],
    ];
    it.each(refusals)('refuses %s, changing nothing', async (_, message, outcome) => {
      await refused(message(), outcome);
    });

    it("stores a configured peer's cosignature of another peer's mirrored seal", async () => {
      await storedIn('cosignatures', cos('beta', 'gamma', 0, beta0.seal));
      expect((await cosignatures.cosignature('beta', 0, 'gamma'))?.seal).toBe(beta0.seal);
    });

    it('records an equivocation when a peer cosigns another validly signed seal of a part mirrored here', async () => {
      const other = resealed(beta1, beta.fixture.signer, 7);
      const before = await snapshotDatabase(db.url);
      expect(await findings.hasOpenFinding('beta', 'equivocation')).toBe(false);

      const message = cos('beta', 'gamma', 1, other);
      expect(await receive(message)).toBe('conflict');
      expect((await cosignatures.cosignature('beta', 1, 'gamma'))?.seal).toBe(other);
      expect(await findingRows('beta')).toEqual([
        {
          reporter: 'alpha',
          kind: 'equivocation',
          code: 'cosignature.conflict',
          part: '1',
          status: 'open',
          verified: true,
        },
      ]);
      const [row] = await queryDatabase<{ evidence: unknown }>(
        db.url,
        `SELECT evidence FROM findings WHERE subject = 'beta'`,
      );
      const seals = verifyEquivocation(row?.evidence, ED, beta.verifierKey).map((s) => s.timeMs);
      expect(seals.sort()).toEqual([beta1.value.timeMs, beta1.value.timeMs + 7]);
      expect(await findings.hasOpenFinding('beta', 'equivocation')).toBe(true);

      // Queued for intermesh.witness, signed with this portal's witness key.
      const after = await snapshotDatabase(db.url);
      expect(after.witness_outbox).toHaveLength(before.witness_outbox!.length + 1);
      const [queued] = await queryDatabase<{ key: string; type: string; value: Buffer }>(
        db.url,
        `SELECT key, type, value FROM witness_outbox ORDER BY seq DESC LIMIT 1`,
      );
      const published = decodeWitnessMessage(queued!) as FindingMessage;
      expect(published).toMatchObject({ subject: 'beta', reporter: 'alpha', kind: 'equivocation' });
      expect(() => verifyFinding(published, W.alpha!.verifierKey, ED)).not.toThrow();

      await refused(message, 'conflict');
    });
  });

  describe('findings', () => {
    const gap = (part: number): Claim => ({
      ...{ subject: 'gamma', kind: 'gap', code: 'assembler.gap' },
      ...{ part, evidence: { expectedPart: part } },
    });

    it("stores a configured peer's gap finding with that reporter as an unverified claim, not republished; a replay changes nothing", async () => {
      const message = finding('beta', gap(3));
      await storedIn('findings', message);
      expect(await findingRows('gamma')).toEqual([
        { reporter: 'beta', kind: 'gap', code: 'assembler.gap', part: '3', status: 'open', verified: false },
      ]);
      await refused(message, 'duplicate');
    });

    it("refuses a member's finding with U+0000 in its detail or evidence, changing nothing; the next finding is stored", async () => {
      // A store cannot hold U+0000 in text or jsonb: such a message once failed every retry and held
      // up the topic behind it. Now it is refused as malformed before any statement.
      const valid = finding('beta', gap(5));
      const fields = JSON.parse(new TextDecoder().decode(valid.value)) as Record<string, unknown>;
      for (const change of [{ detail: 'beta saw it\u0000' }, { evidence: { expectedPart: 5, x: '\u0000' } }])
        await refused(
          { ...valid, value: utf8.encode(JSON.stringify({ ...fields, ...change })) },
          'malformed',
        );
      await storedIn('findings', valid);
    });

    it("a peer's claim becomes verified when this portal's own audit reaches the same finding, and only then", async () => {
      const claim = { ...gap(9), reporter: 'beta', detail: 'claimed' };
      await storedIn('findings', finding('beta', gap(9)));
      const fingerprint = findingFingerprint(gap(9));
      const own = { ...claim, fingerprint, reporter: 'alpha', evidence: gap(9).evidence };
      // Another claim with that fingerprint changes nothing; this portal's own finding verifies it.
      expect(await findings.recordFinding({ ...own, verified: false })).toBe(false);
      expect((await findingRows('gamma')).at(-1)).toMatchObject({ part: '9', verified: false });
      expect(await findings.recordFinding(own)).toBe(false);
      expect((await findingRows('gamma')).at(-1)).toMatchObject({
        reporter: 'beta',
        part: '9',
        verified: true,
      });
    });

    const refusals: Array<[string, () => Raw, IntakeOutcome]> = [
      [
        'a bad signature',
        () => {
          const signed = signedFinding('beta', gap(4));
          const signature = Uint8Array.from(signed.signature);
          signature[10]! ^= 1;
          return encodeWitnessMessage({ ...signed, signature });
        },
        'invalid',
      ],
      ['an unknown reporter', () => finding('delta', gap(4)), 'unknown-portal'],
      ["another peer's witness key", () => finding('beta', gap(4), W.gamma), 'invalid'],
      [
        // The decoder already checks the fingerprint; the signature is over the wrong id.
        'an id that is not its fingerprint',
        () => {
          const fields = { ...gap(4), reporter: 'beta', id: 'a'.repeat(64), detail: 'x', observedAt: NOW };
          const signature = toBase64(W.beta!.sign(findingSignedMessage(fields)));
          const body = JSON.stringify({ v: 1, type: 'finding', ...fields, signature });
          return { key: 'gamma', type: 'finding', value: utf8.encode(body) };
        },
        'malformed',
      ],
      [
        'equivocation evidence of two identical notes',
        () => {
          const evidence = evidenceOf(gamma.signer, [gamma0.seal, resealed(gamma0, gamma.signer)]);
          return gammaEquivocation({ ...(evidence as object), notes: [gamma0.seal, gamma0.seal] });
        },
        'invalid',
      ],
      [
        'equivocation evidence signed by another key',
        () =>
          gammaEquivocation(
            evidenceOf(impostor, [signSeal(gamma0.value, impostor), resealed(gamma0, impostor)]),
          ),
        'invalid',
      ],
      [
        "equivocation evidence naming gamma's key over notes of another key",
        () => {
          const notes = [signSeal(gamma0.value, impostor), resealed(gamma0, impostor)];
          const evidence = evidenceOf(gamma.signer, [gamma0.seal, resealed(gamma0, gamma.signer)]);
          return gammaEquivocation({ ...(evidence as object), notes });
        },
        'invalid',
      ],
      ["this portal's own finding echoed back", () => finding('alpha', gap(4)), 'own'],
    ];
    it.each(refusals)('refuses a finding with %s, changing nothing', async (_, message, outcome) => {
      await refused(message(), outcome);
    });

    it('stores a valid equivocation finding about a peer, which then has an open equivocation finding', async () => {
      expect(await findings.hasOpenFinding('gamma', 'equivocation')).toBe(false);
      const evidence = evidenceOf(gamma.signer, [gamma0.seal, resealed(gamma0, gamma.signer)]);
      await storedIn('findings', gammaEquivocation(evidence));
      expect(await findings.hasOpenFinding('gamma', 'equivocation')).toBe(true);
      expect((await findingRows('gamma')).at(-1)).toMatchObject({
        reporter: 'beta',
        status: 'open',
        verified: true,
      });
    });

    it("stores a peer's stale report of a seal older than the mirrored head as resolved, else open", async () => {
      const head = (await store.head('beta'))!;
      const stale = (timeMs: number): Claim => ({
        ...{ subject: 'beta', kind: 'stale', code: 'mirror.stale', part: 1 },
        evidence: { part: 1, timeMs, staleAfterMs: 180_000 },
      });
      expect(await receive(finding('gamma', stale(head.timeMs - 1000)))).toBe('stored');
      expect(await receive(finding('gamma', stale(head.timeMs)))).toBe('stored');
      const rows = (await findingRows('beta')).filter((r) => r.kind === 'stale');
      expect(rows.map((r) => [r.reporter, r.status])).toEqual([
        ['gamma', 'resolved'],
        ['gamma', 'open'],
      ]);
    });

    it("stores a peer's stale report about this portal as resolved when this portal sealed since", async () => {
      const [own] = await dataSource.query<Array<{ time_ms: string }>>(
        'SELECT max(time_ms)::text AS time_ms FROM log_seals',
      );
      const newest = Number(own!.time_ms);
      const stale = (timeMs: number): Claim => ({
        ...{ subject: 'alpha', kind: 'stale', code: 'mirror.stale', part: 0 },
        evidence: { part: 0, timeMs, staleAfterMs: 180_000 },
      });
      expect(await receive(finding('beta', stale(newest - 1000)))).toBe('stored');
      expect(await receive(finding('beta', stale(newest)))).toBe('stored');
      const rows = (await findingRows('alpha')).filter((r) => r.kind === 'stale');
      expect(rows.map((r) => [r.reporter, r.status])).toEqual([
        ['beta', 'resolved'],
        ['beta', 'open'],
      ]);
      // Still stale: nothing to end. Once this portal seals again, the open claim ends.
      expect(await findings.resolveOwnStale('alpha')).toBe(0);
      await dataSource.query(`UPDATE log_seals SET time_ms = time_ms + 1 WHERE time_ms = $1`, [newest]);
      expect(await findings.resolveOwnStale('alpha')).toBe(1);
      const after = (await findingRows('alpha')).filter((r) => r.kind === 'stale');
      expect(after.map((r) => r.status)).toEqual(['resolved', 'resolved']);
      // Only the claims about this portal: the open one about beta stays open.
      expect((await findingRows('beta')).filter((r) => r.kind === 'stale').map((r) => r.status)).toContain(
        'open',
      );
    });
  });

  it('counts every message by type and outcome', async () => {
    // Declared last: it runs after every message above was received.
    expect(tally.get('cosignature/invalid')).toBeGreaterThan(1);
    expect(tally.get('finding/stored')).toBeGreaterThan(1);
    const metric = await metrics.registry.getSingleMetric('intermesh_witness_messages_total')!.get();
    const counted = metric.values.map((v) => [`${v.labels.type}/${v.labels.outcome}`, v.value]);
    expect(Object.fromEntries(counted)).toEqual(Object.fromEntries(tally));
  });
});
