import {
  BoundedMemo,
  findDuplicateMember,
  fromBase64Url,
  fromUtf8,
  parseUdf,
  toBase64Url,
} from '@cryptomesh/crypto/portable';
import { encodeEntry, type JsonValue } from '@cryptomesh/log';
import { MeshError, type MeshErrorCode } from './mesh-error';

/** Longer than the text of any UDF (at most 520 bits: 104 Base32 characters and their dashes). */
const MAX_UDF_TEXT = 200;

/**
 * Texts found to be UDFs in their canonical form (issue #17: every entry names its account, its
 * device and its profile again, and each was parsed, dashes stripped and put back, to check it).
 * Only a text that passed is kept; the oldest goes first, so input that names many new UDFs only
 * makes the known ones parsed again, as they were before.
 */
const canonicalUdfs = new BoundedMemo<string, true>(4096, MAX_UDF_TEXT);

/** `parseUdf(text).text === text`, remembered for the texts it holds of. */
function isCanonicalUdf(text: string): boolean {
  if (canonicalUdfs.peek(text) === true) return true;
  let canonical: string | undefined;
  try {
    canonical = text.length <= MAX_UDF_TEXT ? parseUdf(text).text : undefined;
  } catch {
    canonical = undefined;
  }
  if (canonical !== text) return false;
  canonicalUdfs.keep(text, true);
  return true;
}

/** A JSON object, as payloads and records are. */
export type JsonObject = { readonly [key: string]: JsonValue };
export type { JsonValue };

/**
 * RFC 8785 (JCS) canonical UTF-8 of a JSON object — the same encoding as log entries (`encodeEntry`),
 * so that every digest and signature in this library is over one spelling of a value.
 * Throws 'input.invalid' for a value that is not I-JSON.
 */
export function canonicalJson(value: object): Uint8Array {
  try {
    return encodeEntry(value as JsonObject);
  } catch (cause) {
    throw new MeshError('input.invalid', 'the value is not an I-JSON object', { cause });
  }
}

/** Base64url of the canonical JSON of `value` (a JWS payload). */
export function canonicalBase64Url(value: object): string {
  return toBase64Url(canonicalJson(value));
}

/**
 * Parses base64url-encoded UTF-8 JSON (a JWS payload); throws `code` if it is not a JSON object, or
 * if one of its objects names a member twice (JSON.parse would keep the last one silently, and another
 * reader of the same signed bytes might take the first: issue #14, hole 5).
 */
export function decodeJsonObject(
  base64url: string,
  what: string,
  code: MeshErrorCode,
): Record<string, unknown> {
  const bytes = fromBase64Url(base64url);
  if (bytes === undefined) throw new MeshError(code, `${what} is not base64url`);
  let value: unknown;
  let text: string;
  try {
    text = fromUtf8(bytes);
    value = JSON.parse(text);
  } catch (cause) {
    throw new MeshError(code, `${what} is not UTF-8 JSON`, { cause });
  }
  const duplicate = findDuplicateMember(text);
  if (duplicate !== undefined) throw new MeshError(code, `${what} names "${duplicate}" twice`);
  return JsonReader.object(value, what, code).value;
}

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads the members of one JSON object, throwing `code` with the object's name on the first member
 * that is missing, of the wrong type, or (after `members`) not allowed.
 */
export class JsonReader {
  private constructor(
    readonly value: Record<string, unknown>,
    readonly what: string,
    readonly code: MeshErrorCode,
  ) {}

  static object(value: unknown, what: string, code: MeshErrorCode): JsonReader {
    if (!isJsonObject(value)) throw new MeshError(code, `${what} must be a JSON object`);
    return new JsonReader(value, what, code);
  }

  fail(message: string, cause?: unknown): never {
    throw new MeshError(this.code, `${this.what}: ${message}`, cause === undefined ? undefined : { cause });
  }

  /** Refuses members outside `names` (a payload means exactly what this library reads from it). */
  members(names: readonly string[]): this {
    for (const key of Object.keys(this.value))
      if (!names.includes(key)) this.fail(`unexpected member "${key}"`);
    return this;
  }

  raw(name: string): unknown {
    if (!(name in this.value)) this.fail(`missing "${name}"`);
    return this.value[name];
  }

  has(name: string): boolean {
    return this.value[name] !== undefined;
  }

  string(name: string): string {
    const value = this.raw(name);
    if (typeof value !== 'string' || value.length === 0) this.fail(`"${name}" must be a non-empty string`);
    return value;
  }

  /**
   * A UDF in its one written form (`parseUdf(text).text`, at most MAX_UDF_TEXT characters): an
   * account or a profile identifier. What a store keys by (an auditor looks an entry's account up
   * before any rule) is checked here, so no byte PostgreSQL refuses and no over-long key reaches it.
   */
  udf(name: string): string {
    const value = this.string(name);
    if (!isCanonicalUdf(value)) this.fail(`"${name}" is not a UDF in its canonical form`);
    return value;
  }

  /** A safe integer ≥ 0 (times in milliseconds, sequence numbers). */
  integer(name: string): number {
    const value = this.raw(name);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
      this.fail(`"${name}" must be an integer ≥ 0`);
    return value;
  }

  array(name: string): readonly unknown[] {
    const value = this.raw(name);
    if (!Array.isArray(value)) this.fail(`"${name}" must be an array`);
    return value as unknown[];
  }

  object(name: string): JsonReader {
    return JsonReader.object(this.raw(name), `${this.what} "${name}"`, this.code);
  }
}
