import fc from 'fast-check';
import { nobleEd25519, nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import { LogFixture, logSigner, sampleEntry, type FixturePart } from '../testdata/log-fixture';
import { toBase64, utf8 } from './bytes';
import { findEquivocation, verifyEquivocation, type EquivocationEvidence } from './equivocation';
import { signSeal } from './seal';
import { withCode as code } from '../testdata/with-code';

const ORIGIN = 'portal-a.example/log';
const key = () => logSigner(ORIGIN, nodeEd25519).verifierKey;

/** Two histories signed by the same portal key: equal for `common` entries, then different. */
function fork(common: number, sizesA: number[], sizesB: number[]) {
  const a = new LogFixture(ORIGIN, nodeEd25519);
  const b = new LogFixture(ORIGIN, nodeEd25519);
  let ia = 0;
  let ib = 0;
  const entry = (i: number, side: string) =>
    i < common ? sampleEntry(i) : utf8(`{"fork":"${side}","i":${i}}`);
  const partsA = sizesA.map((n) => a.sealPart(Array.from({ length: n }, () => entry(ia++, 'a'))));
  const partsB = sizesB.map((n) => b.sealPart(Array.from({ length: n }, () => entry(ib++, 'b'))));
  return { a, b, partsA, partsB };
}

function consistencyFrom(fixture: LogFixture, older: FixturePart, newer: FixturePart) {
  const tree = fixture.tree!;
  return {
    rootAtOlderSize: tree.rootAt(older.value.size),
    proof: tree.consistencyProof(older.value.size, newer.value.size),
  };
}

function roundTrip(evidence: EquivocationEvidence | undefined): unknown {
  return JSON.parse(JSON.stringify(evidence)) as unknown;
}

describe('equivocation evidence', () => {
  it('convicts two different seals for one part index', () => {
    const { partsA, partsB } = fork(3, [3, 2], [3, 2]);
    const evidence = findEquivocation({
      logKey: key(),
      ed25519: nodeEd25519,
      notes: [partsA[1]!.seal, partsB[1]!.seal],
    });
    expect(evidence?.kind).toBe('same-part');
    const [s1, s2] = verifyEquivocation(roundTrip(evidence), nobleEd25519, key());
    expect(s1.part.index).toBe(1);
    expect(s2.part.index).toBe(1);
  });

  it('convicts a heartbeat seal re-signed with another time for the same part', () => {
    const log = new LogFixture(ORIGIN, nodeEd25519);
    const p = log.sealPart([]);
    const again = { ...p.value, timeMs: p.value.timeMs + 5 };
    const evidence = findEquivocation({
      logKey: key(),
      ed25519: nodeEd25519,
      notes: [p.seal, signSeal(again, log.signer)],
    });
    expect(evidence?.kind).toBe('same-part');
  });

  it('convicts trees of equal size with different roots, with no proof needed', () => {
    const { partsA, partsB } = fork(2, [5], [2, 3]);
    const evidence = findEquivocation({
      logKey: key(),
      ed25519: nodeEd25519,
      notes: [partsA[0]!.seal, partsB[1]!.seal],
    });
    expect(evidence).toMatchObject({ kind: 'inconsistent-trees', proof: [] });
    expect(() => verifyEquivocation(roundTrip(evidence), nodeEd25519, key())).not.toThrow();
  });

  it.each([
    [5, 8],
    [4, 9],
    [1, 2],
    [6, 7],
  ])('convicts a size-%i seal and a size-%i seal of a forked tree with the consistency proof', (m, n) => {
    const { partsA, partsB, b } = fork(m - 1, [m], [m - 1 > 0 ? m - 1 : 0, n - (m - 1)]);
    const older = partsA[0]!;
    const newer = partsB[1]!;
    expect([older.value.size, newer.value.size]).toEqual([m, n]);
    const evidence = findEquivocation({
      logKey: key(),
      ed25519: nodeEd25519,
      notes: [newer.seal, older.seal],
      consistency: consistencyFrom(b, older, newer),
    });
    expect(evidence?.kind).toBe('inconsistent-trees');
    expect(evidence?.notes[0]).toBe(older.seal);
    const [s1, s2] = verifyEquivocation(roundTrip(evidence), nodeEd25519, key());
    expect([s1.size, s2.size]).toEqual([m, n]);
  });

  it('finds nothing in an honest log, and refuses a proof that does not reach the newer root', () => {
    const log = new LogFixture(ORIGIN, nodeEd25519);
    const p0 = log.sealPart([sampleEntry(0), sampleEntry(1), sampleEntry(2)]);
    const p1 = log.sealPart([sampleEntry(3), sampleEntry(4)]);
    const consistency = consistencyFrom(log, p0, p1);
    expect(
      findEquivocation({ logKey: key(), ed25519: nodeEd25519, notes: [p0.seal, p1.seal], consistency }),
    ).toBeUndefined();
    expect(
      findEquivocation({ logKey: key(), ed25519: nodeEd25519, notes: [p0.seal, p1.seal] }),
    ).toBeUndefined();
    expect(
      findEquivocation({ logKey: key(), ed25519: nodeEd25519, notes: [p1.seal, p1.seal] }),
    ).toBeUndefined();
    const bogus = { rootAtOlderSize: new Uint8Array(32), proof: consistency.proof };
    expect(() =>
      findEquivocation({
        logKey: key(),
        ed25519: nodeEd25519,
        notes: [p0.seal, p1.seal],
        consistency: bogus,
      }),
    ).toThrow(code('proof.invalid'));
    // Presenting the honest pair as "inconsistent" does not convict.
    const fake = {
      kind: 'inconsistent-trees',
      verifierKey: key().text,
      origin: ORIGIN,
      notes: [p0.seal, p1.seal],
      rootAtOlderSize: toBase64(consistency.rootAtOlderSize),
      proof: consistency.proof.map(toBase64),
    };
    expect(() => verifyEquivocation(fake, nodeEd25519, key())).toThrow(code('evidence.invalid'));
    expect(() =>
      verifyEquivocation({ ...fake, kind: 'same-part', notes: [p1.seal, p1.seal] }, nodeEd25519, key()),
    ).toThrow(code('evidence.invalid'));
  });

  it('refuses evidence that was tampered with or is about another key', () => {
    const { partsA, partsB, b } = fork(4, [6], [4, 5]);
    const evidence = findEquivocation({
      logKey: key(),
      ed25519: nodeEd25519,
      notes: [partsA[0]!.seal, partsB[1]!.seal],
      consistency: consistencyFrom(b, partsA[0]!, partsB[1]!),
    }) as Extract<EquivocationEvidence, { kind: 'inconsistent-trees' }>;
    const bad = (patch: Partial<typeof evidence>) => ({ ...evidence, ...patch });
    const flipped = (s: string) =>
      toBase64(Uint8Array.from(atob(s), (c, i) => c.charCodeAt(0) ^ (i === 0 ? 1 : 0)));
    const otherKey = logSigner(ORIGIN, nodeEd25519, 'someone-else').verifierKey;
    for (const tampered of [
      bad({ notes: [evidence.notes[1], evidence.notes[0]] }),
      bad({ notes: [evidence.notes[0].replace('part 0', 'part 9'), evidence.notes[1]] }),
      bad({ rootAtOlderSize: flipped(evidence.rootAtOlderSize) }),
      bad({ proof: [flipped(evidence.proof[0]!), ...evidence.proof.slice(1)] }),
      bad({ proof: evidence.proof.slice(1) }),
      bad({ origin: 'portal-b.example/log' }),
    ]) {
      expect(() => verifyEquivocation(tampered, nodeEd25519, key())).toThrow(code('evidence.invalid'));
    }
    expect(() => verifyEquivocation(evidence, nodeEd25519, otherKey)).toThrow(code('evidence.invalid'));
    expect(() => verifyEquivocation(bad({ verifierKey: otherKey.text }), nodeEd25519)).toThrow(
      code('evidence.invalid'),
    );
    for (const junk of [
      null,
      'x',
      {},
      { ...evidence, kind: 'other' },
      { ...evidence, notes: [evidence.notes[0]] },
      bad({ proof: ['@@@@'] }),
    ]) {
      expect(() => verifyEquivocation(junk, nodeEd25519, key())).toThrow(code('evidence.malformed'));
    }
  });

  it('convicts every fork, whatever the sizes (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 39 }),
        fc.integer({ min: 0, max: 40 }),
        (m, c, extra) => {
          const common = Math.min(c, m - 1);
          const { partsA, partsB, b } = fork(common, [m], [m, extra]);
          const [older, newer] = [partsA[0]!, partsB[1]!];
          const evidence = findEquivocation({
            logKey: key(),
            ed25519: nodeEd25519,
            notes: [older.seal, newer.seal],
            consistency: consistencyFrom(b, older, newer),
          });
          expect(evidence?.kind).toBe('inconsistent-trees');
          verifyEquivocation(roundTrip(evidence), nodeEd25519, key());
        },
      ),
      { numRuns: 60 },
    );
  });
});
