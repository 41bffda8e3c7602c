import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519';
import fc from 'fast-check';
import { fromHex } from './bytes';
import { acceptablePublicKey } from './eddsa-rules';

/** Rule 1 computed afresh, without the verdict cache: the reference the cached function must match. */
function reference(publicKey: Uint8Array): boolean {
  try {
    return !ed25519.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    return false;
  }
}

describe('acceptablePublicKey keeps its verdicts (issue #17) and they stay right', () => {
  const torsion = ED25519_TORSION_SUBGROUP.map((h) => fromHex(h) as Uint8Array);
  const honest = Array.from({ length: 4 }, () => ed25519.getPublicKey(ed25519.utils.randomSecretKey()));

  it('refuses every small-order key, asked once or many times', () => {
    for (let round = 0; round < 3; round += 1)
      for (const key of torsion) expect(acceptablePublicKey('Ed25519', key)).toBe(false);
  });

  it('accepts honest keys, asked once or many times', () => {
    for (let round = 0; round < 3; round += 1)
      for (const key of honest) expect(acceptablePublicKey('Ed25519', key)).toBe(true);
  });

  it('agrees with a fresh computation on any 32 bytes, before and after they are cached', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const expected = reference(bytes);
        return (
          acceptablePublicKey('Ed25519', bytes) === expected &&
          acceptablePublicKey('Ed25519', bytes) === expected
        );
      }),
      { numRuns: 300 },
    );
  });

  it('a key mutated after its verdict was kept is judged by its new bytes', () => {
    const key = honest[0]!.slice();
    expect(acceptablePublicKey('Ed25519', key)).toBe(true);
    key.set(torsion[0]!);
    expect(acceptablePublicKey('Ed25519', key)).toBe(false);
  });

  it('stays right past its bound (the oldest verdicts are dropped and computed again)', () => {
    const keys = Array.from({ length: 9_000 }, (_, i) => {
      const bytes = new Uint8Array(32);
      new DataView(bytes.buffer).setUint32(0, i, true);
      return bytes;
    });
    const first = keys.map((k) => acceptablePublicKey('Ed25519', k));
    expect(keys.map((k) => acceptablePublicKey('Ed25519', k))).toEqual(first);
    expect(first.slice(0, 50)).toEqual(keys.slice(0, 50).map(reference));
    for (const key of torsion) expect(acceptablePublicKey('Ed25519', key)).toBe(false);
  });
});
