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

  it('rejects base64url that is not canonical', () => {
    expect(fromBase64Url('AAA=')).toBeUndefined(); // padding
    expect(fromBase64Url('AA+/')).toBeUndefined(); // base64, not base64url
    expect(fromBase64Url('A')).toBeUndefined(); // impossible length
    expect(fromBase64Url('AB')).toBeUndefined(); // non-zero unused bits
    expect(fromBase64Url('AA')).toEqual(Uint8Array.of(0));
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
