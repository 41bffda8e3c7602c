import { sha512 } from '@noble/hashes/sha2';
import { sha3_512 } from '@noble/hashes/sha3';
import { CryptoError } from './crypto-error';
import { sha512Digest } from './sha2-port';

/** The two digest algorithms of UDF fingerprints (draft-hallambaker-mesh-udf-13 §1.1.2, §3.2). */
export type DigestAlgorithm = 'SHA-2-512' | 'SHA-3-512';

/** What the library needs to know about one digest algorithm. */
export interface DigestSuite {
  readonly algorithm: DigestAlgorithm;
  /** H(message), 64 bytes; SHA-2-512 with the installed implementation (sha2-port.ts). */
  readonly digest: (message: Uint8Array) => Uint8Array;
  /** The same function as an HMAC building block (`@noble/hashes`). */
  readonly hash: typeof sha512;
  /** Content-digest type byte before compression (§3.2). */
  readonly digestType: number;
  /** Authenticator type byte (§3.2, §5.2). */
  readonly authenticatorType: number;
}

const SUITES: Readonly<Record<DigestAlgorithm, DigestSuite>> = {
  'SHA-2-512': {
    algorithm: 'SHA-2-512',
    digest: sha512Digest,
    hash: sha512,
    digestType: 96,
    authenticatorType: 0,
  },
  'SHA-3-512': {
    algorithm: 'SHA-3-512',
    digest: (message) => sha3_512(message),
    hash: sha3_512,
    digestType: 80,
    authenticatorType: 1,
  },
};

/** The suite of `algorithm`; throws CryptoError 'input.invalid' for any other name. */
export function digestSuite(algorithm: DigestAlgorithm): DigestSuite {
  const suite = Object.prototype.hasOwnProperty.call(SUITES, algorithm) ? SUITES[algorithm] : undefined;
  if (suite === undefined) {
    throw new CryptoError(
      'input.invalid',
      `digest algorithm must be SHA-2-512 or SHA-3-512, got ${String(algorithm)}`,
    );
  }
  return suite;
}

/** The digest algorithm a content-digest or authenticator type byte names, or undefined. */
export function digestAlgorithmOfType(type: number): DigestAlgorithm | undefined {
  if (type === 0 || (type >= 96 && type <= 100)) return 'SHA-2-512';
  if (type === 1 || (type >= 80 && type <= 84)) return 'SHA-3-512';
  return undefined;
}
