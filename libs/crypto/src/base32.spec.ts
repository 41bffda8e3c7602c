import fc from 'fast-check';
import { base32Decode, base32Encode } from './base32';

describe('base32', () => {
  // RFC 4648 §10 test vectors, without the '=' padding UDFs never carry.
  it.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('encodes %j as %s (RFC 4648 §10)', (text, encoded) => {
    const bytes = new TextEncoder().encode(text);
    expect(base32Encode(bytes)).toBe(encoded);
    const decoded = base32Decode(encoded);
    expect(decoded && Array.from(decoded.bytes)).toEqual(Array.from(bytes));
    expect(decoded?.leftoverZero).toBe(true);
  });

  it('truncates by whole characters and decodes any case', () => {
    const bytes = Uint8Array.from([0xff, 0x00, 0xff]);
    expect(base32Encode(bytes, 3)).toBe('74A');
    expect(base32Encode(bytes, 4)).toBe('74AP');
    expect(base32Decode('74ap')?.bytes).toEqual(Uint8Array.from([0xff, 0x00]));
  });

  it('refuses more characters than the bytes hold', () => {
    expect(() => base32Encode(Uint8Array.of(1), 3)).toThrow(RangeError);
  });

  it('rejects characters outside the alphabet', () => {
    for (const text of ['MZ1Q', 'MZ0Q', 'MZ8Q', 'MZ-Q', 'MZ=Q', 'MZ Q', 'MZÄQ'])
      expect(base32Decode(text)).toBeUndefined();
  });

  it('reports non-zero leftover bits', () => {
    expect(base32Decode('MZ')).toMatchObject({ leftoverBits: 2, leftoverZero: false });
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const decoded = base32Decode(base32Encode(bytes));
        expect(decoded?.bytes).toEqual(bytes);
        expect(decoded?.leftoverZero).toBe(true);
      }),
    );
  });
});
