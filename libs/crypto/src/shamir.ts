import { bigIntToBytes, bytesToBigInt, concatBytes } from './bytes';
import { CryptoError, isCryptoError } from './crypto-error';
import { defaultRandom, drawRandom, RandomSource } from './random';
import { MAX_SHAMIR_SECRET_BYTES, modPow, shamirPrime } from './shamir-prime';
import { parseUdf, presentFixedLength, UdfType } from './udf';

/**
 * Shamir secret sharing for offline escrow (002_17b4bc3c2303ddb1.txt §3.2.1), in the share format of
 * draft-hallambaker-mesh-udf-13 §4.5: a type-144 UDF whose first data octet holds the threshold (bits
 * 4–7) and x − 1 (bits 0–3), followed by f(x) in big-endian order, as long as the secret.
 */

/** Thresholds fit the 4-bit field (§4.5); a threshold of 1 would be no sharing at all. */
export const MIN_THRESHOLD = 2;
/** The largest threshold the 4-bit field holds. */
export const MAX_THRESHOLD = 15;
/** x − 1 fits in 4 bits, so x runs from 1 to 16. */
export const MAX_SHARES = 16;

// A polynomial is redrawn when a share overflows the encoding (§4.5.1). For L ≥ 32 bits that happens
// with probability below 16 · 1093 / 2^32 per draw, so reaching this bound means the random source is broken.
const MAX_DRAWS = 64;

/** One decoded share. */
export interface ShamirShare {
  readonly threshold: number;
  /** The point x, 1–16. */
  readonly x: number;
  /** f(x), big-endian, exactly as long as the secret. */
  readonly value: Uint8Array;
}

/** The split parameters: K of N. */
export interface ShamirParameters {
  readonly threshold: number;
  readonly shares: number;
}

/** The UDF presentation of a share (§4.5): never truncated, groups of 4. */
export function formatShare(share: ShamirShare): string {
  return presentFixedLength(
    concatBytes(Uint8Array.of(UdfType.SHAMIR_SHARE, (share.threshold << 4) | (share.x - 1)), share.value),
  );
}

/**
 * Decodes a share UDF. Guarantees: type 144, threshold 2–15, a value of a whole number of 32-bit words.
 * Throws CryptoError 'shamir.malformed-share' (with the UDF error as cause when the text is no UDF at all).
 */
export function parseShare(text: string): ShamirShare {
  let bytes: Uint8Array;
  try {
    const udf = parseUdf(text);
    if (udf.kind !== 'share') throw new CryptoError('udf.wrong-type', `a ${udf.kind} UDF, not a share`);
    bytes = udf.bytes;
  } catch (cause) {
    if (!isCryptoError(cause)) throw cause;
    throw new CryptoError('shamir.malformed-share', `not a share: ${cause.message}`, { cause });
  }
  const info = bytes[1] as number; // parseUdf guarantees at least 2 octets
  const threshold = info >> 4;
  const value = bytes.slice(2);
  if (threshold < MIN_THRESHOLD) {
    throw new CryptoError(
      'shamir.malformed-share',
      `share threshold ${threshold} is below ${MIN_THRESHOLD}: ${text}`,
    );
  }
  if (value.length === 0 || value.length % 4 !== 0 || value.length > MAX_SHAMIR_SECRET_BYTES) {
    throw new CryptoError(
      'shamir.malformed-share',
      `a share value is a whole number of 32-bit words: ${text}`,
    );
  }
  return { threshold, x: (info & 0x0f) + 1, value };
}

function checkSecret(secret: Uint8Array): void {
  if (!(secret instanceof Uint8Array))
    throw new CryptoError('input.invalid', 'the secret must be a Uint8Array');
  if (secret.length === 0 || secret.length % 4 !== 0 || secret.length > MAX_SHAMIR_SECRET_BYTES) {
    throw new CryptoError(
      'shamir.bad-secret',
      `a shared secret is a multiple of 32 bits up to ${MAX_SHAMIR_SECRET_BYTES * 8} (§4.5), got ${secret.length * 8} bits`,
    );
  }
}

function checkParameters({ threshold, shares }: ShamirParameters): void {
  if (!Number.isInteger(threshold) || threshold < MIN_THRESHOLD || threshold > MAX_THRESHOLD) {
    throw new CryptoError(
      'shamir.bad-parameters',
      `threshold must be ${MIN_THRESHOLD}–${MAX_THRESHOLD}, got ${threshold}`,
    );
  }
  if (!Number.isInteger(shares) || shares < threshold || shares > MAX_SHARES) {
    throw new CryptoError(
      'shamir.bad-parameters',
      `shares must be ${threshold}–${MAX_SHARES}, got ${shares}`,
    );
  }
}

/**
 * Splits `secret` into `shares` share UDFs, any `threshold` of which recover it and fewer reveal nothing
 * (§4.5.1). f(x) = a_0 + a_1·x + … + a_{K−1}·x^{K−1} mod p, a_0 = the secret, p from Appendix A; each
 * coefficient a_1, a_2, … in turn is read from `random(secretLength)` as a big-endian integer. A
 * polynomial that gives any share ≥ 2^L is discarded and all its coefficients redrawn (§4.5: it MUST NOT
 * be used). Shares are returned in order x = 1, 2, …, N.
 * Throws 'shamir.bad-secret', 'shamir.bad-parameters', or 'random.failed' if `random` misbehaves.
 */
export function splitSecret(
  secret: Uint8Array,
  parameters: ShamirParameters,
  random: RandomSource = defaultRandom,
): string[] {
  checkSecret(secret);
  checkParameters(parameters);
  const { threshold, shares } = parameters;
  const length = secret.length;
  const prime = shamirPrime(length);
  const limit = 1n << BigInt(8 * length);
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const coefficients = [bytesToBigInt(secret)];
    for (let i = 1; i < threshold; i++) coefficients.push(bytesToBigInt(drawRandom(random, length)));
    const values: bigint[] = [];
    for (let x = 1; x <= shares; x++) values.push(evaluate(coefficients, BigInt(x), prime));
    if (values.every((value) => value < limit)) {
      return values.map((value, i) =>
        formatShare({ threshold, x: i + 1, value: bigIntToBytes(value, length) }),
      );
    }
  }
  throw new CryptoError(
    'random.failed',
    `every one of ${MAX_DRAWS} polynomials overflowed: the random source is broken`,
  );
}

/**
 * Recovers the secret from share UDFs (§4.5.2, Lagrange interpolation at 0 as in Appendix B).
 * Guarantees: every share is checked — same threshold and length, distinct x, at least `threshold` of
 * them — and any share beyond the threshold MUST lie on the polynomial the others define, so a corrupted
 * share among surplus ones is reported rather than silently outvoted.
 * Throws 'shamir.malformed-share', 'shamir.too-few-shares', 'shamir.duplicate-share' or
 * 'shamir.inconsistent-shares'.
 */
export function recoverSecret(shareTexts: readonly string[]): Uint8Array {
  const shares = shareTexts.map(parseShare);
  const first = shares[0];
  if (first === undefined) throw new CryptoError('shamir.too-few-shares', 'no shares given');
  const byX = new Map<number, ShamirShare>();
  for (const share of shares) {
    if (share.threshold !== first.threshold || share.value.length !== first.value.length) {
      throw new CryptoError('shamir.inconsistent-shares', 'the shares have different thresholds or lengths');
    }
    const seen = byX.get(share.x);
    if (seen !== undefined) {
      const same = formatShare(seen) === formatShare(share);
      throw new CryptoError(
        same ? 'shamir.duplicate-share' : 'shamir.inconsistent-shares',
        same ? `share x=${share.x} given twice` : `two different shares for x=${share.x}`,
      );
    }
    byX.set(share.x, share);
  }
  if (byX.size < first.threshold) {
    throw new CryptoError(
      'shamir.too-few-shares',
      `${byX.size} shares given, the threshold is ${first.threshold}`,
    );
  }
  const length = first.value.length;
  const prime = shamirPrime(length);
  const points = shares.map((share) => ({ x: BigInt(share.x), y: bytesToBigInt(share.value) }));
  const basis = points.slice(0, first.threshold);
  for (const extra of points.slice(first.threshold)) {
    if (interpolate(basis, extra.x, prime) !== extra.y) {
      throw new CryptoError(
        'shamir.inconsistent-shares',
        `share x=${extra.x} does not lie on the polynomial of the others`,
      );
    }
  }
  const secret = interpolate(basis, 0n, prime);
  if (secret >= 1n << BigInt(8 * length)) {
    throw new CryptoError(
      'shamir.inconsistent-shares',
      'the shares do not come from one split (f(0) overflows)',
    );
  }
  return bigIntToBytes(secret, length);
}

/** f(x) mod p by Horner's rule; coefficients[0] is a_0. */
function evaluate(coefficients: readonly bigint[], x: bigint, prime: bigint): bigint {
  let result = 0n;
  for (let i = coefficients.length - 1; i >= 0; i--)
    result = (result * x + (coefficients[i] as bigint)) % prime;
  return result;
}

/** The value at `at` of the polynomial through `points` (distinct x), by Lagrange basis polynomials. */
function interpolate(points: readonly { x: bigint; y: bigint }[], at: bigint, prime: bigint): bigint {
  let sum = 0n;
  for (const [i, pi] of points.entries()) {
    let numerator = 1n;
    let denominator = 1n;
    for (const [j, pj] of points.entries()) {
      if (i === j) continue;
      numerator = (numerator * mod(at - pj.x, prime)) % prime;
      denominator = (denominator * mod(pi.x - pj.x, prime)) % prime;
    }
    // p is prime, so the inverse is d^(p−2) (Fermat), as in Appendix B's ModInverse.
    sum = (sum + pi.y * numerator * modPow(denominator, prime - 2n, prime)) % prime;
  }
  return sum;
}

function mod(value: bigint, modulus: bigint): bigint {
  const r = value % modulus;
  return r < 0n ? r + modulus : r;
}
