import { ed25519, x25519 } from '@noble/curves/ed25519';
import { ed448, x448 } from '@noble/curves/ed448';
import { CryptoError } from './crypto-error';
import { checkKeyAlgorithm, checkKeyLength, KEY_PARAMETERS, KeyAlgorithm } from './key-algorithm';
import { defaultRandom, drawRandom, RandomSource } from './random';

/** A raw key pair: RFC 8032 seeds and public keys, or RFC 7748 scalars and u-coordinates. */
export interface KeyPair<A extends KeyAlgorithm = KeyAlgorithm> {
  readonly algorithm: A;
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

const CURVES: Readonly<Record<KeyAlgorithm, { getPublicKey(privateKey: Uint8Array): Uint8Array }>> = {
  Ed25519: ed25519,
  Ed448: ed448,
  X25519: x25519,
  X448: x448,
};

/**
 * The public key of a raw private key, computed with `@noble/curves` (portable). Throws
 * 'key.unsupported-algorithm', or 'key.malformed' for a private key of the wrong length.
 */
export function publicKeyOf(algorithm: KeyAlgorithm, privateKey: Uint8Array): Uint8Array {
  const checked = checkKeyAlgorithm(algorithm);
  checkKeyLength(`${checked} private key`, privateKey, KEY_PARAMETERS[checked].privateKeyLength);
  try {
    return CURVES[checked].getPublicKey(privateKey);
  } catch (cause) {
    throw new CryptoError('key.malformed', `not a valid ${checked} private key`, { cause });
  }
}

/**
 * A fresh key pair. Any string of random bytes of the right length is a valid private key for these
 * curves (RFC 8032 §5.1.5 hashes the seed; RFC 7748 §5 clamps the scalar), so no rejection loop is needed.
 * `random` MUST be a CSPRNG outside tests.
 */
export function generateKeyPair<A extends KeyAlgorithm>(
  algorithm: A,
  random: RandomSource = defaultRandom,
): KeyPair<A> {
  checkKeyAlgorithm(algorithm);
  const privateKey = drawRandom(random, KEY_PARAMETERS[algorithm].privateKeyLength);
  return { algorithm, privateKey, publicKey: publicKeyOf(algorithm, privateKey) };
}
