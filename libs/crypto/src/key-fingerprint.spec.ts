import { codeOf } from '../test/error-code';
import keys from '../testdata/keys.json';
import { fromHex } from './bytes';
import { contentDigestUdf } from './content-digest';
import { KeyAlgorithm } from './key-algorithm';
import { KEY_CONTENT_ID, keyMatchesUdf, keyUdf } from './key-fingerprint';
import { encodeSpki } from './spki';

const hex = (text: string): Uint8Array => fromHex(text) as Uint8Array;

describe('key fingerprint (DESIGN.md "Profiles and keys")', () => {
  for (const v of keys.vectors) {
    const algorithm = v.algorithm as KeyAlgorithm;
    const publicKey = hex(v.publicKeyHex);

    it(`is ${v.keyUdf} for the ${algorithm} key of ${v.source.split(';')[0]}`, () => {
      expect(keyUdf(algorithm, publicKey)).toBe(v.keyUdf);
      expect(keyUdf(algorithm, publicKey, { bits: 520 })).toBe(v.keyUdf520);
      expect(keyMatchesUdf(v.keyUdf, algorithm, publicKey)).toBe(true);
      expect(keyMatchesUdf(v.keyUdf.slice(0, 24), algorithm, publicKey)).toBe(true);
    });
  }

  it('is the PKIXKey content digest of the SPKI DER', () => {
    const v = keys.vectors[0] as (typeof keys.vectors)[number];
    expect(keyUdf('Ed25519', hex(v.publicKeyHex))).toBe(
      contentDigestUdf(encodeSpki('Ed25519', hex(v.publicKeyHex)), KEY_CONTENT_ID),
    );
  });

  it('tells keys and algorithms apart', () => {
    const key = new Uint8Array(32).fill(9);
    expect(keyUdf('Ed25519', key)).not.toBe(keyUdf('X25519', key));
    expect(keyMatchesUdf(keyUdf('Ed25519', key), 'X25519', key)).toBe(false);
  });

  it.each([
    ['a wrong-length key', () => keyUdf('Ed448', new Uint8Array(32)), 'key.malformed'],
    [
      'an unknown algorithm',
      () => keyUdf('RSA' as KeyAlgorithm, new Uint8Array(32)),
      'key.unsupported-algorithm',
    ],
    [
      'a SHA-3 UDF',
      () => keyMatchesUdf('KCFI-NCQG-DRKG-47R7-OVPT-TCHZ-7UXY', 'Ed25519', new Uint8Array(32)),
      'udf.wrong-type',
    ],
    [
      'a UDF too short to compare',
      () => keyMatchesUdf('MDDK-7N6A', 'Ed25519', new Uint8Array(32)),
      'udf.bad-length',
    ],
  ])('rejects %s', (_what, action, code) => {
    expect(codeOf(action)).toBe(code);
  });
});
