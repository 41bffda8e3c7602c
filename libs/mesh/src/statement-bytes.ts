import { bytesEqual, utf8 } from '@cryptomesh/crypto/portable';
import type { JsonObject, JsonValue } from './json';

/**
 * The canonical JSON of a logged record's statement, cut from the entry it was read from instead of
 * serialised again (issue #17: every auditor serialised each entry's statement, a few kilobytes of
 * strings for each entry, to check the digest its request signs).
 *
 * An entry is the RFC 8785 (JCS) form of the record: `{`, its members `"name":value` in order of
 * name, separated by commas, `}`. The statement is the record without `Authorisation`, so its JCS
 * form is the entry without the member `"Authorisation":…` and one comma. The cut is made only
 * when the entry's bytes before that member are exactly the JCS of the members that sort before it
 * (made here, from the record's own values) and the bytes after them exactly the JCS of the member
 * and its comma: then what remains is the statement's JCS, by the definition of JCS. Anything else
 * — a record whose `Authorisation` sorts last, a member before it (or the member itself) that is
 * not a string or an object of strings, bytes that are not what the record's values make — keeps
 * no bytes, and the statement is serialised as before.
 */
const kept = new WeakMap<object, Uint8Array>();

const AUTHORISATION = 'Authorisation';

/**
 * Keeps the JCS bytes of `statement`, cut from `entry`. The caller MUST have proved `entry` to be
 * exactly the JCS form of `record` (`decodeEntry` did, just before), whose members are the
 * statement's plus `Authorisation`: only the bytes up to the end of that member are compared here,
 * and the rest is taken as it is. `statement` is frozen, with every object and array in it, so that
 * the bytes stay its canonical form; a statement that cannot be cut keeps nothing.
 */
export function keepStatementBytes(entry: Uint8Array, record: JsonObject, statement: JsonObject): void {
  const bytes = cutStatement(entry, record);
  if (bytes === undefined) return;
  deepFreeze(statement);
  kept.set(statement, bytes);
}

/**
 * The JCS bytes kept for exactly this (frozen) statement object, if any, given once: a request's
 * digest is taken once, and bytes kept longer would stay with every record of a part in flight. A
 * statement asked about again (a part judged again after a refused signature) is serialised.
 */
export function takeStatementBytes(statement: object): Uint8Array | undefined {
  const bytes = kept.get(statement);
  if (bytes !== undefined) kept.delete(statement);
  return bytes;
}

function cutStatement(entry: Uint8Array, record: JsonObject): Uint8Array | undefined {
  const authorisation = record[AUTHORISATION];
  if (authorisation === undefined) return undefined;
  const names = sortedNames(record);
  const at = names.indexOf(AUTHORISATION);
  if (at === names.length - 1) return undefined;
  let head = '{';
  for (let i = 0; i < at; i++) {
    const value = jcs(record[names[i]!]!);
    if (value === undefined) return undefined;
    head += `${JSON.stringify(names[i])}:${value},`;
  }
  const value = jcs(authorisation);
  if (value === undefined) return undefined;
  const member = `${JSON.stringify(AUTHORISATION)}:${value},`;
  const headLength = matchAt(entry, 0, head);
  if (headLength === undefined) return undefined;
  const memberLength = matchAt(entry, headLength, member);
  if (memberLength === undefined || entry.length <= headLength + memberLength) return undefined;
  const out = new Uint8Array(entry.length - memberLength);
  out.set(entry.subarray(0, headLength), 0);
  out.set(entry.subarray(headLength + memberLength), headLength);
  return out;
}

/**
 * The JCS text of `value` when it is a string, or an object of strings only (a JWS: the only
 * `Authorisation` that can verify), written as JCS writes them: names in order, each name and
 * string as JSON.stringify writes it (RFC 8785 §3.2.2.2). Anything else is undefined, and no cut is
 * made: nothing here recurses, so no depth of nesting a hostile log can send reaches the stack.
 */
function jcs(value: JsonValue): string | undefined {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const names = sortedNames(value);
  let out = '{';
  for (const name of names) {
    const member = value[name];
    if (typeof member !== 'string') return undefined;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(name)}:${JSON.stringify(member)}`;
  }
  return `${out}}`;
}

/**
 * The names of `value` in JCS order: by UTF-16 code units, as `sort` orders them. Parsed from
 * canonical JSON they come in that order already (unless integer-like, which JavaScript lists first),
 * and are then not sorted again: sorting allocated more than the cut saved (issue #17).
 */
function sortedNames(value: object): string[] {
  const names = Object.keys(value);
  for (let i = 1; i < names.length; i++) if (names[i - 1]! >= names[i]!) return names.sort();
  return names;
}

/**
 * The length in bytes of `text` in UTF-8 when `bytes` hold exactly that from `offset`, else
 * undefined. ASCII text, as a logged record's is, is compared without being encoded.
 */
function matchAt(bytes: Uint8Array, offset: number, text: string): number | undefined {
  if (offset + text.length > bytes.length) return undefined;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) {
      const encoded = utf8(text);
      const end = offset + encoded.length;
      return end <= bytes.length && bytesEqual(bytes.subarray(offset, end), encoded)
        ? encoded.length
        : undefined;
    }
    if (bytes[offset + i] !== code) return undefined;
  }
  return text.length;
}

/** Freezes `value` and every object and array in it, without recursion (any depth). */
function deepFreeze(value: unknown): void {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (next === null || typeof next !== 'object') continue;
    Object.freeze(next);
    for (const member of Object.values(next)) pending.push(member);
  }
}
