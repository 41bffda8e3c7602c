import { CryptoError } from './crypto-error';

/** The public key algorithms of the Mesh (DESIGN.md "Cryptography"): EdDSA signing and ECDH key agreement. */
export type KeyAlgorithm = 'Ed25519' | 'Ed448' | 'X25519' | 'X448';

/** The key algorithms that sign (RFC 8032). */
export type SigningKeyAlgorithm = 'Ed25519' | 'Ed448';
/** The key algorithms that agree keys (RFC 7748), used for private data (JWE). */
export type AgreementKeyAlgorithm = 'X25519' | 'X448';

/** Every KeyAlgorithm, in a stable order. */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['Ed25519', 'Ed448', 'X25519', 'X448'];

/** Raw key lengths in bytes (RFC 8032 §5.1.5/§5.2.5, RFC 7748 §5) and the RFC 8410 §3 OID arc 1.3.101.n. */
export const KEY_PARAMETERS: Readonly<
  Record<
    KeyAlgorithm,
    { readonly privateKeyLength: number; readonly publicKeyLength: number; readonly oidLast: number }
  >
> = {
  X25519: { privateKeyLength: 32, publicKeyLength: 32, oidLast: 110 },
  X448: { privateKeyLength: 56, publicKeyLength: 56, oidLast: 111 },
  Ed25519: { privateKeyLength: 32, publicKeyLength: 32, oidLast: 112 },
  Ed448: { privateKeyLength: 57, publicKeyLength: 57, oidLast: 113 },
};

/** Narrows `value` to a KeyAlgorithm; throws CryptoError 'key.unsupported-algorithm' otherwise. */
export function checkKeyAlgorithm(value: unknown): KeyAlgorithm {
  if (typeof value === 'string' && (KEY_ALGORITHMS as readonly string[]).includes(value)) {
    return value as KeyAlgorithm;
  }
  throw new CryptoError(
    'key.unsupported-algorithm',
    `key algorithm must be one of ${KEY_ALGORITHMS.join(', ')}, got ${String(value)}`,
  );
}

/** Checks that `key` is a Uint8Array of `length` bytes; throws 'key.malformed' naming `what` otherwise. */
export function checkKeyLength(what: string, key: unknown, length: number): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) throw new CryptoError('key.malformed', `${what} must be a Uint8Array`);
  if (key.length !== length) {
    throw new CryptoError('key.malformed', `${what} must be ${length} bytes, got ${key.length}`);
  }
}
