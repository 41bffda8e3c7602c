import { concatBytes, utf8 } from './bytes';
import { CryptoError } from './crypto-error';
import { DigestAlgorithm, digestAlgorithmOfType, digestSuite } from './digest-algorithm';
import { DEFAULT_UDF_BITS, parseUdf, presentFingerprint, Udf } from './udf';

/** Options of a fingerprint: digest algorithm (default SHA-2-512) and precision (default 140 bits). */
export interface FingerprintOptions {
  readonly algorithm?: DigestAlgorithm;
  readonly bits?: number;
}

/** Checks that `data` is bytes and `contentType` a non-empty string; 'input.invalid' otherwise. */
export function checkContentArguments(data: Uint8Array, contentType: string): void {
  if (!(data instanceof Uint8Array))
    throw new CryptoError('input.invalid', 'content data must be a Uint8Array');
  if (typeof contentType !== 'string' || contentType.length === 0) {
    throw new CryptoError('input.invalid', 'the Content-ID must be a non-empty string');
  }
}

/**
 * The Typed Content Digest Value, TCDV = H(<Content-ID> + ':' + H(<Data>)) (§5.1.1–5.1.2): 64 bytes.
 * Binding the Content-ID defeats semantic substitution (§3.3, §8.5).
 */
export function typedContentDigest(
  data: Uint8Array,
  contentType: string,
  algorithm: DigestAlgorithm,
): Uint8Array {
  checkContentArguments(data, contentType);
  const { digest } = digestSuite(algorithm);
  return digest(concatBytes(utf8(`${contentType}:`), digest(data)));
}

/**
 * The compression level 0–4 of a TCDV (§5.1.3 as corrected by specs/README.md): count the trailing zero
 * bits at the END of the 64 bytes (the last octets, least significant bits trailing); ≥20 → 1, ≥30 → 2,
 * ≥40 → 3, ≥50 → 4. Compression only changes the type byte: the digest bytes are not shifted.
 */
export function compressionLevel(tcdv: Uint8Array): 0 | 1 | 2 | 3 | 4 {
  let zeros = 0;
  for (let i = tcdv.length - 1; i >= 0 && zeros < 50; i--) {
    const byte = tcdv[i] as number;
    if (byte === 0) {
      zeros += 8;
      continue;
    }
    let b = byte;
    while ((b & 1) === 0) {
      zeros++;
      b >>= 1;
    }
    break;
  }
  if (zeros >= 50) return 4;
  if (zeros >= 40) return 3;
  if (zeros >= 30) return 2;
  if (zeros >= 20) return 1;
  return 0;
}

/**
 * The full 65-byte binary data sequence of a content digest UDF: the type byte (algorithm plus
 * compression level) followed by the whole TCDV, from its octet 0 (§5.1.4 as corrected by specs/README.md).
 */
export function contentDigestBinary(
  data: Uint8Array,
  contentType: string,
  algorithm: DigestAlgorithm = 'SHA-2-512',
): Uint8Array {
  const tcdv = typedContentDigest(data, contentType, algorithm);
  return concatBytes(Uint8Array.of(digestSuite(algorithm).digestType + compressionLevel(tcdv)), tcdv);
}

/**
 * The content digest UDF of `data` under `contentType` (§5.1), e.g. 'MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF'
 * for "UDF Data Value" as text/plain. A lower precision is always a prefix of a higher one (§3.4).
 * Throws 'input.invalid' for bad arguments and 'udf.bad-precision' for a precision checkUdfPrecision refuses.
 */
export function contentDigestUdf(
  data: Uint8Array,
  contentType: string,
  options: FingerprintOptions = {},
): string {
  return presentFingerprint(
    contentDigestBinary(data, contentType, options.algorithm ?? 'SHA-2-512'),
    options.bits ?? DEFAULT_UDF_BITS,
  );
}

/**
 * True when `udf` is the content digest UDF of `data` under `contentType`, at the UDF's own precision and
 * with the algorithm its type byte names. Throws the parseUdf errors, and 'udf.wrong-type' when `udf`
 * is not a content digest.
 */
export function contentDigestMatches(udf: string | Udf, data: Uint8Array, contentType: string): boolean {
  const parsed = typeof udf === 'string' ? parseUdf(udf) : udf;
  const algorithm = parsed.kind === 'content-digest' ? digestAlgorithmOfType(parsed.type) : undefined;
  if (algorithm === undefined) {
    throw new CryptoError('udf.wrong-type', `not a content digest UDF: ${parsed.text}`);
  }
  const binary = contentDigestBinary(data, contentType, algorithm);
  return presentFingerprint(binary, 520).replace(/-/g, '').startsWith(parsed.characters);
}
