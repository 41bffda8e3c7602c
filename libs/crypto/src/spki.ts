import { bytesEqual, concatBytes } from './bytes';
import { CryptoError } from './crypto-error';
import {
  checkKeyAlgorithm,
  checkKeyLength,
  KEY_ALGORITHMS,
  KEY_PARAMETERS,
  KeyAlgorithm,
} from './key-algorithm';

/**
 * The fixed DER prefix of an RFC 8410 §4 SubjectPublicKeyInfo for `algorithm`:
 *   SEQUENCE { SEQUENCE { OID 1.3.101.n } BIT STRING (0 unused bits) key }.
 * RFC 8410 §3 says the parameters MUST be absent, so every key of one algorithm has the same prefix.
 */
export function spkiPrefix(algorithm: KeyAlgorithm): Uint8Array {
  const { publicKeyLength, oidLast } = KEY_PARAMETERS[checkKeyAlgorithm(algorithm)];
  const bitString = [0x03, publicKeyLength + 1, 0x00];
  const algorithmIdentifier = [0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, oidLast];
  const bodyLength = algorithmIdentifier.length + bitString.length + publicKeyLength;
  return Uint8Array.from([0x30, bodyLength, ...algorithmIdentifier, ...bitString]);
}

/**
 * The DER SubjectPublicKeyInfo of a raw public key (RFC 8410 §4). Throws 'key.unsupported-algorithm'
 * or 'key.malformed' (wrong length).
 */
export function encodeSpki(algorithm: KeyAlgorithm, publicKey: Uint8Array): Uint8Array {
  const prefix = spkiPrefix(algorithm);
  checkKeyLength(`${algorithm} public key`, publicKey, KEY_PARAMETERS[algorithm].publicKeyLength);
  return concatBytes(prefix, publicKey);
}

/**
 * Decodes a DER SubjectPublicKeyInfo of one of the four RFC 8410 algorithms. Only the exact DER encoding
 * is accepted (no BER, no parameters, no trailing bytes), so one key has one fingerprint.
 * Throws 'key.malformed' for anything else.
 */
export function decodeSpki(der: Uint8Array): { algorithm: KeyAlgorithm; publicKey: Uint8Array } {
  if (der instanceof Uint8Array) {
    for (const algorithm of KEY_ALGORITHMS) {
      const prefix = spkiPrefix(algorithm);
      if (
        der.length === prefix.length + KEY_PARAMETERS[algorithm].publicKeyLength &&
        bytesEqual(der.subarray(0, prefix.length), prefix)
      ) {
        return { algorithm, publicKey: der.slice(prefix.length) };
      }
    }
  }
  throw new CryptoError(
    'key.malformed',
    'not an RFC 8410 SubjectPublicKeyInfo for Ed25519, Ed448, X25519 or X448',
  );
}
