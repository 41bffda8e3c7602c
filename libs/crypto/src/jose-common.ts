import { importJWK, KeyLike } from 'jose';
import { fromBase64Url, fromUtf8, toBase64Url } from './bytes';
import { CryptoError, CryptoErrorCode } from './crypto-error';
import { findDuplicateMember } from './duplicate-member';
import { KeyAlgorithm } from './key-algorithm';

/** A plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Decodes a base64url JOSE member (RFC 7515 §2: unpadded); throws CryptoError `code` naming `what`.
 */
export function decodeMember(value: unknown, what: string, code: CryptoErrorCode): Uint8Array {
  const bytes = typeof value === 'string' ? fromBase64Url(value) : undefined;
  if (bytes === undefined) throw new CryptoError(code, `${what} is not base64url`);
  return bytes;
}

/**
 * Decodes a protected header: base64url of the UTF-8 of a JSON object (RFC 7515 §7.2.1, RFC 7516 §7.2.1).
 * MUST refuse a header that names a parameter twice (RFC 7515 §4: "MUST reject", duplicate-member.ts).
 */
export function decodeProtectedHeader(value: unknown, code: CryptoErrorCode): Record<string, unknown> {
  const bytes = decodeMember(value, 'the protected header', code);
  let header: unknown;
  let text: string;
  try {
    text = fromUtf8(bytes);
    header = JSON.parse(text);
  } catch (cause) {
    throw new CryptoError(code, 'the protected header is not UTF-8 JSON', { cause });
  }
  if (!isJsonObject(header)) throw new CryptoError(code, 'the protected header is not a JSON object');
  const duplicate = findDuplicateMember(text);
  if (duplicate !== undefined) throw new CryptoError(code, `the protected header names "${duplicate}" twice`);
  return header;
}

/** Checks that `value` has no members other than `allowed`; throws CryptoError `code` otherwise. */
export function checkMembers(
  value: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
  code: CryptoErrorCode,
): void {
  const extra = Object.keys(value).filter((name) => !allowed.includes(name));
  if (extra.length > 0)
    throw new CryptoError(code, `${what} has members the profile does not allow: ${extra.join(', ')}`);
}

/**
 * A raw key as jose wants it (a KeyObject on Node, a CryptoKey in browsers), imported from an RFC 8037
 * OKP JWK. `alg` is the JOSE algorithm it will be used with.
 */
export async function importOkpKey(
  algorithm: KeyAlgorithm,
  alg: string,
  publicKey: Uint8Array,
  privateKey?: Uint8Array,
): Promise<KeyLike> {
  const jwk = {
    kty: 'OKP',
    crv: algorithm,
    x: toBase64Url(publicKey),
    ...(privateKey ? { d: toBase64Url(privateKey) } : {}),
  };
  const key = await importJWK(jwk, alg);
  if (key instanceof Uint8Array)
    throw new CryptoError('key.malformed', 'an OKP JWK imported as a symmetric key');
  return key;
}
