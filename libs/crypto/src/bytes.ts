/**
 * Small byte helpers. The library runs in browsers too (STYLE.md §1, DESIGN.md "Cryptography"), so it
 * works on Uint8Array only and never touches Buffer.
 */

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of `text`. Lone surrogates become U+FFFD, as TextEncoder does. */
export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decodes UTF-8; throws a TypeError on invalid sequences (callers wrap it with their own code). */
export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** The concatenation of `parts`, as a fresh array. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Byte-wise equality. Not constant-time: use it on public values only. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const HEX = '0123456789abcdef';

/** Lower-case hexadecimal. */
export function toHex(bytes: Uint8Array): string {
  const codes = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    codes[2 * i] = HEX.charCodeAt(bytes[i]! >> 4);
    codes[2 * i + 1] = HEX.charCodeAt(bytes[i]! & 0x0f);
  }
  return asciiString(codes);
}

// The encoders write character codes into one array and make the string from it at once: a string
// built by `+=` a character at a time allocates a string per character (issue #17: the auditor
// keyed every signature's key this way, 6 % of what it allocated).
const CHARS_PER_CALL = 8192;

/** The string of `codes`, each an ASCII character code. */
function asciiString(codes: Uint8Array): string {
  if (codes.length <= CHARS_PER_CALL) return String.fromCharCode.apply(null, codes as unknown as number[]);
  const parts: string[] = [];
  for (let i = 0; i < codes.length; i += CHARS_PER_CALL)
    parts.push(String.fromCharCode.apply(null, codes.subarray(i, i + CHARS_PER_CALL) as unknown as number[]));
  return parts.join('');
}

/** Decodes hexadecimal (either case, even length); returns undefined for anything else. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The big-endian unsigned integer that `bytes` encodes (network byte order, draft-hallambaker-mesh-udf-13 §4.5). */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${toHex(bytes)}`);
}

/** `value` as exactly `length` big-endian bytes; the caller guarantees 0 <= value < 2^(8·length). */
export function bigIntToBytes(value: bigint, length: number): Uint8Array {
  const hex = value.toString(16).padStart(2 * length, '0');
  if (value < 0n || hex.length > 2 * length) throw new RangeError(`${value} does not fit in ${length} bytes`);
  return fromHex(hex) as Uint8Array;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE64URL_CODES = Uint8Array.from(BASE64URL, (c) => c.charCodeAt(0));

/** RFC 4648 §5 base64url without padding, as JOSE uses it (RFC 7515 §2). */
export function toBase64Url(bytes: Uint8Array): string {
  const codes = new Uint8Array(Math.ceil((bytes.length * 4) / 3));
  let o = 0;
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i] as number;
    const b1 = bytes[i + 1];
    const b2 = bytes[i + 2];
    codes[o++] = BASE64URL_CODES[b0 >> 2]!;
    codes[o++] = BASE64URL_CODES[((b0 & 0x03) << 4) | ((b1 ?? 0) >> 4)]!;
    if (b1 !== undefined) codes[o++] = BASE64URL_CODES[((b1 & 0x0f) << 2) | ((b2 ?? 0) >> 6)]!;
    if (b2 !== undefined) codes[o++] = BASE64URL_CODES[b2 & 0x3f]!;
  }
  return asciiString(codes);
}

// Character code → 6-bit value, -1 for anything outside the alphabet (a table, not indexOf: profiles,
// entries and signatures are decoded on every request and every mirrored entry).
const BASE64URL_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64URL.length; i++) BASE64URL_VALUES[BASE64URL.charCodeAt(i)] = i;

/**
 * Decodes unpadded base64url. Returns undefined for any other character, a length that cannot occur
 * (4n+1), or non-zero unused bits, so that one value has exactly one encoding.
 */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 6) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (BASE64URL_VALUES[code] as number) : -1;
    if (value < 0) return undefined;
    buffer = ((buffer << 6) | value) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (buffer >> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}
