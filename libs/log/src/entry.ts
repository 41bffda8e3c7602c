import canonicalize from 'canonicalize';
import { fromUtf8, utf8 } from './bytes';
import { LogError } from './log-error';
import { hashLeaf, type Hash } from './tree-hasher';

/**
 * Entry encoding (DESIGN.md "The log", Leaf): an entry is the RFC 8785 (JCS) canonical JSON of a
 * transaction record, in UTF-8, and those exact bytes are the Merkle leaf. The record's schema
 * belongs to `@cryptomesh/mesh`; here a record is any JSON object.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A transaction record: a JSON object. */
export type TransactionRecord = { readonly [key: string]: JsonValue };

// JSON.stringify (and so JCS) writes a lone UTF-16 surrogate as a \uD8xx…\uDFxx escape; RFC 8785
// §3.2.2.2 admits only I-JSON, where such strings are invalid. Matches an escape that is not itself
// escaped (an even number of backslashes before it).
const LONE_SURROGATE_ESCAPE = /(?<!\\)(?:\\\\)*\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

/**
 * Encodes a transaction record as its entry bytes (RFC 8785 JCS, UTF-8). MUST be deterministic:
 * equal records give equal bytes whatever their key order. Throws `entry.malformed` for a value that
 * is not a JSON object, or that holds a non-finite number or a lone surrogate.
 */
export function encodeEntry(record: TransactionRecord): Uint8Array {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new LogError('entry.malformed', 'a transaction record must be a JSON object');
  }
  let text: string | undefined;
  try {
    text = canonicalize(record);
  } catch (cause) {
    throw new LogError('entry.malformed', 'the transaction record is not valid I-JSON', { cause });
  }
  if (text === undefined || LONE_SURROGATE_ESCAPE.test(text)) {
    throw new LogError('entry.malformed', 'the transaction record is not valid I-JSON (lone surrogate)');
  }
  return utf8(text);
}

/**
 * Decodes entry bytes back to the record. MUST accept only the exact canonical form: bytes that are
 * not UTF-8, not JSON, not an object, or hold a lone surrogate throw `entry.malformed`; valid JSON
 * that differs from its JCS form (spacing, key order, number spelling, escapes) throws
 * `entry.not-canonical`.
 */
export function decodeEntry(entry: Uint8Array): TransactionRecord {
  const text = fromUtf8(entry, 'entry', 'entry.malformed');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new LogError('entry.malformed', 'the entry is not JSON', { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LogError('entry.malformed', 'the entry is not a JSON object');
  }
  if (!isCanonical(value, text)) {
    throw new LogError('entry.not-canonical', 'the entry is not RFC 8785 canonical JSON', {
      expected: canonicalize(value),
      seen: text.length > 200 ? `${text.slice(0, 200)}…` : text,
    });
  }
  if (LONE_SURROGATE_ESCAPE.test(text))
    throw new LogError('entry.malformed', 'the entry holds a lone surrogate');
  return value as TransactionRecord;
}

/**
 * Whether `text` is the JCS form of `value` (parsed from it). RFC 8785 serialises strings and
 * numbers exactly as ECMAScript JSON.stringify does and orders object keys by UTF-16 code units, so
 * when JSON.stringify reproduces the text and every object's keys are already in that order, the
 * text is canonical: that fast path is all a verifier streaming a million entries can afford.
 * Anything else (including objects with integer-like keys, which JavaScript enumerates first) is
 * decided by `canonicalize` itself.
 */
function isCanonical(value: object, text: string): boolean {
  if (JSON.stringify(value) === text && keysSorted(value)) return true;
  return canonicalize(value) === text;
}

function keysSorted(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(keysSorted);
  const keys = Object.keys(value);
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! >= keys[i]!) return false;
  return keys.every((k) => keysSorted((value as Record<string, unknown>)[k]));
}

/** The RFC 9162 leaf hash of an entry: SHA-256(0x00 ‖ entry bytes). MUST be given the exact entry bytes. */
export function entryLeafHash(entry: Uint8Array): Hash {
  return hashLeaf(entry);
}
