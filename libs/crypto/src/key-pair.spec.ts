import { codeOf } from '../test/error-code';
import keys from '../testdata/keys.json';
import { fromHex, toHex } from './bytes';
import { KEY_ALGORITHMS, KeyAlgorithm } from './key-algorithm';
import { generateKeyPair, publicKeyOf } from './key-pair';

describe('key pairs', () => {
  for (const v of keys.vectors) {
    it(`derives the public key of ${v.source.split(';')[0]}`, () => {
      expect(toHex(publicKeyOf(v.algorithm as KeyAlgorithm, fromHex(v.privateKeyHex) as Uint8Array))).toBe(
        v.publicKeyHex,
      );
    });
  }

  it.each(KEY_ALGORITHMS)('generates %s keys from the injected random source', (algorithm) => {
    const random = (n: number): Uint8Array => new Uint8Array(n).fill(7);
    const a = generateKeyPair(algorithm, random);
    expect(a.privateKey).toEqual(random(a.privateKey.length));
    expect(a.publicKey).toEqual(publicKeyOf(algorithm, a.privateKey));
    expect(generateKeyPair(algorithm, random)).toEqual(a);
    expect(generateKeyPair(algorithm).privateKey).not.toEqual(a.privateKey);
  });

  it.each([
    ['a short private key', () => publicKeyOf('Ed25519', new Uint8Array(31)), 'key.malformed'],
    ['an unknown algorithm', () => generateKeyPair('secp256k1' as KeyAlgorithm), 'key.unsupported-algorithm'],
    [
      'a random source that returns too little',
      () => generateKeyPair('X448', () => new Uint8Array(3)),
      'random.failed',
    ],
  ])('rejects %s', (_what, action, code) => {
    expect(codeOf(action)).toBe(code);
  });
});
