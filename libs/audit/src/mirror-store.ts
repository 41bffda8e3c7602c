import type { WitnessRecord } from '@cryptomesh/intermesh/witness-message';
import type { Hash } from '@cryptomesh/log';
import type { JsonObject } from '@cryptomesh/mesh';
import type { AuditHead, VerifiedPart } from './audit-step';
import type { CosignatureRecord } from './cosignature-store';

/**
 * The ports of the mirror (STYLE.md §4, shaped like the log-signer's signer-store.ts): what the
 * replication service's mirror, witness and intake need of the database, one narrow port per role.
 * Adapters: `TypeOrmMirrorStore`, `TypeOrmRosterStore` of `@cryptomesh/persistence`; the federation
 * module injects each under its token.
 */

/** An account's audit state as stored with the part that last changed it. */
export interface StoredAccountState {
  /** `encodeAuditedAccount` of `@cryptomesh/mesh`: the state after entry `through`, without nonces. */
  readonly state: unknown;
  /** The log index of the account's last entry that the state covers. */
  readonly through: number;
  /** The account's stored nonces with their request times (one row each), in any order. */
  readonly nonces: ReadonlyArray<readonly [unknown, unknown]>;
}

/**
 * The new state of one account that a part changed (one per account, after its last entry in the
 * part). Its nonces are not rewritten: `nonces` are the ones the part's entries added (stored once,
 * a nonce stored already takes the newer time), and every stored nonce of the account whose time is
 * below `forgetBefore` — the ones the window pruned — is deleted with it.
 */
export interface AccountStateRecord {
  readonly account: string;
  readonly state: JsonObject;
  readonly through: number;
  readonly nonces: ReadonlyArray<readonly [string, number]>;
  /** The smallest time the account's window still holds; absent: forget nothing. */
  readonly forgetBefore?: number;
}

/**
 * A part of a peer's log that verified completely, as the mirror tables hold it: the verified part
 * (entries, leaf hashes, nodes, profiles, frontier, account states, the note as signed) with its
 * seal's fields flattened into columns, the peer, and where it came from.
 */
export interface MirrorPartRecord extends Omit<VerifiedPart, 'seal' | 'signatures'> {
  readonly peer: string;
  readonly part: number;
  readonly first: number;
  readonly size: number;
  readonly partDigest: Hash;
  readonly chain: Hash;
  readonly root: Hash;
  readonly timeMs: number;
  readonly source: 'topic' | 'catch-up';
}

/** Where a stored part leaves the topic consumer: the offset after the part's seal message. */
export interface MirrorProgress {
  readonly topic: string;
  readonly nextOffset: bigint;
}

/** What else commits with a part (the mirror service's one transaction per part). */
export interface MirrorPartExtras {
  readonly progress?: MirrorProgress;
  /** This portal's cosignature of the part's seal... */
  readonly cosignature?: CosignatureRecord;
  /** ...and its message for `intermesh.witness`. */
  readonly outbox?: readonly WitnessRecord[];
}

/**
 * The mirror of peers' logs: heads, topic progress, seals, entries, account states.
 *
 * - `storePart` MUST write, in ONE transaction, the part's entries, tree nodes, seal, head, profile
 *   index and account states, and the extras; it MUST resolve only once that transaction committed,
 *   and MUST reject with `mirror.out-of-step` and write nothing unless the stored head is exactly the
 *   previous part (and the progress does not move back, and no stored account state covers an entry at
 *   or after the one given for it). Two instances that race therefore store each part at most once.
 * - Every read MUST see committed data only; `head`, `sealNote`, `accountState` and `accountEntries`
 *   of a peer are consistent with each other once a part is stored (one transaction wrote them).
 * - `accountEntries` MUST return every mirrored entry of the account, in log order; `accountState`
 *   the row the last part that changed the account wrote, undefined when no stored part did (a new
 *   account, or a mirror older than the table: the caller then replays `accountEntries`).
 */
export interface MirrorStore {
  head(peer: string): Promise<AuditHead | undefined>;
  /** The offset after the last stored part's seal message on `topic`, if any. */
  progress(topic: string): Promise<bigint | undefined>;
  /** The stored seal note of a mirrored part, if that part is mirrored. */
  sealNote(peer: string, part: number): Promise<string | undefined>;
  accountEntries(peer: string, account: string): Promise<Uint8Array[]>;
  accountState(peer: string, account: string): Promise<StoredAccountState | undefined>;
  storePart(record: MirrorPartRecord, extras?: MirrorPartExtras): Promise<void>;
}

/** This portal and its peers, as configured. */
export interface RosterPortal {
  readonly id: string;
  readonly witnessKey: string | undefined;
  readonly quorum: number;
}

export interface RosterPeer {
  readonly id: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly witnessKey: string;
  readonly queryUrl: string;
}

/**
 * The roster the query service serves. `writeRoster` MUST replace it in one transaction: this portal,
 * and its configured peers; a peer no longer configured MUST be kept (its mirror and findings stay
 * readable), flagged as not configured.
 */
export interface RosterStore {
  writeRoster(portal: RosterPortal, peers: readonly RosterPeer[]): Promise<void>;
}

/**
 * This portal's own seals, as the intake compares peers' cosignatures with them. Reads of committed
 * seals only (`log_seals`, written by the log-signer).
 */
export interface OwnSealReader {
  /** The stored seal note of this portal's part, if sealed. */
  ownSealNote(part: number): Promise<string | undefined>;
  /** The time of this portal's newest seal, if any. */
  ownNewestSealTime(): Promise<number | undefined>;
}
