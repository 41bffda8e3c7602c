import { codeOf } from '../test/error-code';
import vectors from '../testdata/account.json';
import { CryptoError } from './crypto-error';
import { formatMeshUri, parseMeshUri } from './mesh-uri';

const FINGERPRINT = 'MBEN-CDWX-PPBH-FELK-CNRD-SWGJ-VF7F';

describe('mmm: URIs (002_17b4bc3c2303ddb1.txt §3.3.3)', () => {
  for (const v of vectors.vectors) {
    it(`formats ${v.meshUri}`, () => {
      expect(formatMeshUri({ fingerprint: FINGERPRINT, account: v.address })).toBe(v.meshUri);
      expect(parseMeshUri(v.meshUri).account?.address).toBe(v.normalised);
    });
  }

  it('parses the fingerprint-only form', () => {
    expect(parseMeshUri(`mmm:${FINGERPRINT}`)).toEqual({ fingerprint: FINGERPRINT });
  });

  it('is case-insensitive in the scheme and the fingerprint, and canonicalises', () => {
    const uri = parseMeshUri(`MMM:${FINGERPRINT.toLowerCase().replace(/-/g, '')}:Alice@Example.com`);
    expect(uri.fingerprint).toBe(FINGERPRINT);
    expect(uri.account).toEqual({ user: 'alice', domain: 'example.com', address: 'alice@example.com' });
    expect(formatMeshUri({ fingerprint: uri.fingerprint, account: uri.account })).toBe(
      `mmm:${FINGERPRINT}:alice@example.com`,
    );
  });

  it("reads the draft's own example (5-character groups, 125 bits)", () => {
    const uri = parseMeshUri('mmm:MB2GK-6DUF5-YGYYL-JNY5E-RWSHZ:alice@cryptomesh.org');
    expect(uri.fingerprint).toBe('MB2G-K6DU-F5YG-YYLJ-NY5E-RWSH-Z');
    expect(uri.account?.address).toBe('alice@cryptomesh.org');
  });

  it.each([
    ['', undefined],
    ['udf:MBEN-CDWX-PPBH-FELK-CNRD-SWGJ-VF7F', undefined],
    ['mmm:', undefined],
    ['mmm::alice@example.com', undefined],
    [`mmm:${FINGERPRINT}:`, 'account.malformed'],
    [`mmm:${FINGERPRINT}:alice`, 'account.malformed'],
    [`mmm:${FINGERPRINT}:alice@example.com:x`, undefined],
    [`mmm:${FINGERPRINT}:alice%40example.com`, 'account.malformed'],
    ['mmm:MBEN-CDWX:alice@example.com', 'udf.bad-length'],
    ['mmm:SAYC-UW4N-56UI-VTTZ-62UN-J6FP-ETD3-O', 'udf.wrong-type'],
    ['mmm:not_a_fingerprint', 'udf.malformed'],
    ['mmm:not-a-fingerprint', 'udf.unknown-type'],
    [` mmm:${FINGERPRINT}`, undefined],
  ])('rejects %j (cause %s)', (text, causeCode) => {
    let error: unknown;
    try {
      parseMeshUri(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CryptoError);
    expect((error as CryptoError).code).toBe('uri.malformed');
    const cause = (error as CryptoError).cause;
    expect(cause instanceof CryptoError ? cause.code : undefined).toBe(causeCode);
  });

  it('refuses to format a bad URI', () => {
    expect(codeOf(() => formatMeshUri({ fingerprint: 'nope', account: 'alice@example.com' }))).toBe(
      'uri.malformed',
    );
  });
});
