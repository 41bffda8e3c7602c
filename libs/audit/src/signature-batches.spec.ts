import { createPublicKey, verify } from 'node:crypto';
import fc from 'fast-check';
import { nodeEd25519, type SignatureCheck } from '@cryptomesh/crypto';
import { PeerLog } from '../test/peer-log';
import { LogFixture, type FixturePart } from '../../log/testdata/log-fixture';
import type { AuditStep } from './audit-step';
import { fixedClock } from './clock';
import { PeerAudit } from './peer-audit';
import {
  SignaturesRefused,
  withBatchedSignatures,
  withDeferredSignatures,
  type VerifyBatch,
} from './signature-batches';

const ORIGIN = 'alpha.test/log';
const SPKI = { Ed25519: '302a300506032b6570032100', Ed448: '3043300506032b6571033a00' } as const;

/** What a signature worker computes: OpenSSL's verdict on exactly these bytes. */
function plainVerdict(check: SignatureCheck): boolean {
  const key = createPublicKey({
    key: Buffer.concat([Buffer.from(SPKI[check.algorithm], 'hex'), check.publicKey]),
    format: 'der',
    type: 'spki',
  });
  return verify(null, check.message, key, check.signature);
}

/** A pool stand-in: answers asynchronously, in chunks, and counts what it was asked. */
function batchVerifier(): { verifyBatch: VerifyBatch; asked: () => number } {
  let asked = 0;
  return {
    verifyBatch: async (checks) => {
      asked += checks.length;
      await new Promise((r) => setImmediate(r));
      return checks.map(plainVerdict);
    },
    asked: () => asked,
  };
}

/**
 * The entry with one of its signatures forged: `which` picks the JWS (the request's authorisation
 * first, then each signed profile of the record) and a bit of S's second byte flips — S stays below
 * L, so the strict encoding rules pass and only the verification itself can refuse it.
 */
function forge(entry: Uint8Array, which: number): Uint8Array {
  const record = JSON.parse(new TextDecoder().decode(entry)) as Record<string, unknown>;
  const signed: Array<{ signature: string }> = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) {
      const o = value as Record<string, unknown>;
      if (typeof o.signature === 'string' && typeof o.protected === 'string') signed.push(o as never);
      else Object.values(o).forEach(visit);
    }
  };
  visit(record.Authorisation);
  for (const [name, value] of Object.entries(record)) if (name !== 'Authorisation') visit(value);
  const target = signed[which % signed.length]!;
  const s = target.signature;
  target.signature = `${s.slice(0, 44)}${s[44] === 'A' ? 'B' : 'A'}${s.slice(45)}`;
  return new TextEncoder().encode(JSON.stringify(record));
}

/** `entries` sealed as part 0 of a fresh log (same key, same times). */
function sealed(entries: Uint8Array[]): FixturePart {
  return new LogFixture(ORIGIN, nodeEd25519).sealPart(entries);
}

function newAudit(verifyBatch?: VerifyBatch, deferSignatures = false): PeerAudit {
  return new PeerAudit(
    { id: 'alpha', origin: ORIGIN, verifierKey: new LogFixture(ORIGIN, nodeEd25519).signer.verifierKey },
    undefined,
    {
      sealNote: () => Promise.resolve(undefined),
      accountState: () => Promise.resolve(undefined),
      accountEntries: () => Promise.resolve([]),
    },
    nodeEd25519,
    fixedClock(1_763_800_000_000 + 3 * 3_600_000),
    verifyBatch === undefined ? {} : { verifyBatch, deferSignatures },
  );
}

/** What a step says, without object identities: a part's contents or a finding's code and entry. */
function outcome(step: AuditStep) {
  if (step.kind === 'part')
    return {
      kind: 'part',
      size: step.part.seal.size,
      leaves: step.part.leafHashes.map((h) => Buffer.from(h).toString('hex')),
      nodes: step.part.nodes.length,
      frontier: step.part.frontier,
      states: step.part.accountStates,
      profiles: step.part.profiles,
    };
  if (step.kind === 'finding')
    return { kind: 'finding', code: step.finding.code, part: step.finding.part, detail: step.finding.detail };
  return { kind: step.kind };
}

describe('withBatchedSignatures', () => {
  let log: PeerLog;
  let honest: Uint8Array[];

  /** What the re-check settles to, deferred or not: the step, and whether its signatures verified. */
  async function settled(step: AuditStep): Promise<'verified' | 'refused' | 'none'> {
    if (step.kind !== 'part' || step.part.signatures === undefined) return 'none';
    return step.part.signatures.then(
      () => 'verified',
      (error: unknown) => {
        if (error instanceof SignaturesRefused) return 'refused';
        throw error;
      },
    );
  }

  beforeAll(async () => {
    log = new PeerLog('alpha', ORIGIN, nodeEd25519);
    // Accounts 1–3 created, then requests of theirs: device updates, a connection, a deletion.
    honest = [
      ...(await log.entries(3)),
      await log.accountRequest(1, { kind: 'update-device', description: 'one' }, 2),
      await log.accountRequest(2, { kind: 'connect' }, 2),
      await log.accountRequest(1, { kind: 'update-device', description: 'two' }, 3),
      await log.accountRequest(3, { kind: 'delete' }, 2),
    ];
  });

  it('gives the in-thread verdicts for every part, a forged signature anywhere included (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(honest.length - 1), fc.nat(4)), { maxLength: 2 }),
        fc.integer({ min: 1, max: 8 }),
        async (forgeries, chunk) => {
          const entries = honest.slice();
          for (const [at, which] of forgeries) entries[at] = forge(entries[at]!, which);
          const part = sealed(entries);
          const inThread = outcome(await newAudit().verify(part.entries, part.seal));
          const { verifyBatch } = batchVerifier();
          const pooled = newAudit(verifyBatch);
          // Small chunks: several batches in flight while the re-check runs.
          const chunked: VerifyBatch = (checks) =>
            Promise.all(
              Array.from({ length: Math.ceil(checks.length / chunk) }, (_, i) =>
                verifyBatch(checks.slice(i * chunk, (i + 1) * chunk)),
              ),
            ).then((answers) => answers.flat());
          const viaChunks = newAudit(chunked);
          expect(outcome(await pooled.verify(part.entries, part.seal))).toEqual(inThread);
          expect(outcome(await viaChunks.verify(part.entries, part.seal))).toEqual(inThread);
          if (forgeries.length > 0) {
            expect(inThread.kind).toBe('finding');
            // A forged profile inside a Publish also changes the body its request signed.
            const code = inThread.kind === 'finding' ? inThread.code : '';
            expect(code).toMatch(/bad-signature$|^request\.mismatch$/);
          } else expect(inThread.kind).toBe('part');
        },
      ),
      { numRuns: 25 },
    );
  });

  it('refuses the part at the forged entry, with the finding of the in-thread check', async () => {
    const entries = honest.slice();
    entries[5] = forge(entries[5]!, 0);
    const part = sealed(entries);
    const { verifyBatch, asked } = batchVerifier();
    const step = await newAudit(verifyBatch).verify(part.entries, part.seal);
    const expected = await newAudit().verify(part.entries, part.seal);
    expect(step.kind).toBe('finding');
    if (step.kind !== 'finding' || expected.kind !== 'finding') throw new Error('no finding');
    expect(step.finding).toEqual(expected.finding);
    expect(step.finding.code).toBe('request.bad-signature');
    expect(step.finding.detail).toContain(`entry ${part.value.part.first + 5}`);
    expect(asked()).toBeGreaterThan(entries.length);
  });

  it('deferred (PeerAuditOptions.deferSignatures): a part that passes is answered before its verdicts, and a refused one judged in full gives the in-thread step (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(honest.length - 1), fc.nat(4)), { maxLength: 2 }),
        async (forgeries) => {
          const entries = honest.slice();
          for (const [at, which] of forgeries) entries[at] = forge(entries[at]!, which);
          const part = sealed(entries);
          const inThread = outcome(await newAudit().verify(part.entries, part.seal));
          // The pool answers only when told to: the part is answered while its verdicts are due.
          let release!: () => void;
          const released = new Promise<void>((r) => (release = r));
          const { verifyBatch } = batchVerifier();
          const audit = newAudit((checks) => released.then(() => verifyBatch(checks)), true);
          const first = audit.verify(part.entries, part.seal, true);
          // The re-check runs on microtasks only (no I/O here): once a timer's turn comes, it
          // answered or it waits for the verdicts.
          const drained = new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 0));
          const early = await Promise.race([first, drained]);
          release();
          const answered = early === 'waiting' ? await first : early;
          if (early === 'waiting') expect(answered.kind).not.toBe('part');
          const verdict = await settled(answered);
          if (answered.kind === 'part' && verdict === 'verified') {
            expect(outcome(answered)).toEqual(inThread);
            return;
          }
          if (answered.kind !== 'part') {
            // A re-check that failed waited for its verdicts: the in-thread finding itself.
            expect(outcome(answered)).toEqual(inThread);
            expect(await first).toBe(answered);
            return;
          }
          // Passed on signatures taken as valid; one was not: judged again, in full, from the head.
          expect(forgeries.length).toBeGreaterThan(0);
          expect(verdict).toBe('refused');
          audit.reset(undefined);
          audit.judgeInFull(part.value.part.index);
          // A catch-up judging the part first (never deferred) leaves the topic's judgement in full.
          expect(outcome(await audit.verify(part.entries, part.seal))).toEqual(inThread);
          audit.reset(undefined);
          const again = await audit.verify(part.entries, part.seal, true);
          expect(outcome(again)).toEqual(inThread);
          expect(again.kind === 'part' && again.part.signatures !== undefined).toBe(false);
          expect(inThread.kind).toBe('finding');
        },
      ),
      { numRuns: 25 },
    );
  });

  it('deferred: a forged signature the rules let pass is refused by the verdicts; the pool failing rejects as itself', async () => {
    const entries = honest.slice();
    entries[5] = forge(entries[5]!, 0);
    const part = sealed(entries);
    const { verifyBatch } = batchVerifier();
    const step = await newAudit(verifyBatch, true).verify(part.entries, part.seal, true);
    expect(step.kind).toBe('part');
    await expect(settled(step)).resolves.toBe('refused');
    // Not deferred unless asked (a catch-up's parts): the finding at once.
    const strict = await newAudit(verifyBatch, true).verify(part.entries, part.seal);
    expect(strict.kind).toBe('finding');
    const honestPart = sealed(honest.slice());
    const crashed: VerifyBatch = () => Promise.reject(new Error('signature worker 0 crashed'));
    const passed = await newAudit(crashed, true).verify(honestPart.entries, honestPart.seal, true);
    expect(passed.kind).toBe('part');
    if (passed.kind !== 'part') throw new Error('no part');
    await expect(passed.part.signatures).rejects.toThrow('crashed');
    // A re-check that failed is judged with its verdicts: the pool's failure fails the call itself.
    await expect(
      withDeferredSignatures(
        crashed,
        (verdicts) => Promise.resolve(verdicts(emptyCheck()) && 'failed'),
        () => undefined,
        () => false,
      ),
    ).rejects.toThrow('crashed');
  });

  it('trusts a verdict only for exactly the bytes it was computed on', async () => {
    const check = (message: string, signature = 7): SignatureCheck => ({
      algorithm: 'Ed25519',
      publicKey: new Uint8Array(32).fill(1),
      message: new TextEncoder().encode(message),
      signature: new Uint8Array(64).fill(signature),
    });
    const seen: Array<boolean | undefined> = [];
    let runs = 0;
    await withBatchedSignatures(
      (checks) => Promise.resolve(checks.map(() => false)),
      (verdicts) => {
        runs++;
        if (runs === 1) verdicts(check('a'));
        else {
          seen.push(verdicts(check('a')), verdicts(check('b')), verdicts(check('a', 8)));
          seen.push(verdicts({ ...check('a'), algorithm: 'Ed448' }));
          seen.push(verdicts({ ...check('a'), publicKey: new Uint8Array(32).fill(2) }));
        }
        return Promise.resolve(undefined);
      },
      () => undefined,
    );
    expect(runs).toBe(2);
    expect(seen).toEqual([false, undefined, undefined, undefined, undefined]);
  });

  it('fails, judging nothing, when the pool fails (a worker crashed); no rejection goes unhandled', async () => {
    let restarted = false;
    const crashed: VerifyBatch = () => Promise.reject(new Error('signature worker 0 crashed'));
    await expect(
      withBatchedSignatures(
        crashed,
        async (verdicts) => {
          for (let i = 0; i < 10; i++) verdicts({ ...emptyCheck(), signature: new Uint8Array(64).fill(i) });
          await new Promise((r) => setImmediate(r));
          return 'judged';
        },
        () => (restarted = true),
        3,
      ),
    ).rejects.toThrow('crashed');
    expect(restarted).toBe(false);
  });

  it('refuses an answer of the wrong length', async () => {
    await expect(
      withBatchedSignatures(
        () => Promise.resolve([true, true]),
        (verdicts) => Promise.resolve(verdicts(emptyCheck())),
        () => undefined,
      ),
    ).rejects.toThrow('2 verdicts for 1 checks');
  });
});

function emptyCheck(): SignatureCheck {
  return {
    algorithm: 'Ed25519',
    publicKey: new Uint8Array(32),
    message: new Uint8Array(0),
    signature: new Uint8Array(64),
  };
}
