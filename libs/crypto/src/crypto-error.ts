import { escapeControls } from './text';

/**
 * Every failure the crypto library reports on bad input or a failed check. The string is stable: callers
 * (the gateway's exception filter, the CLI, auditing peers) switch on it, never on the message.
 *
 * All of them are permanent: the same input always gives the same error, so none is worth a retry.
 */
export type CryptoErrorCode =
  /** An argument has the wrong type or shape (a programming error in the caller). */
  | 'input.invalid'
  /** The random source returned the wrong number of bytes, or kept producing unusable values. */
  | 'random.failed'
  /** Text that is not a UDF: characters outside Base32, misplaced dashes, bad padding bits. */
  | 'udf.malformed'
  /** A UDF whose type byte is not one the draft assigns (draft-hallambaker-mesh-udf-13 §3.2). */
  | 'udf.unknown-type'
  /** A UDF too short or too long for its type (§3.1, §4, §8.4). */
  | 'udf.bad-length'
  /** A requested precision that is not a multiple of 20 bits between 100 and 520 (§3.1, §5). */
  | 'udf.bad-precision'
  /** A well-formed UDF of a type the operation does not take (e.g. a share where a digest is needed). */
  | 'udf.wrong-type'
  /** A key that does not decode: wrong length, bad DER, bad JWK, or a private key that does not match its public key. */
  | 'key.malformed'
  /** A key algorithm the library does not handle. */
  | 'key.unsupported-algorithm'
  /** An account address that is not `user@domain` under the grammar of docs/crypto.md. */
  | 'account.malformed'
  /** An `mmm:` URI that does not follow `mmm:<fingerprint>[:<account>]` (002 §3.3.3). */
  | 'uri.malformed'
  /** Not a flattened JWS JSON object, or one the profile rules forbid (unprotected header, crit, b64). */
  | 'jws.malformed'
  /** A JWS whose `alg` is not EdDSA, or whose key is not of the algorithm it claims. */
  | 'jws.alg-not-allowed'
  /** The protected `kid` is missing or is not the UDF of the key the signature is checked against. */
  | 'jws.kid-mismatch'
  /** The signature does not verify. */
  | 'jws.bad-signature'
  /**
   * The verification key breaks the strict EdDSA rules (eddsa-rules.ts rule 1): not canonically encoded,
   * or of small order — such a key (the identity point) "verifies" forged signatures under OpenSSL.
   */
  | 'jws.weak-key'
  /** Not a general JWE JSON object, or one the private-data profile forbids. */
  | 'jwe.malformed'
  /** A JWE whose `alg`/`enc` is not ECDH-ES+A256KW / A256GCM. */
  | 'jwe.alg-not-allowed'
  /** An empty or duplicated recipient list when encrypting. */
  | 'jwe.bad-recipients'
  /** No recipient entry carries the `kid` of the key given for decryption. */
  | 'jwe.no-recipient'
  /** The recipient's entry matched but decryption or authentication failed. */
  | 'jwe.decrypt-failed'
  /** A secret to share that is empty or not a multiple of 32 bits (§4.5). */
  | 'shamir.bad-secret'
  /** A threshold outside 2–15, or a share count outside threshold–16 (§4.5: 4-bit fields). */
  | 'shamir.bad-parameters'
  /** A share that is not a well-formed type-144 UDF (§4.5). */
  | 'shamir.malformed-share'
  /** Fewer distinct shares than the threshold they carry. */
  | 'shamir.too-few-shares'
  /** The same share (same x) given twice. */
  | 'shamir.duplicate-share'
  /** Shares that cannot come from one split: different thresholds or lengths, the same x with different
   * values, or extra shares that do not lie on the recovered polynomial. */
  | 'shamir.inconsistent-shares';

/**
 * The library's one error class (STYLE.md §6). `code` is stable; `message` is for people and MAY change;
 * `cause` keeps the lower-level error (a jose error, a nested CryptoError) when there is one.
 */
export class CryptoError extends Error {
  override readonly name = 'CryptoError';

  constructor(
    readonly code: CryptoErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(escapeControls(message), options);
  }
}

/** True when `error` is a CryptoError, optionally with the given code. */
export function isCryptoError(error: unknown, code?: CryptoErrorCode): error is CryptoError {
  return error instanceof CryptoError && (code === undefined || error.code === code);
}
