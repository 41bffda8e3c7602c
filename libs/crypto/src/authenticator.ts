import { expand } from '@noble/hashes/hkdf';
import { hmac } from '@noble/hashes/hmac';
import { concatBytes, utf8 } from './bytes';
import { checkContentArguments, FingerprintOptions } from './content-digest';
import { CryptoError } from './crypto-error';
import { DigestAlgorithm, digestSuite } from './digest-algorithm';
import { DEFAULT_UDF_BITS, presentFingerprint } from './udf';

/**
 * The MAC key an authenticator UDF uses, derived from the key string (§5.2.2):
 *   PRK = MAC(UTF8("KeyedUDFMaster"), UTF8(Key));  OKM = HKDF-Expand(PRK, UTF8("KeyedUDFExpand"), 64).
 * The key is always a Unicode string, used exactly as given (§5.2: a binary key is first presented as
 * a UDF). Throws 'input.invalid' for an empty or non-string key.
 */
export function authenticatorKey(key: string, algorithm: DigestAlgorithm = 'SHA-2-512'): Uint8Array {
  if (typeof key !== 'string' || key.length === 0) {
    throw new CryptoError('input.invalid', 'an authenticator key must be a non-empty string');
  }
  const { hash } = digestSuite(algorithm);
  const prk = hmac(hash, utf8('KeyedUDFMaster'), utf8(key));
  return expand(hash, prk, utf8('KeyedUDFExpand'), hash.outputLen);
}

/**
 * The full binary data sequence of an authenticator UDF: type 0 (HMAC-SHA-2-512) or 1 (HMAC-SHA-3-512)
 * followed by AV = MAC(OKM, <Content-ID> + ':' + H(<Data>)) (§5.2.1–5.2.2). Never compressed (§5.2).
 */
export function authenticatorBinary(
  key: string,
  data: Uint8Array,
  contentType: string,
  algorithm: DigestAlgorithm = 'SHA-2-512',
): Uint8Array {
  checkContentArguments(data, contentType);
  const suite = digestSuite(algorithm);
  const okm = authenticatorKey(key, algorithm);
  const av = hmac(suite.hash, okm, concatBytes(utf8(`${contentType}:`), suite.digest(data)));
  return concatBytes(Uint8Array.of(suite.authenticatorType), av);
}

/**
 * The authenticator UDF of `data` under `contentType` and `key` (§5.2), e.g.
 * 'ABGM-G76T-7GPF-FTYH-SB2F-HBDF-SW6B' for the draft's example. Precision as for content digests.
 * Throws 'input.invalid' or 'udf.bad-precision'.
 */
export function authenticatorUdf(
  key: string,
  data: Uint8Array,
  contentType: string,
  options: FingerprintOptions = {},
): string {
  return presentFingerprint(
    authenticatorBinary(key, data, contentType, options.algorithm ?? 'SHA-2-512'),
    options.bits ?? DEFAULT_UDF_BITS,
  );
}
