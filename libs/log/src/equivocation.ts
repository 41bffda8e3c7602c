import { bytesEqual, fromBase64, toBase64 } from './bytes';
import { verifyConsistency } from './consistency-proof';
import type { Ed25519 } from './ed25519';
import { isLogError, LogError } from './log-error';
import { openSeal, type OpenedSeal, type Seal } from './seal';
import { HASH_SIZE, type Hash } from './tree-hasher';
import { KEY_TYPE_ED25519, parseVerifierKey, type VerifierKey } from './verifier-key';

/**
 * Equivocation evidence: two seals validly signed by one portal's log key that cannot both be true
 * (C2SP tlog-checkpoint: "A log MUST not sign any checkpoint which is inconsistent with any
 * checkpoint it previously signed"; DESIGN.md invariant 2). It is self-contained and JSON-ready:
 * anyone holding the portal's verifier key can check it with `verifyEquivocation`, and nothing
 * else — no access to the log, no trust in whoever reports it.
 *
 * - `same-part`: two different seal bodies for the same part index.
 * - `inconsistent-trees`: the older seal (size m > 0) and the newer seal (size n ≥ m) have roots
 *   that no append-only log can produce. For m = n the roots simply differ. For m < n the evidence
 *   carries `rootAtOlderSize`, the root at size m of the newer seal's tree, and the RFC 9162
 *   §2.1.4 consistency proof from that root to the newer root: the proof verifies, so (SHA-256
 *   being collision resistant) the newer tree's first m entries really hash to `rootAtOlderSize`;
 *   and that differs from the older seal's root.
 */
export type EquivocationEvidence =
  | {
      readonly kind: 'same-part';
      readonly verifierKey: string;
      readonly origin: string;
      readonly notes: readonly [string, string];
    }
  | {
      readonly kind: 'inconsistent-trees';
      readonly verifierKey: string;
      readonly origin: string;
      /** The older (smaller or equal size) seal first. */
      readonly notes: readonly [string, string];
      /** Base64 root of the newer seal's tree at the older seal's size. */
      readonly rootAtOlderSize: string;
      /** Base64 RFC 9162 consistency proof from `rootAtOlderSize` to the newer seal's root. */
      readonly proof: readonly string[];
    };

export interface FindEquivocationInput {
  readonly logKey: VerifierKey;
  readonly ed25519: Ed25519;
  /** Defaults to the key name. */
  readonly origin?: string;
  readonly notes: readonly [string, string];
  /**
   * For seals of different sizes: the root at the smaller size of the larger seal's tree and the
   * consistency proof between them, e.g. from a mirror's stored nodes (`MerkleTree.rootAt` and
   * `consistencyProof`) or from the portal's own proof endpoint.
   */
  readonly consistency?: { readonly rootAtOlderSize: Hash; readonly proof: readonly Hash[] };
}

/**
 * Returns the evidence if the two seals equivocate, or undefined if they do not (or if, for
 * different sizes, no `consistency` data was given). MUST throw the seals' own errors (`note.*`,
 * `seal.*`, `checkpoint.*`) when either is not a valid seal of this portal — an invalid seal
 * proves nothing — and `proof.invalid` when `consistency` does not lead to the larger seal's root.
 * Evidence returned always passes `verifyEquivocation`.
 */
export function findEquivocation(input: FindEquivocationInput): EquivocationEvidence | undefined {
  const { logKey, ed25519 } = input;
  const origin = input.origin ?? logKey.name;
  const [a, b] = input.notes.map((n) => openSeal(n, logKey, ed25519, origin)) as [OpenedSeal, OpenedSeal];
  const base = { verifierKey: logKey.text, origin };
  if (a.seal.part.index === b.seal.part.index && a.note.text !== b.note.text) {
    return { kind: 'same-part', ...base, notes: input.notes };
  }
  const [older, newer] = a.seal.size <= b.seal.size ? [a, b] : [b, a];
  const notes = [
    older === a ? input.notes[0] : input.notes[1],
    newer === a ? input.notes[0] : input.notes[1],
  ] as const;
  const m = older.seal.size;
  const n = newer.seal.size;
  if (m === 0) return undefined;
  if (m === n) {
    if (bytesEqual(older.seal.root, newer.seal.root)) return undefined;
    return {
      kind: 'inconsistent-trees',
      ...base,
      notes,
      rootAtOlderSize: toBase64(newer.seal.root),
      proof: [],
    };
  }
  if (input.consistency === undefined) return undefined;
  const { rootAtOlderSize, proof } = input.consistency;
  verifyConsistency(m, n, proof, rootAtOlderSize, newer.seal.root);
  if (bytesEqual(rootAtOlderSize, older.seal.root)) return undefined;
  return {
    kind: 'inconsistent-trees',
    ...base,
    notes,
    rootAtOlderSize: toBase64(rootAtOlderSize),
    proof: proof.map(toBase64),
  };
}

function invalid(
  message: string,
  details: { expected?: string; seen?: string; cause?: unknown } = {},
): LogError {
  return new LogError('evidence.invalid', message, details);
}

function malformed(message: string): LogError {
  return new LogError('evidence.malformed', message);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function checkShape(value: unknown): EquivocationEvidence {
  if (value === null || typeof value !== 'object') throw malformed('evidence must be a JSON object');
  const e = value as Record<string, unknown>;
  if (e.kind !== 'same-part' && e.kind !== 'inconsistent-trees') throw malformed('unknown evidence kind');
  if (typeof e.verifierKey !== 'string' || typeof e.origin !== 'string')
    throw malformed('evidence needs verifierKey and origin strings');
  if (!isStringArray(e.notes) || e.notes.length !== 2) throw malformed('evidence needs exactly two notes');
  if (e.kind === 'inconsistent-trees' && (typeof e.rootAtOlderSize !== 'string' || !isStringArray(e.proof))) {
    throw malformed('inconsistent-trees evidence needs rootAtOlderSize and proof');
  }
  return value as EquivocationEvidence;
}

function decodeHash(text: string, what: string): Hash {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(text, what);
  } catch (cause) {
    throw new LogError('evidence.malformed', `${what} is not base64`, { cause });
  }
  if (bytes.length !== HASH_SIZE) throw malformed(`${what} is not a ${HASH_SIZE}-byte hash`);
  return bytes;
}

/**
 * Checks equivocation evidence (any JSON value) and returns the two conflicting seals. MUST throw
 * `evidence.malformed` for a value of the wrong shape, and `evidence.invalid` — with the reason —
 * when it proves nothing: a note that is not validly signed by the evidence's key, a key other than
 * `trustedKey` (when given; pass it, or the evidence could be signed by anyone's key), seals that
 * agree, or a consistency proof that does not verify.
 */
export function verifyEquivocation(
  evidence: unknown,
  ed25519: Ed25519,
  trustedKey?: VerifierKey,
): [Seal, Seal] {
  const e = checkShape(evidence);
  let key: VerifierKey;
  try {
    key = parseVerifierKey(e.verifierKey, KEY_TYPE_ED25519);
  } catch (cause) {
    throw invalid('the evidence verifier key is not a valid log key', { cause });
  }
  if (trustedKey !== undefined && trustedKey.text !== key.text) {
    throw invalid('the evidence is about another key', { expected: trustedKey.text, seen: key.text });
  }
  const opened = e.notes.map((note, i) => {
    try {
      return openSeal(note, key, ed25519, e.origin);
    } catch (cause) {
      if (!isLogError(cause)) throw cause;
      throw invalid(`note ${i + 1} is not a valid seal of this portal: ${cause.message}`, { cause });
    }
  }) as [OpenedSeal, OpenedSeal];
  const [a, b] = opened;
  if (e.kind === 'same-part') {
    if (a.seal.part.index !== b.seal.part.index) {
      throw invalid('the seals are for different parts', {
        expected: String(a.seal.part.index),
        seen: String(b.seal.part.index),
      });
    }
    if (a.note.text === b.note.text) throw invalid('the two seals have the same body');
    return [a.seal, b.seal];
  }
  const m = a.seal.size;
  const n = b.seal.size;
  if (m === 0 || m > n)
    throw invalid('the first note must be the older seal, of a non-empty tree', {
      expected: `0 < size ≤ ${n}`,
      seen: String(m),
    });
  const rootAtOlderSize = decodeHash(e.rootAtOlderSize, 'rootAtOlderSize');
  const proof = e.proof.map((p, i) => decodeHash(p, `proof[${i}]`));
  try {
    verifyConsistency(m, n, proof, rootAtOlderSize, b.seal.root);
  } catch (cause) {
    if (!isLogError(cause)) throw cause;
    throw invalid(`the consistency proof does not verify: ${cause.message}`, { cause });
  }
  if (bytesEqual(rootAtOlderSize, a.seal.root)) {
    throw invalid('the trees are consistent: the older root is the newer tree at that size', {
      seen: toBase64(a.seal.root),
    });
  }
  return [a.seal, b.seal];
}
