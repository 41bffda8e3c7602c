import fc from 'fast-check';
import { bigIntToBytes, bytesToBigInt, fromBase64Url, fromHex, toBase64Url, toHex } from './bytes';

describe('bytes', () => {
  it('round-trips base64url against node', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
        const text = toBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(fromBase64Url(text)).toEqual(bytes);
      }),
    );
  });

  it('encodes inputs longer than one call makes into a string, at every length around its bound', () => {
    // 8,192 characters a call (bytes.ts): 6,144 bytes of base64url, 4,096 of hexadecimal.
    for (const length of [6143, 6144, 6145, 12288, 20000, 4095, 4096, 4097, 8193]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + 7) & 0xff);
      expect(toBase64Url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
      expect(toHex(bytes)).toBe(Buffer.from(bytes).toString('hex'));
    }
  });

  it('writes hexadecimal as node does, in lower case', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
        expect(toHex(bytes)).toBe(Buffer.from(bytes).toString('hex'));
      }),
    );
  });

  it('rejects base64url that is not canonical', () => {
    expect(fromBase64Url('AAA=')).toBeUndefined(); // padding
    expect(fromBase64Url('AA+/')).toBeUndefined(); // base64, not base64url
    expect(fromBase64Url('A')).toBeUndefined(); // impossible length
    expect(fromBase64Url('AB')).toBeUndefined(); // non-zero unused bits
    expect(fromBase64Url('AA')).toEqual(Uint8Array.of(0));
    // characters outside ASCII, including those whose low byte is an alphabet letter ('Ł' is U+0141)
    expect(fromBase64Url('AA\u00e9A')).toBeUndefined();
    expect(fromBase64Url('AA\u0141A')).toBeUndefined();
    expect(fromBase64Url('AA\0A')).toBeUndefined();
  });

  it('accepts exactly the strings that are a canonical encoding', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.\u00e9';
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...alphabet), { maxLength: 12 }).map((a) => a.join('')),
        (text) => {
          const decoded = fromBase64Url(text);
          // the reference: Node's decoder is lenient, so a string is canonical when it round-trips
          const canonical =
            /^[A-Za-z0-9_-]*$/.test(text) && Buffer.from(text, 'base64url').toString('base64url') === text;
          expect(decoded === undefined).toBe(!canonical);
          if (decoded !== undefined) expect(Buffer.from(decoded).toString('base64url')).toBe(text);
        },
      ),
    );
  });

  it('round-trips hex and refuses odd or non-hex text', () => {
    expect(toHex(Uint8Array.of(0, 15, 255))).toBe('000fff');
    expect(fromHex('000FfF')).toEqual(Uint8Array.of(0, 15, 255));
    expect(fromHex('abc')).toBeUndefined();
    expect(fromHex('zz')).toBeUndefined();
  });

  it('converts big-endian integers', () => {
    expect(bytesToBigInt(Uint8Array.of(1, 0))).toBe(256n);
    expect(bytesToBigInt(new Uint8Array(0))).toBe(0n);
    expect(bigIntToBytes(256n, 3)).toEqual(Uint8Array.of(0, 1, 0));
    expect(() => bigIntToBytes(1n << 24n, 3)).toThrow(RangeError);
  });
});
