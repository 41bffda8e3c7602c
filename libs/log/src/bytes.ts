import { LogError, type LogErrorCode } from './log-error';

/**
 * Byte helpers that run unchanged in Node and in browsers (no `Buffer`, STYLE.md §1).
 * Base64 is the standard alphabet with padding (RFC 4648 §4), as C2SP signed-note and
 * tlog-checkpoint require; decoding is canonical so that one byte string has one spelling.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const PAD = '='.charCodeAt(0);
/** Characters made into a string by one call (an engine's bound on arguments is far above). */
const CHARS_PER_CALL = 8192;

/** Encodes `bytes` as padded standard base64 (RFC 4648 §4). MUST NOT fail for any input. */
export function toBase64(bytes: Uint8Array): string {
  // Character codes first, then one string: `+=` a group at a time made a string per group (every
  // entry a portal publishes is encoded here, issue #17).
  const codes = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    codes[o++] = CODES[n >> 18]!;
    codes[o++] = CODES[(n >> 12) & 63]!;
    codes[o++] = CODES[(n >> 6) & 63]!;
    codes[o++] = CODES[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    codes[o++] = CODES[n >> 18]!;
    codes[o++] = CODES[(n >> 12) & 63]!;
    codes[o++] = rest === 2 ? CODES[(n >> 6) & 63]! : PAD;
    codes[o++] = PAD;
  }
  let out = '';
  for (let c = 0; c < codes.length; c += CHARS_PER_CALL)
    out += String.fromCharCode.apply(null, codes.subarray(c, c + CHARS_PER_CALL) as unknown as number[]);
  return out;
}

/**
 * Decodes padded standard base64. MUST reject (LogError with `code`, default `encoding.malformed`)
 * anything but the canonical encoding: a length not a multiple of 4, characters outside the
 * alphabet, misplaced padding, or non-zero bits in the padding — so a flipped bit never decodes to
 * the same bytes. `what` names the field in the error message.
 */
export function fromBase64(
  text: string,
  what = 'base64',
  code: LogErrorCode = 'encoding.malformed',
): Uint8Array {
  // Every mirrored entry is decoded here (issue #17: 5.7 % of the auditor's thread): the groups
  // before the last take a lookup-only loop; the last group, and any input that is not plainly
  // valid, take the checking loop below, which reports the exact fault.
  const length = text.length;
  if (length >= 8 && length % 4 === 0) {
    const out = new Uint8Array((length / 4) * 3 - (text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0));
    let o = 0;
    let bad = 0;
    const end = length - 4;
    for (let i = 0; i < end; i += 4) {
      const n =
        (sextet(text.charCodeAt(i)) << 18) |
        (sextet(text.charCodeAt(i + 1)) << 12) |
        (sextet(text.charCodeAt(i + 2)) << 6) |
        sextet(text.charCodeAt(i + 3));
      bad |= n;
      out[o++] = n >> 16;
      out[o++] = (n >> 8) & 0xff;
      out[o++] = n & 0xff;
    }
    if (bad >= 0) {
      let tail: Uint8Array | undefined;
      try {
        tail = checkedBase64(text.slice(end), what, code);
      } catch {
        // Reported below, with the whole text.
      }
      if (tail !== undefined) {
        out.set(tail, o);
        return out;
      }
    }
  }
  return checkedBase64(text, what, code);
}

/** A base64 character's 6 bits; -1 (every bit set, so an OR of groups turns negative) outside the alphabet. */
function sextet(c: number): number {
  return c < 128 ? DECODE[c]! : -1;
}

function checkedBase64(text: string, what: string, code: LogErrorCode): Uint8Array {
  const fail = (why: string): never => {
    throw new LogError(code, `${what}: ${why}`, {
      seen: text.length > 120 ? `${text.slice(0, 120)}…` : text,
    });
  };
  if (text.length % 4 !== 0) fail('base64 length is not a multiple of 4');
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      let v = c < 128 ? DECODE[c]! : -1;
      if (c === 0x3d && last && j >= 4 - pad) v = 0;
      else if (v < 0) fail(c === 0x3d ? 'misplaced base64 padding' : 'character outside the base64 alphabet');
      n = (n << 6) | v;
    }
    if (last && pad === 2 && (n & 0xffff) !== 0) fail('non-canonical base64 (padding bits set)');
    if (last && pad === 1 && (n & 0xff) !== 0) fail('non-canonical base64 (padding bits set)');
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hexadecimal. MUST NOT fail for any input. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b]!;
  return out;
}

/** Decodes lower- or upper-case hex of even length; MUST throw `encoding.malformed` otherwise. */
export function fromHex(text: string): Uint8Array {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new LogError('encoding.malformed', 'hex: not an even-length hexadecimal string', { seen: text });
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const encoder = new TextEncoder();
// fatal: invalid UTF-8 is an error, never U+FFFD; ignoreBOM: a BOM is kept and then rejected by
// whatever parses the text, rather than silently dropped.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 encoding; lone surrogates become U+FFFD, so callers MUST validate text they sign. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes strict UTF-8; MUST throw LogError `code` for invalid sequences, never substitute U+FFFD. */
export function fromUtf8(bytes: Uint8Array, what: string, code: LogErrorCode): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new LogError(code, `${what}: not valid UTF-8`, { cause });
  }
}

/** A new array holding `parts` in order; the inputs MAY be reused afterwards. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Byte equality. It MAY return early: everything this library compares (hashes, public keys) is
 * public, so timing leaks nothing.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Big-endian u32 (C2SP key IDs); `n` MUST be an unsigned 32-bit integer. */
export function u32be(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** Reads a big-endian u32; `bytes` MUST hold 4 bytes at `offset`. */
export function readU32be(bytes: Uint8Array, offset = 0): number {
  return (
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
    0
  );
}

/** Big-endian u64 of a non-negative safe integer (tlog-cosignature timestamps); MUST throw RangeError otherwise. */
export function u64be(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`u64be: ${n} is not a non-negative safe integer`);
  const out = new Uint8Array(8);
  const high = Math.floor(n / 2 ** 32);
  const low = n >>> 0;
  new DataView(out.buffer).setUint32(0, high);
  new DataView(out.buffer).setUint32(4, low);
  return out;
}

/** Reads a big-endian u64; MUST return undefined, not a rounded value, above Number.MAX_SAFE_INTEGER. */
export function readU64be(bytes: Uint8Array, offset = 0): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 8);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  if (high >= 2 ** 21) return undefined;
  return high * 2 ** 32 + low;
}

/**
 * Parses an ASCII decimal with no sign and no leading zeros (C2SP tlog-checkpoint tree size,
 * tlog-cosignature timestamp); MUST return undefined for anything else or above MAX_SAFE_INTEGER.
 */
export function parseDecimal(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}
