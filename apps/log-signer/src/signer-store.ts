import type { Hash, HashReader, StoredNode } from '@cryptomesh/log';
import type { AccountStateRecord, StoredAccountState } from '@cryptomesh/audit';

/**
 * The ports of the log-signer (STYLE.md §4: defined by their consumer). The PostgreSQL adapter is
 * `PostgresLogSignerStore` of `@cryptomesh/persistence`; log-signer.module.ts proves it fits.
 */

/** A seal as stored: the row that IS the publication source of the seal (docs/design/log-signer.md). */
export interface SealRecord {
  readonly part: number;
  readonly first: number;
  readonly size: number;
  readonly partDigest: Hash;
  readonly chain: Hash;
  readonly root: Hash;
  readonly timeMs: number;
  readonly note: string;
}

/** What one sequencing transaction writes. */
/** A log key transition sealed with its part: the entry, its leaf hash and the nodes (level ≥ 1) it closes. */
export interface SealedTransition {
  readonly entry: Uint8Array;
  readonly leafHash: Hash;
  readonly nodes: readonly StoredNode[];
}

export interface SequencedBatch {
  readonly first: number;
  readonly leafHashes: readonly Hash[];
  /** Complete subtrees of level ≥ 1 closed by these entries (level 0 is the leaf hash). */
  readonly nodes: readonly StoredNode[];
}

/** What one entry does to the profile index (`profile-index.ts`; docs/design/query.md). */
export interface EntryProfiles {
  /** The account UDF of the record. */
  readonly account: string;
  /** At most one change per profile identifier (`profilesSetBy`). */
  readonly changes: ReadonlyArray<{ readonly id: string; readonly state: 'set' | 'deleted' }>;
  /** A DeleteAccount: the account's profiles still set before this entry are deleted by it. */
  readonly endsAccount: boolean;
}

/** A queued row that will not be sequenced: its position in the rows given to `plan`, and why. */
export interface RefusedEntry {
  readonly position: number;
  readonly reason: string;
}

/**
 * A sequenced batch and its profile index: `profiles[i]` for entry `first + i`, undefined for a
 * non-record. The entries are the rows given to `plan` less the `refused` ones, in order.
 */
export interface SequencingPlan extends SequencedBatch {
  readonly profiles: ReadonlyArray<EntryProfiles | undefined>;
  readonly refused: readonly RefusedEntry[];
  /** The records' re-check (`record-rules.ts`): the states of the accounts they changed; absent when off. */
  readonly accountStates?: readonly AccountStateRow[];
}

/**
 * The rule state of one account of the own log after its entry `through` (`encodeAuditedAccount`),
 * with the nonces its entries added and the time below which its window forgot them.
 */
export type AccountStateRow = AccountStateRecord;

/** A queued entry's metadata: who queued it and how long it waited (never part of its bytes). */
export interface QueuedEntry {
  /** The gateway request that queued it (`X-Request-Id`), when there was one. */
  readonly requestId: string | undefined;
  /** Time from queued to read by the sequencing transaction, in milliseconds. */
  readonly queuedMs: number;
}

/**
 * Takes queued entries into the log. `sequence` MUST, in one transaction, take up to `limit` committed
 * queue rows in queue order, store those `plan` does not refuse as entries at the indices it gives
 * with its leaf hashes and nodes, write their profile index rows and advance the indexed size
 * (rejecting with `index.out-of-step` unless the index ended at `first`), move the refused rows with
 * their reason to the refused rows (never to the log), and delete the rows — all or nothing — and
 * resolve to the number of rows taken, sequenced or refused (0: queue empty, nothing written). It MUST NOT resolve unless that
 * transaction committed; if `plan` throws, nothing is written and it rejects with that error. `plan`
 * gets each entry's `QueuedEntry` metadata too, in the same order.
 */
export interface SequenceStore {
  sequence(
    limit: number,
    plan: (
      entries: readonly Uint8Array[],
      queued: readonly QueuedEntry[],
    ) => SequencingPlan | Promise<SequencingPlan>,
  ): Promise<number>;
}

/**
 * The account states the log-signer re-checks queued records against (`record-rules.ts`; issue #15).
 * `sequence` MUST, when the plan carries `accountStates`, store them and advance the checked size
 * from `first` past the batch in its transaction, rejecting (`rules.out-of-step`, nothing written)
 * unless the checked size was `first`. `checkAccounts` MUST do the same for entries already sequenced
 * (the backfill), in one transaction of its own. `plan` may call `accountState` while it runs.
 */
export interface AccountStateStore {
  /** Entries [0, n) are reflected in the stored states. */
  checkedSize(): Promise<number>;
  accountState(account: string): Promise<StoredAccountState | undefined>;
  checkAccounts(first: number, end: number, states: readonly AccountStateRow[]): Promise<void>;
}

/**
 * The profile index of entries already sequenced, for the backfill at start-up. `indexProfiles` MUST,
 * in one transaction, write the rows of entries [first, first + profiles.length) and advance the
 * indexed size to the end, rejecting (`index.out-of-step`, nothing written) unless it was `first`.
 */
export interface ProfileIndexStore {
  /** Entries [0, n) are indexed. */
  profileIndexSize(): Promise<number>;
  /** The exact bytes of stored entries [begin, end); MUST reject if one is missing. */
  entries(begin: number, end: number): Promise<Uint8Array[]>;
  indexProfiles(batch: {
    readonly first: number;
    readonly profiles: ReadonlyArray<EntryProfiles | undefined>;
  }): Promise<void>;
}

/**
 * Keeps seals. `appendSeal` MUST resolve only once the seal is durably committed, and MUST refuse
 * (`seal.conflict`) a second seal for a part index and (`seal.gap`) a part that does not start where
 * the previous one ended, writing nothing. In the same transaction it MUST materialise the log's
 * C2SP tlog-tiles up to the seal's tree size (docs/design/query.md "Tiles"). `lastSeal` MUST return the committed seal with the
 * highest part index.
 */
export interface SealStore {
  /**
   * With `transition`, the log key transition is stored as entry `record.size - 1` — the part's last,
   * sequenced by no batch — in the seal's own transaction (docs/design/log-format.md "Key transitions").
   */
  appendSeal(record: SealRecord, transition?: SealedTransition): Promise<void>;
  lastSeal(): Promise<SealRecord | undefined>;
}

/** What start-up reads to resume: how far entries go, and the leaf hashes of the open part. */
export interface SequencedLog extends HashReader {
  sequencedSize(): Promise<number>;
  leafHashes(begin: number, end: number): Promise<Hash[]>;
  /** The exact bytes of entries [begin, end) (start-up reads the last sealed one: a key transition?). */
  entries(begin: number, end: number): Promise<Uint8Array[]>;
}

/**
 * A leader's session. Only one session per portal exists at a time; every write goes through it, and
 * once `alive` is false (its database session ended, and with it the leadership) every call MUST
 * reject. Used by one caller at a time.
 */
export interface SignerSession
  extends SequenceStore, SealStore, SequencedLog, ProfileIndexStore, AccountStateStore {
  readonly alive: boolean;
  /** Ends the session and gives up leadership. MUST NOT reject. */
  close(): Promise<void>;
}

/** `tryLead` MUST resolve to a session holding the leadership, or undefined at once if another holds it. */
export interface SignerStore {
  tryLead(): Promise<SignerSession | undefined>;
}
