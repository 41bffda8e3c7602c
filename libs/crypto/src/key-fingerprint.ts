import { contentDigestBinary } from './content-digest';
import { CryptoError } from './crypto-error';
import { KeyAlgorithm } from './key-algorithm';
import { encodeSpki } from './spki';
import { DEFAULT_UDF_BITS, parseUdf, presentFingerprint, udfMatches } from './udf';

/**
 * The Content-ID of a key fingerprint (DESIGN.md "Profiles and keys"). The draft's own key example
 * (draft-hallambaker-mesh-udf-13 §4.2, MD2N-37QO-…) reproduces with exactly this Content-ID.
 */
export const KEY_CONTENT_ID = 'PKIXKey';

/**
 * The UDF of a public key: the SHA-2-512 content digest, Content-ID 'PKIXKey', of its RFC 8410
 * SubjectPublicKeyInfo DER, at `bits` precision (default 140). This is the `kid` of JWS and JWE.
 * Throws 'key.unsupported-algorithm', 'key.malformed' or 'udf.bad-precision'.
 */
export function keyUdf(
  algorithm: KeyAlgorithm,
  publicKey: Uint8Array,
  options: { bits?: number } = {},
): string {
  return presentFingerprint(
    contentDigestBinary(encodeSpki(algorithm, publicKey), KEY_CONTENT_ID, 'SHA-2-512'),
    options.bits ?? DEFAULT_UDF_BITS,
  );
}

/**
 * True when `udf` (at any precision, by the prefix rule) is the fingerprint of the given public key.
 * Throws the parseUdf errors, and 'udf.wrong-type' when `udf` is not a SHA-2-512 content digest.
 */
export function keyMatchesUdf(udf: string, algorithm: KeyAlgorithm, publicKey: Uint8Array): boolean {
  const parsed = parseUdf(udf);
  if (parsed.kind !== 'content-digest' || parsed.type < 96) {
    throw new CryptoError(
      'udf.wrong-type',
      `a key fingerprint is a SHA-2-512 content digest UDF: ${parsed.text}`,
    );
  }
  return udfMatches(parsed, keyUdf(algorithm, publicKey, { bits: 520 }));
}
