import { codeOf } from '../test/error-code';
import keys from '../testdata/keys.json';
import { fromHex, toBase64Url } from './bytes';
import { privateJwk, publicJwk, readJwk } from './jwk';
import { KEY_ALGORITHMS, KeyAlgorithm } from './key-algorithm';
import { generateKeyPair } from './key-pair';

describe('OKP JWK (RFC 8037 §2)', () => {
  it.each(KEY_ALGORITHMS)('round-trips %s key pairs', (algorithm) => {
    const pair = generateKeyPair(algorithm);
    const jwk = privateJwk(pair);
    expect(jwk).toMatchObject({ kty: 'OKP', crv: algorithm });
    expect(readJwk(JSON.parse(JSON.stringify(jwk)))).toEqual({ ...pair });
    expect(readJwk(publicJwk(algorithm, pair.publicKey))).toEqual({ algorithm, publicKey: pair.publicKey });
    expect(readJwk({ kty: 'OKP', crv: algorithm, d: jwk.d })).toEqual({ ...pair });
  });

  it('reads the RFC 8037 §A.1/A.2 Ed25519 key', () => {
    const v = keys.vectors[0] as (typeof keys.vectors)[number];
    const jwk = {
      kty: 'OKP',
      crv: 'Ed25519',
      d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
      x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
    };
    const key = readJwk(jwk);
    expect(key.privateKey).toEqual(fromHex(v.privateKeyHex));
    expect(publicJwk('Ed25519', key.publicKey).kid).toBe(v.keyUdf);
  });

  const pair = generateKeyPair('Ed25519', (n) => new Uint8Array(n).fill(1));
  const other = generateKeyPair('Ed25519', (n) => new Uint8Array(n).fill(2));
  it.each<[string, unknown, string]>([
    ['a non-object', 'key', 'key.malformed'],
    ['an array', [], 'key.malformed'],
    ['kty EC', { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }, 'key.malformed'],
    [
      'crv P-256 in an OKP key',
      { kty: 'OKP', crv: 'P-256', x: toBase64Url(pair.publicKey) },
      'key.unsupported-algorithm',
    ],
    ['no x and no d', { kty: 'OKP', crv: 'Ed25519' }, 'key.malformed'],
    ['x of the wrong length', { kty: 'OKP', crv: 'Ed448', x: toBase64Url(pair.publicKey) }, 'key.malformed'],
    ['x that is not base64url', { kty: 'OKP', crv: 'Ed25519', x: '+'.repeat(43) }, 'key.malformed'],
    ['x that is a number', { kty: 'OKP', crv: 'Ed25519', x: 42 }, 'key.malformed'],
    [
      'x that is not the public key of d',
      { ...privateJwk(pair), x: toBase64Url(other.publicKey) },
      'key.malformed',
    ],
  ])('rejects %s', (_what, jwk, code) => {
    expect(codeOf(() => readJwk(jwk))).toBe(code);
  });

  it('rejects an unknown algorithm when writing', () => {
    expect(codeOf(() => publicJwk('Ed9' as KeyAlgorithm, new Uint8Array(32)))).toBe(
      'key.unsupported-algorithm',
    );
  });
});
