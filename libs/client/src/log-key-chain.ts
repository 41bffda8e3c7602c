import { nobleEd25519 } from '@cryptomesh/crypto/portable';
import {
  followKeyTransitions,
  isLogError,
  LogError,
  openSeal,
  parseNote,
  type Seal,
  type VerifierKey,
} from '@cryptomesh/log';
import { isClientError } from './client-error';
import type { QueryClient } from './query-client';

/**
 * Opens a checkpoint of a log whose key may have been rotated since the client pinned it
 * (docs/design/log-format.md "Key transitions"; client.md "Verified reads" 1). The pinned key opens
 * it directly; otherwise the chain of key transitions the query service lists is followed from the
 * pinned key — each statement signed by the key before it and by its successor — and the checkpoint
 * must open with the key of the chain that seals its part: key i seals the parts after transition
 * i − 1 and up to transition i. A retired key's checkpoint for a later part is refused, as is a chain
 * that does not start at the pinned key. Throws the LogError of the failed check.
 *
 * A checkpoint the pinned key opens is taken as such, with no request, unless `remembered` (the
 * last checkpoint this client accepted of the log) does not open with the pinned key: the client
 * then saw the rotation, and the pinned key's checkpoint must be for a part up to its transition
 * (else `verify.retired-key`). A client that never saw the rotation relies on the quorum: after a
 * rotation the old key signing a later part is what the peers' auditors report
 * (`verify.retired-key`), and they do not cosign it, so it fails the client's quorum check
 * (client.md "Verified reads" 2) — with a quorum of 0 nothing stops it (docs/decisions.md "Log key
 * rotation", Review).
 */
export async function openWithKeyChain(
  text: string,
  pinned: VerifierKey,
  origin: string,
  transitions: () => Promise<readonly Uint8Array[]>,
  remembered?: string,
): Promise<Seal> {
  let pinnedError: unknown;
  let pinnedSeal: Seal | undefined;
  try {
    pinnedSeal = openSeal(text, pinned, nobleEd25519, origin).seal;
  } catch (error) {
    if (!isLogError(error)) throw error;
    pinnedError = error;
  }
  // #19 item 4 review: once this client accepted a checkpoint the pinned key does not open (a
  // successor's), the pinned key is retired for it: it never goes back to that key's later parts.
  if (pinnedSeal !== undefined && (remembered === undefined || opensWith(remembered, pinned, origin)))
    return pinnedSeal;
  const chain = followKeyTransitions(pinned, origin, await transitions(), nobleEd25519);
  if (pinnedSeal !== undefined) {
    const until = chain[0]!.until;
    if (until === undefined || pinnedSeal.part.index > until.part)
      throw new LogError(
        'verify.retired-key',
        `the checkpoint for part ${pinnedSeal.part.index} is signed by ${pinned.text}, which a key transition retired (this client accepted a checkpoint by its successor)`,
      );
    return pinnedSeal;
  }
  if (chain.length === 1) throw pinnedError;
  // The key of the remembered checkpoint must be on the chain: else the list omits transitions after
  // the key that opens this one, which could be a retired key's later part (#19 item 4 review).
  if (remembered !== undefined && !chain.some((link) => opensWith(remembered, link.key, origin)))
    throw new LogError(
      'verify.transition',
      'the key transitions served do not reach the key of the checkpoint this client accepted before',
    );
  const ids = new Set(parseNote(text).signatures.map((s) => s.keyId));
  for (const [i, link] of chain.entries()) {
    if (i === 0 || !ids.has(link.key.keyId)) continue;
    const seal = openSeal(text, link.key, nobleEd25519, origin).seal;
    const after = chain[i - 1]!.until!;
    const until = link.until;
    if (seal.part.index <= after.part || (until !== undefined && seal.part.index > until.part))
      throw new LogError(
        'verify.retired-key',
        `the checkpoint for part ${seal.part.index} is signed by ${link.key.text}, which does not seal that part`,
      );
    return seal;
  }
  throw pinnedError;
}

function opensWith(text: string, key: VerifierKey, origin: string): boolean {
  try {
    openSeal(text, key, nobleEd25519, origin);
    return true;
  } catch (error) {
    if (!isLogError(error)) throw error;
    return false;
  }
}

/**
 * The transitions of `logName` as `query` serves them; none when it does not answer (a portal that
 * lists none, or an older one): the checkpoint's own signature failure is then what is reported.
 */
export function transitionsFrom(query: QueryClient, logName: string): () => Promise<readonly Uint8Array[]> {
  return async () => {
    try {
      return await query.keyTransitions(logName);
    } catch (error) {
      if (isClientError(error)) return [];
      throw error;
    }
  };
}
