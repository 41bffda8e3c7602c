import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { codeOf } from '../test/error-code';
import vectors from '../testdata/content-digest.json';
import { fromHex, toHex, utf8 } from './bytes';
import {
  compressionLevel,
  contentDigestBinary,
  contentDigestMatches,
  contentDigestUdf,
  typedContentDigest,
} from './content-digest';
import type { DigestAlgorithm } from './digest-algorithm';
import { parseUdf } from './udf';

const hex = (text: string): Uint8Array => fromHex(text) as Uint8Array;
const algorithms: DigestAlgorithm[] = ['SHA-2-512', 'SHA-3-512'];

interface DigestVector {
  source: string;
  algorithm: string;
  contentType: string;
  dataHex: string;
  typedContentDigestHex?: string;
  binaryPrefixHex?: string;
  compression: number;
  udf: string;
  precisions?: Record<string, string>;
}

describe('content digest UDF: draft vectors (testdata/content-digest.json)', () => {
  for (const v of vectors.vectors as DigestVector[]) {
    const algorithm = v.algorithm as DigestAlgorithm;
    describe(v.source, () => {
      const data = hex(v.dataHex);

      it(`is ${v.udf} at 140 bits`, () => {
        expect(contentDigestUdf(data, v.contentType, { algorithm })).toBe(v.udf);
        expect(contentDigestMatches(v.udf, data, v.contentType)).toBe(true);
      });

      it('has the published intermediate values', () => {
        const tcdv = typedContentDigest(data, v.contentType, algorithm);
        if (v.typedContentDigestHex !== undefined) expect(toHex(tcdv)).toBe(v.typedContentDigestHex);
        expect(compressionLevel(tcdv)).toBe(v.compression);
        const binary = contentDigestBinary(data, v.contentType, algorithm);
        expect(binary).toHaveLength(65);
        if (v.binaryPrefixHex !== undefined) expect(toHex(binary).startsWith(v.binaryPrefixHex)).toBe(true);
      });

      if (v.precisions !== undefined) {
        it.each(Object.entries(v.precisions))('at %s bits is %s', (bits, udf) => {
          expect(contentDigestUdf(data, v.contentType, { algorithm, bits: Number(bits) })).toBe(udf);
        });
      }
    });
  }
});

describe('compressionLevel (§5.1.3 as corrected: trailing zero bits at the end)', () => {
  function withTrailingZeros(zeros: number): Uint8Array {
    const tcdv = new Uint8Array(64).fill(0xff);
    for (let bit = 0; bit < zeros; bit++) {
      const index = 63 - Math.floor(bit / 8);
      tcdv[index] = (tcdv[index] as number) & ~(1 << (bit % 8));
    }
    return tcdv;
  }

  it.each([
    [0, 0],
    [19, 0],
    [20, 1],
    [29, 1],
    [30, 2],
    [39, 2],
    [40, 3],
    [49, 3],
    [50, 4],
    [511, 4],
    [512, 4],
  ])('%d trailing zero bits give level %d', (zeros, level) => {
    expect(compressionLevel(withTrailingZeros(zeros))).toBe(level);
  });

  it('ignores zeros at the start', () => {
    const tcdv = new Uint8Array(64);
    tcdv[63] = 1;
    expect(compressionLevel(tcdv)).toBe(0);
  });
});

describe('contentDigestUdf', () => {
  it('agrees with node:crypto on arbitrary content (differential)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.string({ minLength: 1 }),
        fc.constantFrom(...algorithms),
        (data, type, algorithm) => {
          const h = (bytes: Uint8Array): Buffer =>
            createHash(algorithm === 'SHA-2-512' ? 'sha512' : 'sha3-512')
              .update(bytes)
              .digest();
          const tcdv = h(Buffer.concat([Buffer.from(`${type}:`), h(data)]));
          expect(toHex(typedContentDigest(data, type, algorithm))).toBe(tcdv.toString('hex'));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('gives a prefix of the higher precision at any lower precision (property)', () => {
    const precision = fc.integer({ min: 5, max: 26 }).map((n) => n * 20);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.string({ minLength: 1 }),
        fc.constantFrom(...algorithms),
        precision,
        precision,
        (data, type, algorithm, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const short = contentDigestUdf(data, type, { algorithm, bits: low });
          const long = contentDigestUdf(data, type, { algorithm, bits: high });
          expect(long.startsWith(short)).toBe(true);
          expect(parseUdf(short).bits).toBe(low);
          expect(contentDigestMatches(short, data, type)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('defaults to SHA-2-512 at 140 bits', () => {
    const udf = contentDigestUdf(utf8('x'), 'text/plain');
    expect(udf).toMatch(/^M[A-Z2-7]{3}(-[A-Z2-7]{4}){6}$/);
    expect(contentDigestUdf(utf8('x'), 'text/plain', { algorithm: 'SHA-3-512' })).toMatch(/^K/);
  });

  it('binds the Content-ID (§3.3)', () => {
    const data = utf8('UDF Data Value');
    expect(contentDigestUdf(data, 'text/plain')).not.toBe(contentDigestUdf(data, 'text/html'));
    expect(contentDigestMatches('MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF', data, 'text/html')).toBe(false);
  });

  it.each([
    ['an empty Content-ID', () => contentDigestUdf(utf8('x'), ''), 'input.invalid'],
    [
      'data that is not bytes',
      () => contentDigestUdf('x' as unknown as Uint8Array, 'text/plain'),
      'input.invalid',
    ],
    [
      'an unknown algorithm',
      () => contentDigestUdf(utf8('x'), 'a', { algorithm: 'MD5' as DigestAlgorithm }),
      'input.invalid',
    ],
    [
      'a precision that is not a multiple of 20',
      () => contentDigestUdf(utf8('x'), 'a', { bits: 128 }),
      'udf.bad-precision',
    ],
    ['a precision above 520', () => contentDigestUdf(utf8('x'), 'a', { bits: 540 }), 'udf.bad-precision'],
    [
      'a share where a digest is needed',
      () => contentDigestMatches('SAYC-UW4N-56UI-VTTZ-62UN-J6FP-ETD3-O', utf8('x'), 'a'),
      'udf.wrong-type',
    ],
  ])('rejects %s', (_what, action, code) => {
    expect(codeOf(action)).toBe(code);
  });
});
