import { randomBytes } from 'node:crypto';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  MerkleTree,
  addCosignature,
  encodeEntry,
  formatAddCheckpoint,
  formatCheckpoint,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifyCosignature,
  verifyEquivocation,
  type Hash,
} from '@cryptomesh/log';
import { createService, type RunningService } from '@cryptomesh/service';
import { LogFixture, sampleEntry } from '../../libs/log/testdata/log-fixture';
import { generateLogKey } from '../../apps/log-signer/src/log-key';
import { replicationApp } from '../../apps/replication/src/replication.app';
import { generateWitnessKey } from '../../apps/replication/src/witness-key';
import { createTestDatabase, testKafkaBrokers, type TestDatabase } from '../env/test-database';
import { queryDatabase } from '../support/db-snapshot';
import { parsePrometheusText, scrape } from '../support/prometheus-text';

const ED = nodeEd25519;
const BETA = 'beta.test/log';
/** A peer whose checkpoints are Mesh seals (LogFixture: the log-signer's format, its key derived from the origin). */
const DELTA = 'delta.test/log';

/** A peer's log the test grows, and its checkpoints (plain C2SP checkpoints: no seal lines needed). */
class PeerLog {
  readonly tree = new MerkleTree();
  constructor(
    private readonly signerKey: string,
    private readonly origin: string,
    private readonly tag: string,
  ) {}

  growTo(size: number): this {
    while (this.tree.size < size) this.tree.append(encodeEntry({ tag: this.tag, n: this.tree.size }));
    return this;
  }

  checkpoint(size = this.tree.size): string {
    const body = formatCheckpoint({
      origin: this.origin,
      size,
      root: this.tree.rootAt(size),
      extensions: [],
    });
    return signNote(body, parseSignerKey(this.signerKey, ED));
  }

  proof(from: number, to = this.tree.size): Hash[] {
    return from === 0 || from === to ? [] : this.tree.consistencyProof(from, to);
  }
}

/**
 * Issue #18: a portal's `POST /add-checkpoint` (C2SP tlog-witness) for the logs it mirrors, on the
 * real replication service and PostgreSQL: cosigns a consistent checkpoint; refuses a malformed
 * request (400), an unknown key (403), an unknown log (404), a stale old size or a roll-back (409
 * with the latest size as text/x.tlog.size, or 400), a root that differs at the same size (409),
 * a bad or inconsistent proof (422) — each with nothing stored — and compares-and-swaps under
 * concurrent requests. A seal that forks the one cosigned is a finding against the peer.
 */
describe('tlog-witness: POST /add-checkpoint on the replication service', () => {
  const beta = generateLogKey(BETA);
  const witness = generateWitnessKey('alpha.test/witness');
  let db: TestDatabase;
  let service: RunningService;
  let log: PeerLog;

  beforeAll(async () => {
    db = await createTestDatabase('addcheckpoint');
    const peers = [
      {
        id: 'beta',
        origin: BETA,
        verifierKey: beta.verifierKey,
        witnessKey: generateWitnessKey('beta.test/witness').verifierKey,
        queryUrl: 'http://127.0.0.1:9',
      },
      {
        id: 'delta',
        origin: DELTA,
        verifierKey: new LogFixture(DELTA, ED).signer.verifierKey.text,
        witnessKey: generateWitnessKey('delta.test/witness').verifierKey,
        queryUrl: 'http://127.0.0.1:9',
      },
    ];
    service = await createService(replicationApp, {
      PORT: '0',
      LOG_LEVEL: 'error',
      DATABASE_URL: db.url,
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_GROUP_ID: `add-checkpoint-${randomBytes(4).toString('hex')}`,
      PORTAL_ID: 'alpha',
      MIRROR: 'false',
      PUBLISH_LOG: 'false',
      FEDERATION_PEERS: JSON.stringify(peers),
      WITNESS_KEY: witness.signerKey,
    });
    log = new PeerLog(beta.signerKey, BETA, 'beta');
  }, 60_000);

  afterAll(async () => {
    await service?.app.close();
    await db?.drop();
  });

  async function post(body: string, type = 'text/plain') {
    const res = await fetch(`${service.url}/add-checkpoint`, {
      method: 'POST',
      headers: { 'content-type': type },
      body,
    });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  }

  const stored = () =>
    queryDatabase<{ origin: string; size: string; checkpoint: string }>(
      db.url,
      'SELECT origin, size, checkpoint FROM witness_checkpoints ORDER BY origin',
    );

  async function refused(body: string, status: number, sizeBody?: string): Promise<void> {
    const before = await stored();
    const res = await post(body);
    expect(res.status).toBe(status);
    if (sizeBody !== undefined) {
      expect(res.type).toBe('text/x.tlog.size');
      expect(res.text).toBe(sizeBody);
    }
    expect(await stored()).toEqual(before);
  }

  function expectCosignature(text: string, checkpoint: string): void {
    expect(text).toMatch(/^\u2014 alpha\.test\/witness [A-Za-z0-9+/]+=*\n$/);
    const signatures = parseNote(`${checkpoint}${text}`).signatures;
    const timestamp = verifyCosignature(
      parseNote(checkpoint).text,
      signatures[signatures.length - 1]!,
      parseVerifierKey(witness.verifierKey),
      ED,
    );
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(120);
  }

  it('cosigns the first checkpoint of a mirrored log (old 0) and records its size', async () => {
    log.growTo(5);
    const checkpoint = log.checkpoint();
    const res = await post(formatAddCheckpoint({ oldSize: 0, proof: [], checkpoint }));
    expect(res.status).toBe(200);
    expectCosignature(res.text, checkpoint);
    expect(await stored()).toEqual([{ origin: BETA, size: '5', checkpoint }]);
  });

  it('refuses a stale old size with 409 and the latest size, as text/x.tlog.size', async () => {
    log.growTo(8);
    await refused(formatAddCheckpoint({ oldSize: 0, proof: [], checkpoint: log.checkpoint() }), 409, '5\n');
    await refused(
      formatAddCheckpoint({ oldSize: 7, proof: log.proof(7), checkpoint: log.checkpoint() }),
      409,
      '5\n',
    );
  });

  it('refuses a bad proof and a checkpoint inconsistent with the one it cosigned (422)', async () => {
    const proof = log.proof(5);
    const flipped = proof.map((h, i) => (i === 0 ? Uint8Array.from(h, (b, j) => (j === 0 ? b ^ 1 : b)) : h));
    await refused(formatAddCheckpoint({ oldSize: 5, proof: flipped, checkpoint: log.checkpoint() }), 422);
    await refused(
      formatAddCheckpoint({ oldSize: 5, proof: proof.slice(1), checkpoint: log.checkpoint() }),
      422,
    );
    // A fork: the same key signs another history of 8 entries, with a proof that is consistent
    // with the fork's own size-5 tree, not with the one this witness cosigned.
    const fork = new PeerLog(beta.signerKey, BETA, 'fork').growTo(8);
    await refused(
      formatAddCheckpoint({ oldSize: 5, proof: fork.proof(5), checkpoint: fork.checkpoint() }),
      422,
    );
    // And the fork at the very size cosigned: another root for size 5.
    await refused(formatAddCheckpoint({ oldSize: 5, proof: [], checkpoint: fork.checkpoint(5) }), 409);
  });

  it('refuses a roll-back: a smaller checkpoint than the one cosigned', async () => {
    await refused(formatAddCheckpoint({ oldSize: 5, proof: [], checkpoint: log.checkpoint(3) }), 400);
    await refused(formatAddCheckpoint({ oldSize: 3, proof: [], checkpoint: log.checkpoint(3) }), 409, '5\n');
  });

  it('refuses an unknown key (403), an unknown log (404) and malformed requests (400)', async () => {
    const impostor = generateLogKey(BETA);
    const forged = new PeerLog(impostor.signerKey, BETA, 'beta').growTo(8);
    await refused(
      formatAddCheckpoint({ oldSize: 5, proof: log.proof(5), checkpoint: forged.checkpoint() }),
      403,
    );
    const other = generateLogKey('gamma.test/log');
    const gamma = new PeerLog(other.signerKey, 'gamma.test/log', 'gamma').growTo(3);
    await refused(formatAddCheckpoint({ oldSize: 0, proof: [], checkpoint: gamma.checkpoint() }), 404);
    const good = log.checkpoint();
    await refused(`old 05\n\n${good}`, 400);
    await refused(`new 5\n\n${good}`, 400);
    await refused(`old 5\nnot base64!\n\n${good}`, 400);
    await refused(`old 5\n${'AAAA\n'}\n${good}`, 400);
    await refused(`old 5\n${`${Buffer.alloc(32).toString('base64')}\n`.repeat(64)}\n${good}`, 400);
    await refused(`old 5\n`, 400);
    await refused(`old 5\n\nnot a checkpoint\n`, 400);
  });

  it('cosigns the next consistent checkpoint, with any content type', async () => {
    const checkpoint = log.checkpoint();
    const res = await post(
      formatAddCheckpoint({ oldSize: 5, proof: log.proof(5), checkpoint }),
      'application/octet-stream',
    );
    expect(res.status).toBe(200);
    expectCosignature(res.text, checkpoint);
    expect(await stored()).toEqual([{ origin: BETA, size: '8', checkpoint }]);
    // The same checkpoint again (old size = size, same root) is cosigned again.
    const again = await post(formatAddCheckpoint({ oldSize: 8, proof: [], checkpoint }));
    expect(again.status).toBe(200);
  });

  it('compares and swaps: of concurrent requests from the same old size, one wins and none rolls back', async () => {
    log.growTo(40);
    const sizes = [12, 20, 33, 40, 17, 25];
    const answers = await Promise.all(
      sizes.map((size) =>
        post(
          formatAddCheckpoint({ oldSize: 8, proof: log.proof(8, size), checkpoint: log.checkpoint(size) }),
        ),
      ),
    );
    const won = sizes.filter((_, i) => answers[i]!.status === 200);
    expect(won).toHaveLength(1);
    for (const [i, answer] of answers.entries()) {
      if (answer.status === 200) continue;
      expect(answer).toMatchObject({ status: 409, type: 'text/x.tlog.size', text: `${won[0]}\n` });
      expect(sizes[i]).not.toBe(won[0]);
    }
    expect((await stored())[0]!.size).toBe(String(won[0]));
    const metrics = parsePrometheusText(await (await fetch(`${service.url}/metrics`)).text());
    const total = (outcome: string) =>
      metrics
        .filter((m) => m.name === 'tlog_witness_add_checkpoint_total' && m.labels.outcome === outcome)
        .reduce((sum, m) => sum + m.value, 0);
    expect(total('cosigned')).toBe(4);
    expect(total('witness.stale')).toBe(8);
    expect(total('witness.bad-proof')).toBe(3);
  });

  it('records a seal that forks the one it cosigned as a proven equivocation against the peer (409 all the same)', async () => {
    const honest = new LogFixture(DELTA, ED);
    const cosigned = honest.sealPart([1, 2, 3].map((n) => sampleEntry(n))).seal;
    expect((await post(formatAddCheckpoint({ oldSize: 0, proof: [], checkpoint: cosigned }))).status).toBe(
      200,
    );
    const findings = () =>
      queryDatabase<{ subject: string; kind: string; code: string; evidence: unknown }>(
        db.url,
        'SELECT subject, kind, code, evidence FROM findings ORDER BY id',
      );
    expect(await findings()).toEqual([]);
    // The same key (derived from the origin) seals another history of the same size.
    const fork = new LogFixture(DELTA, ED).sealPart([1, 2, 4].map((n) => sampleEntry(n))).seal;
    await refused(formatAddCheckpoint({ oldSize: 3, proof: [], checkpoint: fork }), 409);
    const raised = await findings();
    expect(raised).toMatchObject([{ subject: 'delta', kind: 'equivocation', code: 'seal.conflict' }]);
    // Evidence anyone can check with the peer's key alone.
    expect(() =>
      verifyEquivocation(
        raised[0]!.evidence as never,
        ED,
        parseVerifierKey(new LogFixture(DELTA, ED).signer.verifierKey.text),
      ),
    ).not.toThrow();
    // Submitted again, and again with other signature lines added (anyone can add those): the
    // same finding, not a second one — the evidence keeps only the log key's signatures.
    await refused(formatAddCheckpoint({ oldSize: 3, proof: [], checkpoint: fork }), 409);
    for (const label of ['x.test/witness', 'y.test/witness']) {
      const padded = addCosignature(
        fork,
        parseSignerKey(generateWitnessKey(label).signerKey, ED),
        1_800_000_000,
      );
      await refused(formatAddCheckpoint({ oldSize: 3, proof: [], checkpoint: padded }), 409);
    }
    const after = await findings();
    expect(after).toHaveLength(1);
    expect(JSON.stringify(after[0]!.evidence)).not.toMatch(/[xy]\.test\/witness/);
    const metrics = await scrape(service.url);
    expect(metrics.sum('intermesh_findings_total', { subject: 'delta', kind: 'equivocation' })).toBe(1);
    expect(metrics.sum('tlog_witness_add_checkpoint_total', { outcome: 'witness.conflict' })).toBe(5);
  });
});
