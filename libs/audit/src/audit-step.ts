import type { FindingKind } from '@cryptomesh/intermesh/witness-message';
import type { Hash, Seal, StoredNode, VerifierKey } from '@cryptomesh/log';
import type { RecordProfiles } from '@cryptomesh/mesh';

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
}

/** A configured peer, as the auditor needs it. */
export interface AuditedPeer {
  readonly id: string;
  readonly origin: string;
  readonly verifierKey: VerifierKey;
}

/** What the auditor reads of the mirror (the adapter is the replication's mirror store). */
export interface AuditReads {
  /** The stored seal note of mirrored part `part` of this peer, if stored. MUST read committed data. */
  sealNote(part: number): Promise<string | undefined>;
  /** Every mirrored entry of `account` of this peer, in log order. */
  accountEntries(account: string): Promise<readonly Uint8Array[]>;
}

/** A finding before it is fingerprinted, signed and stored. `evidence` is deterministic JSON. */
export interface FindingDraft {
  readonly kind: FindingKind;
  readonly code: string;
  readonly part: number | null;
  readonly detail: string;
  readonly evidence: Record<string, unknown>;
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
  | { readonly kind: 'finding'; readonly finding: FindingDraft }
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
