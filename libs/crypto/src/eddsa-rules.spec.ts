import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519';
import { ED448_TORSION_SUBGROUP, ed448 } from '@noble/curves/ed448';
import fc from 'fast-check';
import { fromHex } from './bytes';
import { acceptablePublicKey, acceptableSignatureEncoding } from './eddsa-rules';
import type { SignatureAlgorithm } from './signature-scheme';

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

/**
 * Rules 2 and 3 on integers, as eddsa-rules.ts first wrote them: the reference that the byte-wise
 * `acceptableSignatureEncoding` (issue #17) must agree with on every signature of the right length.
 */
const CURVES = {
  Ed25519: { p: 2n ** 255n - 19n, n: ed25519.Point.Fn.ORDER, half: 32, torsion: ED25519_TORSION_SUBGROUP },
  Ed448: {
    p: 2n ** 448n - 2n ** 224n - 1n,
    n: ed448.Point.Fn.ORDER,
    half: 57,
    torsion: ED448_TORSION_SUBGROUP,
  },
} as const;
const integer = (bytes: Uint8Array): bigint =>
  bytes.reduceRight((value, byte) => (value << 8n) | BigInt(byte), 0n);
const yOf = (bytes: Uint8Array): bigint => {
  const copy = bytes.slice();
  copy[copy.length - 1]! &= 0x7f;
  return integer(copy);
};
const bytesOf = (value: bigint, length: number): Uint8Array =>
  Uint8Array.from({ length }, (_, i) => Number((value >> BigInt(8 * i)) & 0xffn));

function encodingReference(algorithm: SignatureAlgorithm, signature: Uint8Array): boolean {
  const { p, n, half, torsion } = CURVES[algorithm];
  const smallOrderY = new Set(torsion.map((h) => yOf(fromHex(h) as Uint8Array)));
  const y = yOf(signature.subarray(0, half));
  return y < p && !smallOrderY.has(y) && integer(signature.subarray(half)) < n;
}

describe('acceptableSignatureEncoding on bytes agrees with the integers (issue #17)', () => {
  for (const algorithm of ['Ed25519', 'Ed448'] as const) {
    const { p, n, half, torsion } = CURVES[algorithm];
    // R's y and S at the edges of the rules, each with and without the x sign bit.
    const edgeR = [
      ...[0n, 1n, 2n, p - 2n, p - 1n, p, p + 1n, 2n ** BigInt(8 * half - 1) - 1n].map((v) =>
        bytesOf(v, half),
      ),
      ...torsion.map((h) => fromHex(h) as Uint8Array),
    ].flatMap((r) => {
      const signed = r.slice();
      signed[half - 1]! |= 0x80;
      return [r, signed];
    });
    const edgeS = [0n, 1n, n - 2n, n - 1n, n, n + 1n, 2n ** BigInt(8 * half) - 1n].map((v) =>
      bytesOf(v, half),
    );
    const signature = (r: Uint8Array, s: Uint8Array): Uint8Array => {
      const out = new Uint8Array(2 * half);
      out.set(r);
      out.set(s, half);
      return out;
    };

    it(`${algorithm}: every pair of edge values`, () => {
      let accepted = 0;
      for (const r of edgeR)
        for (const s of edgeS) {
          const sig = signature(r, s);
          const expected = encodingReference(algorithm, sig);
          expect([Buffer.from(sig).toString('hex'), acceptableSignatureEncoding(algorithm, sig)]).toEqual([
            Buffer.from(sig).toString('hex'),
            expected,
          ]);
          if (expected) accepted++;
        }
      // Both answers occur: the edges are on both sides of each rule.
      expect(accepted).toBeGreaterThan(0);
      expect(accepted).toBeLessThan(edgeR.length * edgeS.length);
    });

    it(`${algorithm}: random signatures, and random ones near the bounds`, () => {
      const near = (bound: bigint) =>
        fc.bigInt({ min: bound - 300n, max: bound + 300n }).map((v) => bytesOf(v < 0n ? 0n : v, half));
      const anyHalf = fc.uint8Array({ minLength: half, maxLength: half });
      fc.assert(
        fc.property(fc.oneof(anyHalf, near(p)), fc.oneof(anyHalf, near(n)), fc.boolean(), (r, s, sign) => {
          const rr = r.slice();
          if (sign) rr[half - 1]! |= 0x80;
          const sig = signature(rr, s);
          return acceptableSignatureEncoding(algorithm, sig) === encodingReference(algorithm, sig);
        }),
        { numRuns: 2000 },
      );
    });

    it(`${algorithm}: honest signatures pass`, () => {
      const curve = algorithm === 'Ed25519' ? ed25519 : ed448;
      for (let i = 0; i < 8; i++) {
        const sig = curve.sign(Uint8Array.of(i), curve.utils.randomSecretKey());
        expect(acceptableSignatureEncoding(algorithm, sig)).toBe(true);
      }
    });
  }

  it('refuses a signature of another length than the algorithm’s', () => {
    expect(acceptableSignatureEncoding('Ed25519', new Uint8Array(63))).toBe(false);
    expect(acceptableSignatureEncoding('Ed448', new Uint8Array(64))).toBe(false);
  });
});
