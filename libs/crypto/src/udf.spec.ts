import { codeOf } from '../test/error-code';
import fc from 'fast-check';
import { groupUdfCharacters, parseUdf, presentFingerprint, udfKindOf, udfMatches } from './udf';

const SHA2 = 'MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF'; // draft §5.1.6
const SHARE = 'SAYC-UW4N-56UI-VTTZ-62UN-J6FP-ETD3-O'; // draft §4.5

describe('parseUdf', () => {
  it('reads the canonical presentation', () => {
    const udf = parseUdf(SHA2);
    expect(udf).toMatchObject({ text: SHA2, type: 96, kind: 'content-digest', bits: 140 });
    expect(udf.characters).toBe(SHA2.replace(/-/g, ''));
    expect(udf.bytes[0]).toBe(0x60);
  });

  it('is case-insensitive and tolerant of missing or regrouped dashes', () => {
    for (const text of [
      SHA2.toLowerCase(),
      SHA2.replace(/-/g, ''),
      'mddk7n6a-727ajzno-strxxks7-djaf',
      'MDDK7-N6A72-7AJZN-OSTRX-XKS7D-JAF',
    ]) {
      expect(parseUdf(text).text).toBe(SHA2);
    }
  });

  it('reads fixed-length UDFs whole', () => {
    const share = parseUdf(SHARE);
    expect(share).toMatchObject({ kind: 'share', type: 144, bits: 18 * 8 });
    expect(share.bytes.length).toBe(18);
  });

  it('accepts the 125-bit, 5-grouped presentation of 002_17b4bc3c2303ddb1.txt §3.3.3', () => {
    expect(parseUdf('MB2GK-6DUF5-YGYYL-JNY5E-RWSHZ')).toMatchObject({ kind: 'content-digest', bits: 125 });
  });

  it.each([
    ['', 'udf.malformed'],
    ['MDDK--7N6A', 'udf.malformed'],
    ['-MDDK', 'udf.malformed'],
    ['MDDK-', 'udf.malformed'],
    ['MDDK 7N6A', 'udf.malformed'],
    ['MDD1-7N6A-727A-JZNO-STRX', 'udf.malformed'],
    ['MDD0-7N6A-727A-JZNO-STRX', 'udf.malformed'],
    ['M', 'udf.bad-length'],
    ['MDDK-7N6A-727A-JZNO-STR', 'udf.bad-length'], // 19 characters: below 100 bits
    [`M${'A'.repeat(104)}`, 'udf.bad-length'], // beyond 520 bits
    ['7777-7777-7777-7777-7777', 'udf.unknown-type'],
    ['CAAA-AAAA-AAAA-AAAA-AAAA', 'udf.unknown-type'], // type 16
    [`${SHARE}A`, 'udf.bad-length'], // a character of pure padding
    [SHARE.replace(/O$/, 'P'), 'udf.bad-length'], // non-zero padding bit
  ])('rejects %j with %s', (text, code) => {
    expect(codeOf(() => parseUdf(text))).toBe(code);
  });

  it('rejects a non-string', () => {
    expect(codeOf(() => parseUdf(42 as unknown as string))).toBe('udf.malformed');
  });
});

describe('udfKindOf', () => {
  it.each([
    [0, 'authenticator'],
    [1, 'authenticator'],
    [32, 'encryption'],
    [80, 'content-digest'],
    [84, 'content-digest'],
    [85, undefined],
    [96, 'content-digest'],
    [100, 'content-digest'],
    [101, undefined],
    [104, 'nonce'],
    [112, 'oid-sequence'],
    [144, 'share'],
    [200, 'seed'],
    [255, undefined],
  ])('type %d is %s (§3.2)', (type, kind) => {
    expect(udfKindOf(type)).toBe(kind);
  });
});

describe('presentFingerprint', () => {
  const binary = new Uint8Array(65).fill(0x60);

  it.each([100, 120, 140, 260, 520])('presents %d bits as bits/5 characters in groups of 4', (bits) => {
    const text = presentFingerprint(binary, bits);
    expect(text.replace(/-/g, '')).toHaveLength(bits / 5);
    expect(text).toMatch(/^([A-Z2-7]{4}-)*[A-Z2-7]{4}$/);
  });

  it.each([0, 80, 99, 130, 540, 140.5, Number.NaN])('refuses %d bits', (bits) => {
    expect(codeOf(() => presentFingerprint(binary, bits))).toBe('udf.bad-precision');
  });

  it('refuses more bits than the sequence has', () => {
    expect(codeOf(() => presentFingerprint(binary.subarray(0, 20), 200))).toBe('udf.bad-precision');
  });
});

describe('udfMatches', () => {
  const long = 'MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF-XI6O-ZSLU-2VOA';

  it('matches when the shorter is a prefix of the longer (§3.4, §5)', () => {
    expect(udfMatches(SHA2, long)).toBe(true);
    expect(udfMatches(long, SHA2)).toBe(true);
    expect(udfMatches(SHA2.toLowerCase().replace(/-/g, ''), SHA2)).toBe(true);
    expect(udfMatches('MDDK-7N6A-727A-JZNO-STRX', long)).toBe(true);
  });

  it('does not match different fingerprints', () => {
    expect(udfMatches(SHA2, 'MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAG')).toBe(false);
    expect(udfMatches(SHA2, 'KCFI-NCQG-DRKG-47R7-OVPT-TCHZ-7UXY')).toBe(false);
  });

  it('matches fixed-length UDFs only when equal', () => {
    expect(udfMatches(SHARE, SHARE.toLowerCase())).toBe(true);
    expect(udfMatches(SHARE, 'SAY6-OXXE-SUNL-KUMX-3ZG6-TRDW-UDAK-Y')).toBe(false);
  });

  it('throws on malformed input', () => {
    expect(codeOf(() => udfMatches(SHA2, 'not a udf'))).toBe('udf.malformed');
  });
});

describe('groupUdfCharacters', () => {
  it('puts a dash between groups of four, and none at either end', () => {
    expect(['', 'A', 'ABCD', 'ABCDE', 'ABCDEFGH', 'ABCDEFGHI'].map(groupUdfCharacters)).toEqual([
      '',
      'A',
      'ABCD',
      'ABCD-E',
      'ABCD-EFGH',
      'ABCD-EFGH-I',
    ]);
  });

  it("groups as the draft's rule does, for any text (property)", () => {
    // The rule written as a regular expression, as it was before the loop (§3.1).
    const reference = (text: string) => text.replace(/(.{4})(?=.)/g, '$1-');
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z2-7]{0,120}$/), (text) => {
        expect(groupUdfCharacters(text)).toBe(reference(text));
      }),
    );
  });
});
