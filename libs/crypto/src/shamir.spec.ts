import fc from 'fast-check';
import { checkPrimeSync } from 'node:crypto';
import { codeOf } from '../test/error-code';
import vectors from '../testdata/shamir.json';
import { bigIntToBytes, fromHex, toHex } from './bytes';
import { CryptoError } from './crypto-error';
import { RandomSource } from './random';
import { formatShare, parseShare, recoverSecret, splitSecret } from './shamir';
import { shamirPrime } from './shamir-prime';
import { base32Encode } from './base32';

const hex = (text: string): Uint8Array => fromHex(text) as Uint8Array;

/** A random source that returns the given byte strings in turn, then fails the test. */
function scripted(...chunks: Uint8Array[]): RandomSource {
  return (length) => {
    const next = chunks.shift();
    if (next === undefined || next.length !== length) throw new Error(`unexpected draw of ${length} bytes`);
    return next;
  };
}

/** Every k-element subset of `items`. */
function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  return items.flatMap((item, i) => subsets(items.slice(i + 1), k - 1).map((rest) => [item, ...rest]));
}

interface SplitVector {
  source: string;
  secretHex: string;
  secretBase32: string;
  threshold: number;
  coefficients?: string[];
  shares: string[];
}

describe('Shamir secret sharing: draft vectors (testdata/shamir.json)', () => {
  for (const v of vectors.vectors as SplitVector[]) {
    describe(v.source, () => {
      const secret = hex(v.secretHex);

      it('has the published Base32 form of the secret', () => {
        expect(base32Encode(secret).replace(/(.{4})(?=.)/g, '$1-')).toBe(v.secretBase32);
      });

      if (v.coefficients !== undefined) {
        const coefficients = v.coefficients;
        it('splits into exactly the published shares with the published coefficients', () => {
          const random = scripted(
            ...coefficients.slice(1).map((a) => bigIntToBytes(BigInt(a), secret.length)),
          );
          expect(splitSecret(secret, { threshold: v.threshold, shares: v.shares.length }, random)).toEqual(
            v.shares,
          );
        });
      }

      it.each(subsets(v.shares, v.threshold))('recovers the secret from %s + …', (...shares) => {
        expect(toHex(recoverSecret(shares))).toBe(v.secretHex);
        expect(
          toHex(recoverSecret([...shares].reverse().map((s) => s.toLowerCase().replace(/-/g, '')))),
        ).toBe(v.secretHex);
      });

      it('recovers from all shares, the surplus checked', () => {
        expect(toHex(recoverSecret(v.shares))).toBe(v.secretHex);
      });

      it('does not recover from one share fewer than the threshold', () => {
        expect(codeOf(() => recoverSecret(v.shares.slice(0, v.threshold - 1)))).toBe('shamir.too-few-shares');
      });
    });
  }

  it('decodes the §4.5 share bytes', () => {
    const v = vectors.vectors[0] as SplitVector & { shareBytesHex: string[] };
    v.shares.forEach((share, i) => {
      const parsed = parseShare(share);
      expect(parsed).toMatchObject({ threshold: 3, x: i + 1 });
      expect(toHex(parsed.value)).toBe(v.shareBytesHex[i]?.slice(2));
      expect(formatShare(parsed)).toBe(share);
    });
  });
});

describe('the primes of Appendix A', () => {
  it('match testdata/shamir.json', () => {
    vectors.primes.offsetsByBytes.forEach((offset, i) => {
      expect(shamirPrime(i + 1)).toBe((1n << BigInt(8 * (i + 1))) + BigInt(offset));
    });
  });

  it.each([68, 128])(
    'are computed above the table (%d bytes) as the next prime, confirmed by OpenSSL',
    (bytes) => {
      const prime = shamirPrime(bytes);
      const base = 1n << BigInt(8 * bytes);
      expect(checkPrimeSync(prime)).toBe(true);
      for (let candidate = base + 1n; candidate < prime; candidate += 2n)
        expect(checkPrimeSync(candidate)).toBe(false);
    },
  );
});

describe('splitSecret and recoverSecret', () => {
  const secretArb = fc
    .integer({ min: 1, max: 16 })
    .chain((words) => fc.uint8Array({ minLength: 4 * words, maxLength: 4 * words }));
  const parameters = fc
    .integer({ min: 2, max: 15 })
    .chain((threshold) =>
      fc.record({ threshold: fc.constant(threshold), shares: fc.integer({ min: threshold, max: 16 }) }),
    );

  it('recovers from any K of N shares, and K−1 do not suffice (property)', () => {
    fc.assert(
      fc.property(
        secretArb,
        parameters,
        fc.infiniteStream(fc.nat()),
        (secret, { threshold, shares }, picks) => {
          const all = splitSecret(secret, { threshold, shares });
          expect(all).toHaveLength(shares);
          const pool = [...all];
          const chosen: string[] = [];
          for (const pick of picks) {
            if (chosen.length === threshold) break;
            chosen.push(pool.splice(pick % pool.length, 1)[0] as string);
          }
          expect(recoverSecret(chosen)).toEqual(secret);
          expect(codeOf(() => recoverSecret(chosen.slice(1)))).toBe('shamir.too-few-shares');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is deterministic given the random source, and every share fits the encoding', () => {
    const random: RandomSource = (n) => new Uint8Array(n).fill(0xab);
    const a = splitSecret(hex('00112233'), { threshold: 3, shares: 16 }, random);
    expect(splitSecret(hex('00112233'), { threshold: 3, shares: 16 }, random)).toEqual(a);
    expect(a.map((s) => parseShare(s).x)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('discards a polynomial whose share overflows 2^L and draws another (§4.5)', () => {
    // a0 = 2^32 − 1, a1 = 1: f(1) = 2^32, between 2^32 and p = 2^32 + 15, so it cannot be encoded.
    const random = scripted(hex('00000001'), hex('00000000'));
    const shares = splitSecret(hex('ffffffff'), { threshold: 2, shares: 2 }, random);
    expect(shares.map((s) => toHex(parseShare(s).value))).toEqual(['ffffffff', 'ffffffff']);
    expect(toHex(recoverSecret(shares))).toBe('ffffffff');
  });

  it('gives up with random.failed when the random source keeps producing overflows', () => {
    expect(
      codeOf(() => splitSecret(hex('ffffffff'), { threshold: 2, shares: 2 }, () => hex('00000001'))),
    ).toBe('random.failed');
    expect(
      codeOf(() => splitSecret(hex('ffffffff'), { threshold: 2, shares: 2 }, () => new Uint8Array(3))),
    ).toBe('random.failed');
  });

  it.each<[string, Uint8Array, { threshold: number; shares: number }, string]>([
    ['an empty secret', new Uint8Array(0), { threshold: 2, shares: 3 }, 'shamir.bad-secret'],
    ['a 24-bit secret', new Uint8Array(3), { threshold: 2, shares: 3 }, 'shamir.bad-secret'],
    ['a 40-bit secret', new Uint8Array(5), { threshold: 2, shares: 3 }, 'shamir.bad-secret'],
    ['a 2080-bit secret', new Uint8Array(260), { threshold: 2, shares: 3 }, 'shamir.bad-secret'],
    ['threshold 1', new Uint8Array(4), { threshold: 1, shares: 3 }, 'shamir.bad-parameters'],
    ['threshold 16', new Uint8Array(4), { threshold: 16, shares: 16 }, 'shamir.bad-parameters'],
    ['threshold 2.5', new Uint8Array(4), { threshold: 2.5, shares: 3 }, 'shamir.bad-parameters'],
    [
      'fewer shares than the threshold',
      new Uint8Array(4),
      { threshold: 3, shares: 2 },
      'shamir.bad-parameters',
    ],
    ['17 shares', new Uint8Array(4), { threshold: 3, shares: 17 }, 'shamir.bad-parameters'],
  ])('refuses to split %s', (_what, secret, params, code) => {
    expect(codeOf(() => splitSecret(secret, params))).toBe(code);
  });

  describe('refuses to recover from', () => {
    const [s1, s2, s3, s4] = vectors.vectors[0]?.shares as [string, string, string, string];
    const twoOfThree = splitSecret(hex('01020304'), { threshold: 2, shares: 3 });
    const other = splitSecret(hex('8efe6610a594817555e409beeba2f916'), { threshold: 3, shares: 5 });

    it.each<[string, string[], string]>([
      ['no shares', [], 'shamir.too-few-shares'],
      ['two of a 3-threshold split', [s1, s2], 'shamir.too-few-shares'],
      ['the same share twice', [s1, s2, s2], 'shamir.duplicate-share'],
      ['the same share twice in another spelling', [s1, s2, s1.toLowerCase()], 'shamir.duplicate-share'],
      ['shares of different thresholds', [s1, s2, twoOfThree[0] as string], 'shamir.inconsistent-shares'],
      ['two different shares for one x', [s1, s2, s3, other[2] as string], 'shamir.inconsistent-shares'],
      ['a surplus share from another split', [s1, s2, s3, other[3] as string], 'shamir.inconsistent-shares'],
      [
        'shares from two splits, f(0) overflowing or not',
        [s1, s2, other[3] as string, s4],
        'shamir.inconsistent-shares',
      ],
      ['text that is not a UDF', [s1, s2, 'hello world'], 'shamir.malformed-share'],
      ['a content digest UDF', [s1, s2, 'MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF'], 'shamir.malformed-share'],
      [
        'a share of threshold 1',
        [formatShare({ threshold: 1, x: 1, value: new Uint8Array(4) })],
        'shamir.malformed-share',
      ],
      [
        'a share of 3 bytes',
        [formatShare({ threshold: 2, x: 1, value: new Uint8Array(3) })],
        'shamir.malformed-share',
      ],
    ])('%s', (_what, shares, code) => {
      expect(codeOf(() => recoverSecret(shares))).toBe(code);
    });

    it('keeps the UDF error as the cause of a malformed share', () => {
      try {
        recoverSecret(['SAYC-UW4N-!']);
      } catch (error) {
        expect((error as CryptoError).code).toBe('shamir.malformed-share');
        expect(((error as CryptoError).cause as CryptoError).code).toBe('udf.malformed');
      }
      expect.assertions(2);
    });
  });
});
