import type { SigningKeyAlgorithm } from './key-algorithm';

/**
 * One EdDSA signature check, as exact bytes: the public key, the signed message (for a JWS its
 * signing input, RFC 7515 §5.2: ASCII(protected ‖ '.' ‖ payload)) and the signature.
 */
export interface SignatureCheck {
  readonly algorithm: SigningKeyAlgorithm;
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Verdicts computed elsewhere (a pool of worker threads, issue #17) on signature checks, handed to
 * `verifyJws`. It MUST answer `true` or `false` only for a check whose algorithm, key, message and
 * signature are byte for byte those the verdict was computed on, by the plain EdDSA verification
 * (RFC 8032 §5.1.7 / §5.2.7, as OpenSSL does it); for anything else it MUST answer `undefined`, and
 * the caller verifies the signature itself. The strict encoding rules (eddsa-rules.ts) are applied by
 * `verifyJws` before it asks, whatever the source of the verdict.
 */
export type SignatureVerdicts = (check: SignatureCheck) => boolean | undefined;
