/**
 * RFC 4648 §6 Base32 (alphabet A–Z, 2–7), unpadded, as UDF presentation uses it
 * (draft-hallambaker-mesh-udf-13 §3.1, §3.5). Truncation is by whole characters: a UDF of n bits is the
 * first n/5 characters of the encoding of its binary data sequence.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

const DECODE: ReadonlyMap<string, number> = new Map(
  [...ALPHABET].flatMap((ch, value) => [
    [ch, value],
    [ch.toLowerCase(), value],
  ]),
);

/**
 * The first `characters` Base32 characters of `bytes` (default: all of them, the last one zero-padded).
 * Throws a RangeError if `characters` asks for more bits than `bytes` holds plus that padding.
 */
export function base32Encode(bytes: Uint8Array, characters = Math.ceil((bytes.length * 8) / 5)): string {
  if (!Number.isInteger(characters) || characters < 0 || characters > Math.ceil((bytes.length * 8) / 5)) {
    throw new RangeError(`cannot take ${characters} Base32 characters from ${bytes.length} bytes`);
  }
  let out = '';
  let buffer = 0;
  let bits = 0;
  let index = 0;
  while (out.length < characters) {
    if (bits < 5) {
      // Past the end the encoding continues with zero bits (RFC 4648 §6 padding of the last group).
      buffer = ((buffer << 8) | (bytes[index++] ?? 0)) & 0xffff;
      bits += 8;
    }
    bits -= 5;
    out += ALPHABET[(buffer >> bits) & 0x1f];
  }
  return out;
}

/** The result of decoding Base32 text: whole octets, and whether the leftover (< 8) bits are all zero. */
export interface Base32Decoded {
  readonly bytes: Uint8Array;
  /** Number of bits after the last whole octet (5·length mod 8). */
  readonly leftoverBits: number;
  /** True when those leftover bits are zero, as they are in the canonical encoding of whole octets. */
  readonly leftoverZero: boolean;
}

/**
 * Decodes Base32 characters, case-insensitively. Returns undefined if any character is outside the
 * alphabet (dashes included: callers strip group separators first).
 */
export function base32Decode(text: string): Base32Decoded | undefined {
  const bytes = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const ch of text) {
    const value = DECODE.get(ch);
    if (value === undefined) return undefined;
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[index++] = (buffer >> bits) & 0xff;
    }
  }
  return { bytes, leftoverBits: bits, leftoverZero: (buffer & ((1 << bits) - 1)) === 0 };
}
