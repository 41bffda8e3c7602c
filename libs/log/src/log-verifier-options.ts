import type { Ed25519 } from './ed25519';
import type { StoredNode } from './hash-reader';
import type { LogVerifierState } from './log-verifier';
import type { Hash } from './tree-hasher';
import type { VerifierKey } from './verifier-key';

/**
 * The per-entry hook: the caller's own checks on each entry (issue #6 plugs the Mesh profile rules
 * in here). It sees entries as they stream in, BEFORE the part's seal is verified, so it MUST NOT
 * make anything durable or visible; it rejects an entry by throwing (or rejecting) with any error,
 * which becomes a `verify.entry-rejected` violation with that error as its cause. It MAY be async.
 */
export type EntryHook = (
  entry: Uint8Array,
  context: { readonly index: number; readonly part: number },
) => void | Promise<void>;

export interface LogVerifierOptions {
  /**
   * The portal's log key (type 0x01) pinned at the start of the log: every seal MUST be signed by it
   * until a key transition names its successor (`key-transition.ts`). A resumed state's own keys win.
   */
  readonly logKey: VerifierKey;
  readonly ed25519: Ed25519;
  /** The checkpoint origin every seal MUST carry; defaults to the key name. */
  readonly origin?: string;
  /** When true (default), each entry MUST be RFC 8785 canonical JSON of an object (`entry.ts`). */
  readonly checkEntryEncoding?: boolean;
  readonly onEntry?: EntryHook;
  /** Resume after a part verified earlier (see `LogVerifier.state`); default: the start of the log. */
  readonly from?: LogVerifierState;
  /** If given, a seal dated more than `maxFutureMs` (default 300000) after `now()` is a violation. */
  readonly now?: () => number;
  readonly maxFutureMs?: number;
  /** When true, a verified part's verdict carries its leaf hashes and tree nodes (`PartHashes`). */
  readonly keepHashes?: boolean;
}

/** A part's leaf hashes in order, and the tree nodes above them its entries completed (level ≥ 1). */
export interface PartHashes {
  readonly leaves: readonly Hash[];
  readonly nodes: readonly StoredNode[];
}
