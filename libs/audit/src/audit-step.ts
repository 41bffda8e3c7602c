import type { Hash, LogKeysState, Seal, StoredNode, VerifierKey } from '@cryptomesh/log';
import type { RecordProfiles } from '@cryptomesh/mesh';
import type { Finding } from './finding';
import type { AccountStateRecord, StoredAccountState } from './mirror-store';

/**
 * The last part of a peer's log stored in the mirror: where its audit resumes. The mirror store's
 * head row has this shape.
 */
export interface AuditHead {
  readonly part: number;
  readonly first: number;
  readonly size: number;
  readonly timeMs: number;
  readonly note: string;
  /** Base64 peak hashes at `size` (`LogVerifierState.frontier`). */
  readonly frontier: readonly string[];
  /** The peer's log keys once a key transition changed them (`LogVerifierState.keys`). */
  readonly logKeys?: LogKeysState;
}

/** A configured peer, as the auditor needs it. */
export interface AuditedPeer {
  readonly id: string;
  readonly origin: string;
  readonly verifierKey: VerifierKey;
}

/**
 * What the auditor reads of one peer's mirror (`MirrorStore` bound to the peer). Every read MUST see
 * committed data only.
 */
export interface AuditReads {
  /** The stored seal note of mirrored part `part` of this peer, if stored. */
  sealNote(part: number): Promise<string | undefined>;
  /** The stored audit state of `account`, if a stored part changed it (one row, never the history). */
  accountState(account: string): Promise<StoredAccountState | undefined>;
  /**
   * Every mirrored entry of `account` of this peer, in log order: read only when the account has no
   * stored state (a mirror stored before the states were), to replay it once.
   */
  accountEntries(account: string): Promise<readonly Uint8Array[]>;
}

/** A part that verified completely: what the mirror tables and the cosignature need. */
export interface VerifiedPart {
  readonly seal: Seal;
  readonly note: string;
  readonly entries: readonly Uint8Array[];
  readonly leafHashes: readonly Hash[];
  readonly nodes: readonly StoredNode[];
  readonly profiles: ReadonlyArray<RecordProfiles | undefined>;
  readonly frontier: readonly string[];
  /** The log keys after this part, once a key transition changed them (`LogVerifierState.keys`). */
  readonly logKeys?: LogKeysState;
  /** The audit state of each account the part changed, after its last entry in the part. */
  readonly accountStates: readonly AccountStateRecord[];
  /**
   * Present when the part was answered before its entries' signatures were verified
   * (PeerAuditOptions.deferSignatures): nothing of the part may be stored or signed for before it
   * resolves. It rejects with `SignaturesRefused` when one did not verify — reset to the stored
   * head, `judgeNextInFull`, and read the part again — or with the pool's error (transient).
   */
  readonly signatures?: Promise<void>;
}

/**
 * Input that no valid seal of the peer covers (DESIGN.md invariant 7): junk on the topic, a seal not
 * signed by the peer's log key, entries that are not the ones the seal covers, a part out of order.
 * It proves nothing against the peer (a broker, a man in the middle or a compromised pod may have
 * made it), so it is never a signed finding: the caller counts and logs it.
 */
export interface TransportError {
  readonly code: string;
  readonly part: number | null;
  readonly detail: string;
}

export type AuditStep =
  /** Nothing to store: an entry of a part still arriving, a replay, a message of a stored part. */
  | { readonly kind: 'none' }
  | { readonly kind: 'part'; readonly part: VerifiedPart }
  | { readonly kind: 'finding'; readonly finding: Finding }
  | { readonly kind: 'transport'; readonly error: TransportError };

/** A raw record of a log topic. */
export interface TopicRecord {
  readonly key: string | undefined;
  readonly type: string | undefined;
  readonly value: Uint8Array;
  readonly offset: bigint;
}

/** What a seal compared with the stored one gives: nothing, an equivocation, or a transport error. */
export type SealComparison = Extract<AuditStep, { kind: 'none' | 'finding' | 'transport' }>;
