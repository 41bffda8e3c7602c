import { base32Decode, base32Encode } from './base32';
import { CryptoError } from './crypto-error';

/**
 * Type identifiers (the first octet of a UDF binary data sequence), draft-hallambaker-mesh-udf-13 §3.2
 * with the errata of specs/README.md (SHA-3-512 is 80, SHA-2-512 is 96, a Shamir share is 144).
 * Content digests add their compression level 1–4 to the base value (§5.1.3).
 */
export const UdfType = {
  HMAC_SHA_2_512: 0,
  HMAC_SHA_3_512: 1,
  HKDF_AES_512: 32,
  SHA_3_512: 80,
  SHA_2_512: 96,
  NONCE: 104,
  OID_SEQUENCE: 112,
  SHAMIR_SHARE: 144,
  SECRET_SEED: 200,
} as const;

/** What a UDF's type byte says it is. */
export type UdfKind =
  'authenticator' | 'content-digest' | 'encryption' | 'nonce' | 'oid-sequence' | 'share' | 'seed';

/** Precision of a UDF when the caller names none: 140 bits = 28 characters (specs/README.md errata). */
export const DEFAULT_UDF_BITS = 140;
/**
 * The shortest precision this library emits or accepts for a fingerprint: 100 bits = 20 characters, the
 * draft's smallest work factor for a public key fingerprint (§3.4.1: 92 bits after the type byte).
 */
export const MIN_UDF_BITS = 100;
/** The longest: the type byte and the whole 512-bit digest, 520 bits = 104 characters (§5.1). */
export const MAX_UDF_BITS = 520;

/** A parsed UDF. */
export interface Udf {
  /** The canonical presentation: upper case, groups of 4 joined by '-' (§3.1). */
  readonly text: string;
  /** The Base32 characters alone, upper case, no dashes: what prefix comparison works on (§3.4). */
  readonly characters: string;
  readonly type: number;
  readonly kind: UdfKind;
  /** Fingerprints (variable length): 5 × characters. Fixed-length UDFs: 8 × octets of the sequence. */
  readonly bits: number;
  /**
   * The binary data sequence, type byte first, in whole octets. For a fingerprint whose precision is not
   * a multiple of 8 the last partial octet is left out.
   */
  readonly bytes: Uint8Array;
}

/** The kind of a type byte, or undefined for a type the draft does not assign (§3.2, §9.5.5). */
export function udfKindOf(type: number): UdfKind | undefined {
  if (type === UdfType.HMAC_SHA_2_512 || type === UdfType.HMAC_SHA_3_512) return 'authenticator';
  if (type === UdfType.HKDF_AES_512 || type === UdfType.HKDF_AES_512 + 1) return 'encryption';
  if (type >= UdfType.SHA_3_512 && type <= UdfType.SHA_3_512 + 4) return 'content-digest';
  if (type >= UdfType.SHA_2_512 && type <= UdfType.SHA_2_512 + 4) return 'content-digest';
  if (type === UdfType.NONCE) return 'nonce';
  if (type === UdfType.OID_SEQUENCE) return 'oid-sequence';
  if (type === UdfType.SHAMIR_SHARE) return 'share';
  if (type === UdfType.SECRET_SEED) return 'seed';
  return undefined;
}

/** True for the kinds that are truncated for presentation: content digests and authenticators (§3, §5). */
export function isFingerprintKind(kind: UdfKind): boolean {
  return kind === 'content-digest' || kind === 'authenticator';
}

/**
 * Checks a requested fingerprint precision: a multiple of 20 bits (§3.1, §5) from MIN_UDF_BITS to
 * MAX_UDF_BITS. Throws CryptoError 'udf.bad-precision' otherwise.
 */
export function checkUdfPrecision(bits: number): void {
  if (!Number.isInteger(bits) || bits % 20 !== 0 || bits < MIN_UDF_BITS || bits > MAX_UDF_BITS) {
    throw new CryptoError(
      'udf.bad-precision',
      `UDF precision must be a multiple of 20 bits from ${MIN_UDF_BITS} to ${MAX_UDF_BITS}, got ${String(bits)}`,
    );
  }
}

/**
 * Inserts '-' between groups of 4 Base32 characters (§3.1; what `base32Encode` writes, or a
 * UDF's text without its dashes — no line terminators). A loop over slices, not a regular expression:
 * every UDF a portal or an auditor reads or makes is grouped, and the expression took three times
 * as long (issue #17).
 */
export function groupUdfCharacters(characters: string): string {
  let grouped = characters.slice(0, 4);
  for (let at = 4; at < characters.length; at += 4) grouped += `-${characters.slice(at, at + 4)}`;
  return grouped;
}

/**
 * Presents a fingerprint's binary data sequence (type byte first) at `bits` of precision: the first
 * bits/5 Base32 characters, grouped (§3.1; precision counts the type byte, specs/README.md errata).
 * Throws 'udf.bad-precision' for a precision checkUdfPrecision refuses or that `binary` is too short for.
 */
export function presentFingerprint(binary: Uint8Array, bits: number): string {
  checkUdfPrecision(bits);
  if (bits > binary.length * 8) {
    throw new CryptoError('udf.bad-precision', `${bits} bits asked of a ${binary.length * 8}-bit sequence`);
  }
  return groupUdfCharacters(base32Encode(binary, bits / 5));
}

/** Presents a fixed-length binary data sequence whole, never truncated (§3.1, §4), grouped. */
export function presentFixedLength(binary: Uint8Array): string {
  return groupUdfCharacters(base32Encode(binary));
}

// Groups of Base32 characters separated by single dashes; any group length, so that presentations in
// groups of 5 (002_17b4bc3c2303ddb1.txt §3.3.3) and undashed text parse too.
const UDF_TEXT = /^[A-Za-z2-7]+(?:-[A-Za-z2-7]+)*$/;

/**
 * Parses a UDF presentation: case-insensitive, dashes optional (§3.1 puts them in only to aid reading).
 *
 * Guarantees on success: the type byte is one the draft assigns; a fingerprint has 20 to 104 characters;
 * a fixed-length UDF (share, nonce, key, seed) decodes to whole octets with zero padding bits, as its
 * canonical encoding does. Throws CryptoError 'udf.malformed', 'udf.unknown-type' or 'udf.bad-length'.
 */
export function parseUdf(text: string): Udf {
  if (typeof text !== 'string' || !UDF_TEXT.test(text)) {
    throw new CryptoError(
      'udf.malformed',
      `not a UDF (Base32 in dash-separated groups): ${JSON.stringify(text)}`,
    );
  }
  const characters = text.replace(/-/g, '').toUpperCase();
  const decoded = base32Decode(characters);
  if (decoded === undefined) throw new CryptoError('udf.malformed', `not Base32: ${text}`);
  const type = decoded.bytes[0];
  if (type === undefined) {
    throw new CryptoError('udf.bad-length', `a UDF needs at least 2 characters for its type byte: ${text}`);
  }
  const kind = udfKindOf(type);
  if (kind === undefined) throw new CryptoError('udf.unknown-type', `unknown UDF type ${type}: ${text}`);

  if (isFingerprintKind(kind)) {
    const bits = characters.length * 5;
    if (bits < MIN_UDF_BITS || bits > MAX_UDF_BITS) {
      throw new CryptoError(
        'udf.bad-length',
        `a ${kind} UDF has ${MIN_UDF_BITS / 5} to ${MAX_UDF_BITS / 5} characters, got ${characters.length}`,
      );
    }
    return { text: groupUdfCharacters(characters), characters, type, kind, bits, bytes: decoded.bytes };
  }
  // Fixed length: the text must be exactly the encoding of whole octets, one character at most partly
  // padding (fewer than 5 leftover bits), and that padding zero.
  if (decoded.leftoverBits >= 5 || !decoded.leftoverZero || decoded.bytes.length < 2) {
    throw new CryptoError('udf.bad-length', `a ${kind} UDF must encode whole octets: ${text}`);
  }
  return {
    text: groupUdfCharacters(characters),
    characters,
    type,
    kind,
    bits: decoded.bytes.length * 8,
    bytes: decoded.bytes,
  };
}

/**
 * The draft's comparison rule (§3.4, §5): two fingerprints of the same content match when the shorter
 * presentation is a prefix of the longer, compared case-insensitively and ignoring dashes. Fixed-length
 * UDFs are never truncated, so they match only when equal. Both arguments MUST parse (parseUdf errors
 * are thrown as they are); a UDF is accepted in text or parsed form.
 */
export function udfMatches(a: string | Udf, b: string | Udf): boolean {
  const x = typeof a === 'string' ? parseUdf(a) : a;
  const y = typeof b === 'string' ? parseUdf(b) : b;
  if (!isFingerprintKind(x.kind) || !isFingerprintKind(y.kind)) return x.characters === y.characters;
  const [shorter, longer] = x.characters.length <= y.characters.length ? [x, y] : [y, x];
  return longer.characters.startsWith(shorter.characters);
}
