import fc from 'fast-check';
import { fromBase64, fromHex, parseDecimal, readU64be, toBase64, toHex, u64be } from './bytes';
import { withCode as code } from '../testdata/with-code';

describe('base64 (RFC 4648 §4, canonical)', () => {
  it('round-trips any bytes and agrees with the platform encoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = toBase64(bytes);
        expect(text).toBe(btoa(String.fromCharCode(...bytes)));
        expect(fromBase64(text)).toEqual(bytes);
      }),
    );
  });

  it('encodes inputs longer than one call makes into a string, at every length around its bound', () => {
    // 8,192 characters a call (bytes.ts): 6,144 bytes.
    for (const length of [6143, 6144, 6145, 6146, 12288, 20000, 20001]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + 7) & 0xff);
      const text = toBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect(fromBase64(text)).toEqual(bytes);
    }
  });

  it.each([
    ['bad length', 'AAA'],
    ['outside the alphabet', 'AA-A'],
    ['url alphabet', 'AA_A'],
    ['misplaced padding', 'A=AA'],
    ['three pad characters', 'A==='],
    ['padding bits set (1 byte)', 'AB=='],
    ['padding bits set (2 bytes)', 'AAB='],
    ['whitespace', 'AAAA\n'],
    ['padding in the middle', 'AA==AAAA'],
  ])('rejects %s with encoding.malformed', (_why, text) => {
    expect(() => fromBase64(text)).toThrow(code('encoding.malformed'));
  });
});

describe('numbers', () => {
  it('parses decimals without leading zeros or sign', () => {
    expect(parseDecimal('0')).toBe(0);
    expect(parseDecimal('1234')).toBe(1234);
    for (const bad of ['', '01', '+1', '-1', '1.0', ' 1', '1e3', '9007199254740992', '0x10'])
      expect(parseDecimal(bad)).toBeUndefined();
  });

  it('encodes u64 big-endian', () => {
    expect(toHex(u64be(1727964367))).toBe('0000000066fea4cf');
    expect(readU64be(fromHex('0000000066fea4cf'))).toBe(1727964367);
    expect(readU64be(fromHex('ffffffffffffffff'))).toBeUndefined();
    expect(readU64be(u64be(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('rejects odd or non-hex input', () => {
    expect(() => fromHex('abc')).toThrow(code('encoding.malformed'));
    expect(() => fromHex('zz')).toThrow(code('encoding.malformed'));
  });
});
