import { CryptoError } from './crypto-error';

/**
 * The moduli of Shamir secret sharing (draft-hallambaker-mesh-udf-13 §4.5, Appendix A): for a secret of
 * n bytes, the smallest prime greater than 2^(8n). Appendix A lists them up to 64 bytes as offsets from
 * 2^(8n); for longer secrets it says to find the next prime, which nextPrimeAbove does.
 */
const APPENDIX_A_OFFSETS: readonly number[] = [
  1, 1, 43, 15, 15, 21, 81, 13, 15, 13, 7, 61, 111, 25, 451, 51, 85, 175, 253, 7, 87, 427, 27, 133, 235, 375,
  423, 735, 357, 115, 81, 297, 175, 57, 45, 127, 61, 37, 91, 27, 15, 241, 231, 55, 105, 127, 115, 231, 207,
  181, 37, 235, 163, 1093, 187, 211, 21, 841, 445, 165, 777, 583, 133, 75,
];

/** The longest secret shared, in bytes (2048 bits): finding the prime above 2^2048 already takes ~1 s. */
export const MAX_SHAMIR_SECRET_BYTES = 256;

const cache = new Map<number, bigint>();

/**
 * The prime modulus for secrets of `bytes` bytes (1 ≤ bytes ≤ MAX_SHAMIR_SECRET_BYTES): Appendix A for
 * up to 64 bytes, computed (and cached) above that. Throws 'shamir.bad-secret' outside that range.
 */
export function shamirPrime(bytes: number): bigint {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > MAX_SHAMIR_SECRET_BYTES) {
    throw new CryptoError(
      'shamir.bad-secret',
      `secrets of 1 to ${MAX_SHAMIR_SECRET_BYTES} bytes, got ${bytes}`,
    );
  }
  const offset = APPENDIX_A_OFFSETS[bytes - 1];
  if (offset !== undefined) return (1n << BigInt(8 * bytes)) + BigInt(offset);
  let prime = cache.get(bytes);
  if (prime === undefined) {
    prime = nextPrimeAbove(1n << BigInt(8 * bytes));
    cache.set(bytes, prime);
  }
  return prime;
}

/** base^exponent mod modulus, for non-negative operands. */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

const SMALL_PRIMES: readonly bigint[] = (() => {
  const primes: number[] = [];
  for (let n = 2; n < 2000; n++) if (primes.every((p) => n % p !== 0)) primes.push(n);
  return primes.map(BigInt);
})();

// Miller–Rabin with the first 12 primes as bases: deterministic below 3.3·10^24 and, for the numbers
// of the form 2^k + small searched here (not chosen by an adversary), wrong with negligible probability.
const WITNESSES = SMALL_PRIMES.slice(0, 12);

/** True when `n` is (with the certainty above) prime. */
export function isProbablePrime(n: bigint): boolean {
  if (n < 2n) return false;
  for (const p of SMALL_PRIMES) {
    if (n === p) return true;
    if (n % p === 0n) return false;
  }
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  witness: for (const a of WITNESSES) {
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    for (let i = 1; i < s; i++) {
      x = (x * x) % n;
      if (x === n - 1n) continue witness;
    }
    return false;
  }
  return true;
}

/** The smallest prime greater than `n`. */
export function nextPrimeAbove(n: bigint): bigint {
  let candidate = n + 1n;
  if (candidate <= 2n) return 2n;
  if ((candidate & 1n) === 0n) candidate++;
  while (!isProbablePrime(candidate)) candidate += 2n;
  return candidate;
}
