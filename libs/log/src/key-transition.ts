import { fromBase64, toBase64, utf8 } from './bytes';
import type { Ed25519 } from './ed25519';
import { decodeEntry, encodeEntry } from './entry';
import { isLogError, LogError } from './log-error';
import type { NoteSigner } from './note-signer';
import { checkKeyName, KEY_TYPE_ED25519, parseVerifierKey, type VerifierKey } from './verifier-key';

/**
 * The log key transition (docs/design/log-format.md "Key transitions"): the LAST entry of a part,
 * written by the log-signer (never by a gateway), sealed by the OLD key, naming the next log key.
 * Every seal after that part is signed by the next key, and the old key seals nothing more.
 *
 * The entry is the canonical JSON (RFC 8785) of
 * `{"LogKeyTransition":{"Next","NextSignature","Old","OldSignature","Origin","Part","Size"}}`, and
 * both keys sign the same domain-separated statement (`transitionStatement`): the old key says
 * "my successor is Next", the next key proves it is held by whoever wrote the transition.
 */
export const KEY_TRANSITION_FIELD = 'LogKeyTransition';

/** The first line of the signed statement: it can never be a note, a seal or a cosignature. */
export const KEY_TRANSITION_CONTEXT = 'cryptomesh log key transition v1';

export interface KeyTransition {
  /** The log's origin: unchanged by the transition (C2SP: the origin is the log's identity). */
  readonly origin: string;
  readonly oldKey: VerifierKey;
  readonly nextKey: VerifierKey;
  /** The index of the part this entry closes (sealed by the old key). */
  readonly part: number;
  /** The tree size of that part's seal: this entry's index + 1. */
  readonly size: number;
  readonly oldSignature: Uint8Array;
  readonly nextSignature: Uint8Array;
}

const FIELDS = ['Next', 'NextSignature', 'Old', 'OldSignature', 'Origin', 'Part', 'Size'] as const;
const PREFIX = utf8(`{"${KEY_TRANSITION_FIELD}":`);

/**
 * The statement both keys sign, as UTF-8: five lines, each ended by a newline —
 * the context, the origin, the old verifier key, the next verifier key, `<part> <size>`.
 */
export function transitionStatement(fields: {
  readonly origin: string;
  readonly oldKey: string;
  readonly nextKey: string;
  readonly part: number;
  readonly size: number;
}): Uint8Array {
  const { origin, oldKey, nextKey, part, size } = fields;
  return utf8(`${KEY_TRANSITION_CONTEXT}\n${origin}\n${oldKey}\n${nextKey}\n${part} ${size}\n`);
}

/**
 * The transition entry closing part `part` at tree size `size`, signed by `oldKey` and `nextKey`.
 * Throws `key.malformed` if the next key is not a log key (type 0x01) of the same name, or is the old one.
 */
export function signKeyTransition(input: {
  readonly origin: string;
  readonly oldKey: NoteSigner;
  readonly nextKey: NoteSigner;
  readonly part: number;
  readonly size: number;
}): Uint8Array {
  const { origin, oldKey, nextKey, part, size } = input;
  checkSuccessor(oldKey.verifierKey, nextKey.verifierKey);
  const statement = transitionStatement({
    origin,
    oldKey: oldKey.verifierKey.text,
    nextKey: nextKey.verifierKey.text,
    part,
    size,
  });
  return encodeEntry({
    [KEY_TRANSITION_FIELD]: {
      Next: nextKey.verifierKey.text,
      NextSignature: toBase64(nextKey.sign(statement)),
      Old: oldKey.verifierKey.text,
      OldSignature: toBase64(oldKey.sign(statement)),
      Origin: origin,
      Part: part,
      Size: size,
    },
  });
}

/** Whether these entry bytes claim to be a key transition (their canonical JSON's only key). */
export function isKeyTransitionEntry(entry: Uint8Array): boolean {
  if (entry.length < PREFIX.length) return false;
  return PREFIX.every((byte, i) => entry[i] === byte);
}

/** Parses a transition entry strictly; throws `verify.transition` for anything else. */
export function parseKeyTransition(entry: Uint8Array): KeyTransition {
  const bad = (why: string, cause?: unknown) =>
    new LogError('verify.transition', `a malformed key transition: ${why}`, { cause });
  let value;
  try {
    value = decodeEntry(entry);
  } catch (error) {
    throw bad('not canonical JSON', error);
  }
  const keys = Object.keys(value);
  const body = value[KEY_TRANSITION_FIELD];
  if (keys.length !== 1 || typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad(`not {"${KEY_TRANSITION_FIELD}": {…}} alone`);
  const fields = body as Record<string, unknown>;
  const names = Object.keys(fields);
  if (names.length !== FIELDS.length || FIELDS.some((f) => !names.includes(f)))
    throw bad(`its fields are not exactly ${FIELDS.join(', ')}`);
  const text = (name: string): string => {
    const v = fields[name];
    if (typeof v !== 'string') throw bad(`${name} is not a string`);
    return v;
  };
  const count = (name: string): number => {
    const v = fields[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`${name} is not a count`);
    return v;
  };
  try {
    const origin = text('Origin');
    // An origin is also the name of its log key: the same rule, so no control character (a NUL,
    // which PostgreSQL refuses) reaches the evidence of a finding about it.
    checkKeyName(origin);
    return {
      origin,
      oldKey: parseVerifierKey(text('Old'), KEY_TYPE_ED25519),
      nextKey: parseVerifierKey(text('Next'), KEY_TYPE_ED25519),
      part: count('Part'),
      size: count('Size'),
      oldSignature: fromBase64(text('OldSignature'), 'OldSignature'),
      nextSignature: fromBase64(text('NextSignature'), 'NextSignature'),
    };
  } catch (error) {
    if (isLogError(error) && error.code !== 'verify.transition') throw bad(error.message, error);
    throw error;
  }
}

/**
 * Checks a parsed transition where it stands: it MUST name the log's origin, the CURRENT key as
 * its old key, the part and tree size it closes, a successor that is a log key of the same name
 * other than the old one, and carry valid signatures of the statement by both keys. Throws
 * `verify.transition` with what was expected and seen.
 */
export function checkKeyTransition(
  transition: KeyTransition,
  expected: {
    readonly origin: string;
    readonly currentKey: VerifierKey;
    readonly part: number;
    readonly size: number;
  },
  ed25519: Ed25519,
): void {
  const mismatch = (what: string, want: string, seen: string) =>
    new LogError('verify.transition', `the key transition names ${what}`, { expected: want, seen });
  if (transition.origin !== expected.origin)
    throw mismatch('another origin', expected.origin, transition.origin);
  if (transition.oldKey.text !== expected.currentKey.text)
    throw mismatch(
      'an old key that is not the current log key',
      expected.currentKey.text,
      transition.oldKey.text,
    );
  if (transition.part !== expected.part)
    throw mismatch('another part', String(expected.part), String(transition.part));
  if (transition.size !== expected.size)
    throw mismatch('another tree size', String(expected.size), String(transition.size));
  try {
    checkSuccessor(transition.oldKey, transition.nextKey);
  } catch (error) {
    throw new LogError(
      'verify.transition',
      `the next key is not a valid successor: ${(error as Error).message}`,
    );
  }
  const statement = transitionStatement({
    origin: transition.origin,
    oldKey: transition.oldKey.text,
    nextKey: transition.nextKey.text,
    part: transition.part,
    size: transition.size,
  });
  if (!ed25519.verify(transition.oldKey.publicKey, statement, transition.oldSignature))
    throw new LogError('verify.transition', 'the key transition is not signed by the current log key', {
      expected: transition.oldKey.text,
    });
  if (!ed25519.verify(transition.nextKey.publicKey, statement, transition.nextSignature))
    throw new LogError('verify.transition', 'the key transition is not signed by the next key', {
      expected: transition.nextKey.text,
    });
}

/**
 * Follows a chain of transitions (oldest first) from a pinned key, checking each statement's
 * signatures and that each starts from the key the previous one named. Returns the keys in order,
 * each with the tree size and part from which the NEXT one seals (the pinned key first). Throws
 * `verify.transition` for a break in the chain.
 */
export function followKeyTransitions(
  pinned: VerifierKey,
  origin: string,
  entries: readonly Uint8Array[],
  ed25519: Ed25519,
): Array<{ key: VerifierKey; until?: { part: number; size: number } }> {
  const chain: Array<{ key: VerifierKey; until?: { part: number; size: number } }> = [{ key: pinned }];
  for (const entry of entries) {
    const t = parseKeyTransition(entry);
    const current = chain[chain.length - 1]!;
    checkKeyTransition(t, { origin, currentKey: current.key, part: t.part, size: t.size }, ed25519);
    const last = chain.length > 1 ? chain[chain.length - 2]!.until : undefined;
    if (last !== undefined && t.part <= last.part)
      throw new LogError('verify.transition', 'the key transitions are not in log order');
    if (chain.some((link) => link.key.text === t.nextKey.text))
      throw new LogError('verify.transition', 'a key transition names a key the log already used', {
        seen: t.nextKey.text,
      });
    current.until = { part: t.part, size: t.size };
    chain.push({ key: t.nextKey });
  }
  return chain;
}

function checkSuccessor(oldKey: VerifierKey, nextKey: VerifierKey): void {
  if (nextKey.type !== KEY_TYPE_ED25519)
    throw new LogError('key.malformed', 'the next log key is not an Ed25519 signed-note key (type 0x01)');
  if (nextKey.name !== oldKey.name)
    throw new LogError('key.malformed', `the next log key is named ${nextKey.name}, not ${oldKey.name}`);
  if (nextKey.text === oldKey.text)
    throw new LogError('key.malformed', 'the next log key is the current one');
}
