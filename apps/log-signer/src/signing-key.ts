import {
  isKeyTransitionEntry,
  isLogError,
  openSeal,
  parseKeyTransition,
  type KeyTransition,
  type NoteSigner,
} from '@cryptomesh/log';
import type { SealSigning } from './log-head';
import { SignerError } from './signer-error';
import type { SealRecord } from './signer-store';

/** The key that signs the next seal, and the key to rotate to at that seal (LOG_KEY_NEXT), if any. */
export interface SigningKeys {
  readonly current: NoteSigner;
  readonly rotateTo?: NoteSigner;
}

/**
 * Which configured key signs the next seal (docs/design/log-format.md "Key transitions"), from the
 * log itself: the last seal, and the last entry of its part when that is a key transition. A
 * transition names the key that seals everything after it; otherwise the last seal's key goes on,
 * and LOG_KEY_NEXT, if configured, is rotated to at the next seal. MUST throw `signer.key-mismatch`
 * with what to configure when neither LOG_KEY nor LOG_KEY_NEXT is the key the log requires — a
 * log-signer signing with another key would make every peer report the part.
 */
export function resolveSigningKeys(
  signing: SealSigning,
  last: SealRecord | undefined,
  lastEntry: Uint8Array | undefined,
): SigningKeys {
  const configured = [signing.logKey, ...(signing.nextKey === undefined ? [] : [signing.nextKey])];
  if (last === undefined) return { current: signing.logKey, ...rotate(signing) };
  const transition = lastTransition(lastEntry);
  if (transition !== undefined) {
    const next = configured.find((k) => k.verifierKey.text === transition.nextKey.text);
    if (next === undefined)
      throw new SignerError(
        'signer.key-mismatch',
        `the log's key moved to ${transition.nextKey.text} at part ${transition.part}: set LOG_KEY (or LOG_KEY_FILE) to that key's signer key and remove LOG_KEY_NEXT`,
      );
    return { current: next };
  }
  const opens = configured.find((k) => {
    try {
      openSeal(last.note, k.verifierKey, signing.ed25519, signing.origin);
      return true;
    } catch (error) {
      if (!isLogError(error)) throw error;
      return false;
    }
  });
  if (opens === undefined)
    throw new SignerError(
      'signer.key-mismatch',
      `the last seal (part ${last.part}) does not open with LOG_KEY ${signing.logKey.verifierKey.text}${signing.nextKey === undefined ? '' : ` nor LOG_KEY_NEXT ${signing.nextKey.verifierKey.text}`} and origin ${signing.origin}: configure the key that signs this log (after a rotation, the key the last transition named)`,
    );
  return opens === signing.logKey ? { current: opens, ...rotate(signing) } : { current: opens };
}

function rotate(signing: SealSigning): { rotateTo?: NoteSigner } {
  return signing.nextKey === undefined ? {} : { rotateTo: signing.nextKey };
}

function lastTransition(entry: Uint8Array | undefined): KeyTransition | undefined {
  if (entry === undefined || !isKeyTransitionEntry(entry)) return undefined;
  try {
    return parseKeyTransition(entry);
  } catch (cause) {
    throw new SignerError('signer.state', 'the last sealed entry is a malformed key transition', { cause });
  }
}
