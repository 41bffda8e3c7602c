import { bytesEqual, fromBase64Url, toBase64Url } from './bytes';
import { CryptoError } from './crypto-error';
import { checkKeyAlgorithm, checkKeyLength, KEY_PARAMETERS, KeyAlgorithm } from './key-algorithm';
import { keyUdf } from './key-fingerprint';
import { KeyPair, publicKeyOf } from './key-pair';

/** An RFC 8037 §2 Octet Key Pair JWK. `kid`, when this library writes one, is the key's UDF. */
export interface OkpJwk {
  readonly kty: 'OKP';
  readonly crv: KeyAlgorithm;
  readonly x: string;
  readonly d?: string;
  readonly kid?: string;
}

/** A key read from a JWK: always the public key, the private key when the JWK had `d`. */
export interface JwkKey {
  readonly algorithm: KeyAlgorithm;
  readonly publicKey: Uint8Array;
  readonly privateKey?: Uint8Array;
}

/** The public JWK of a key, with `kid` = its UDF (140 bits). Throws the keyUdf errors. */
export function publicJwk(algorithm: KeyAlgorithm, publicKey: Uint8Array): OkpJwk {
  return { kty: 'OKP', crv: algorithm, x: toBase64Url(publicKey), kid: keyUdf(algorithm, publicKey) };
}

/** The private JWK of a key pair (`d` included), with `kid` = its public key's UDF. Keep it secret. */
export function privateJwk(pair: KeyPair): OkpJwk {
  return { ...publicJwk(pair.algorithm, pair.publicKey), d: toBase64Url(pair.privateKey) };
}

/**
 * Reads an OKP JWK (RFC 8037 §2) of Ed25519, Ed448, X25519 or X448. Guarantees: the public key has the
 * right length; when `d` is present, `x` (if present) is the public key `d` yields, and is derived from
 * `d` when absent. Other members (`kid`, `use`, `alg`, …) are ignored. Throws 'key.malformed' or
 * 'key.unsupported-algorithm'.
 */
export function readJwk(value: unknown): JwkKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CryptoError('key.malformed', 'a JWK must be a JSON object');
  }
  const jwk = value as Record<string, unknown>;
  if (jwk.kty !== 'OKP')
    throw new CryptoError('key.malformed', `JWK kty must be "OKP", got ${String(jwk.kty)}`);
  const algorithm = checkKeyAlgorithm(jwk.crv);
  const { publicKeyLength, privateKeyLength } = KEY_PARAMETERS[algorithm];
  const member = (name: 'x' | 'd', length: number): Uint8Array | undefined => {
    const text = jwk[name];
    if (text === undefined) return undefined;
    const bytes = typeof text === 'string' ? fromBase64Url(text) : undefined;
    if (bytes === undefined) throw new CryptoError('key.malformed', `JWK "${name}" is not base64url`);
    checkKeyLength(`JWK "${name}"`, bytes, length);
    return bytes;
  };
  const privateKey = member('d', privateKeyLength);
  const x = member('x', publicKeyLength);
  if (privateKey === undefined) {
    if (x === undefined) throw new CryptoError('key.malformed', 'JWK has neither "x" nor "d"');
    return { algorithm, publicKey: x };
  }
  const publicKey = publicKeyOf(algorithm, privateKey);
  if (x !== undefined && !bytesEqual(x, publicKey)) {
    throw new CryptoError('key.malformed', 'JWK "x" is not the public key of "d"');
  }
  return { algorithm, publicKey, privateKey };
}
