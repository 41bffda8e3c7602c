import { CryptoError } from './crypto-error';

/**
 * A source of random bytes: MUST return exactly `length` bytes, fresh and unpredictable in production.
 * Injected (STYLE.md §4) so that tests are deterministic; every function that draws randomness takes
 * one, defaulting to {@link defaultRandom}.
 */
export type RandomSource = (length: number) => Uint8Array;

// getRandomValues refuses requests above 65,536 bytes (WebCrypto §10.1.1).
const MAX_REQUEST = 65536;

/** The platform CSPRNG (`crypto.getRandomValues`, in browsers and Node ≥ 19 alike). */
export const defaultRandom: RandomSource = (length) => {
  const out = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += MAX_REQUEST) {
    globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + MAX_REQUEST)));
  }
  return out;
};

/** Draws `length` bytes from `random` and checks that it kept its contract. */
export function drawRandom(random: RandomSource, length: number): Uint8Array {
  const bytes = random(length);
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new CryptoError('random.failed', `random source returned ${describe(bytes)} for ${length} bytes`);
  }
  return bytes;
}

function describe(value: unknown): string {
  return value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
}
