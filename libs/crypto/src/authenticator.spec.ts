import { codeOf } from '../test/error-code';
import vectors from '../testdata/authenticator.json';
import { authenticatorBinary, authenticatorKey, authenticatorUdf } from './authenticator';
import { fromHex, toHex, utf8 } from './bytes';
import { contentDigestUdf } from './content-digest';
import { parseUdf } from './udf';

describe('authenticator UDF', () => {
  for (const v of vectors.vectors) {
    describe(v.source, () => {
      const data = fromHex(v.dataHex) as Uint8Array;

      it(`is ${v.udf}`, () => {
        expect(authenticatorUdf(v.key, data, v.contentType)).toBe(v.udf);
      });

      it('derives the published OKM and MAC', () => {
        expect(toHex(authenticatorKey(v.key))).toBe(v.okmHex);
        expect(toHex(authenticatorBinary(v.key, data, v.contentType))).toBe(`00${v.macHex}`);
      });
    });
  }

  it('uses the key string exactly as given (§5.2)', () => {
    const data = utf8('Konrad is the traitor');
    const udf = authenticatorUdf('NDD7-6CMX-H2FW-ISAL-K4VB-DQ3E-PEDM', data, 'text/plain');
    expect(authenticatorUdf('NDD76CMXH2FWISALK4VBDQ3EPEDM', data, 'text/plain')).not.toBe(udf);
    expect(authenticatorUdf('ndd7-6cmx-h2fw-isal-k4vb-dq3e-pedm', data, 'text/plain')).not.toBe(udf);
  });

  it('is type 1 under HMAC-SHA-3-512 and parses as an authenticator', () => {
    const udf = authenticatorUdf('key', utf8('x'), 'text/plain', { algorithm: 'SHA-3-512', bits: 200 });
    expect(parseUdf(udf)).toMatchObject({ type: 1, kind: 'authenticator', bits: 200 });
  });

  it('is never compressed and differs from the unkeyed digest', () => {
    const udf = authenticatorUdf('key', utf8('x'), 'text/plain');
    expect(parseUdf(udf).type).toBe(0);
    expect(udf).not.toBe(contentDigestUdf(utf8('x'), 'text/plain'));
  });

  it('gives a prefix at lower precision', () => {
    const long = authenticatorUdf('key', utf8('x'), 'text/plain', { bits: 520 });
    expect(long.startsWith(authenticatorUdf('key', utf8('x'), 'text/plain', { bits: 100 }))).toBe(true);
  });

  it.each([
    ['an empty key', () => authenticatorUdf('', utf8('x'), 'text/plain'), 'input.invalid'],
    [
      'a binary key',
      () => authenticatorUdf(Uint8Array.of(1) as unknown as string, utf8('x'), 'text/plain'),
      'input.invalid',
    ],
    ['an empty Content-ID', () => authenticatorUdf('k', utf8('x'), ''), 'input.invalid'],
    [
      'a bad precision',
      () => authenticatorUdf('k', utf8('x'), 'text/plain', { bits: 90 }),
      'udf.bad-precision',
    ],
  ])('rejects %s', (_what, action, code) => {
    expect(codeOf(action)).toBe(code);
  });
});
