import type { FindingKind } from '@cryptomesh/intermesh';
import type { HeadsSearch, OutsideWitnessRecord } from '@cryptomesh/persistence';
import type { PublishedSeal } from './published-log';
/**
 * What the query service reads of the federation that the replication service stored
 * (docs/design/federation.md "Storage"; STYLE.md §4: defined by its consumer, the adapter is
 * `TypeOrmFederationReader` of `@cryptomesh/persistence`). Reads only: every method MUST answer from
 * committed data and MAY be called concurrently. Ids are ordered as JavaScript compares strings of
 * ASCII (byte order).
 */
export interface FederationReader {
  /** This portal's row; undefined when no replication service with a federation ever wrote it. */
  portal(): Promise<FederationPortal | undefined>;
  /** The outside witnesses (OUTSIDE_WITNESSES of the replication service) and their state, by name. */
  outsideWitnesses(): Promise<OutsideWitnessRecord[]>;
  /** Every peer of the roster, configured or not, by id. */
  peers(): Promise<FederationPeer[]>;
  /**
   * The roster and every log's head in ONE read (one snapshot): what `LogHeads` refreshes, tens of
   * times a second under polling (docs/design/query.md "Log heads"). Each log's quorum candidate is
   * searched within `search` (default: everywhere).
   */
  heads(search?: HeadsSearch): Promise<StoredHeads>;
  peer(id: string): Promise<FederationPeer | undefined>;
  /** The stored cosignatures of `subject`'s part `part`, by witness id. */
  cosignatures(subject: string, part: number): Promise<StoredCosignature[]>;
  /**
   * Parts of `subject` in [from, before) (`before` open when undefined) with at least `witnesses`
   * stored cosignatures of federation members — whatever seal they are over; an outside witness's
   * never count —, newest first, at most `limit`.
   */
  cosignedParts(
    subject: string,
    from: number,
    witnesses: number,
    limit: number,
    before?: number,
  ): Promise<number[]>;
  /**
   * Per peer id, the cosignatures portal `portalId` gave (witness = it, subject = the peer) and
   * received (subject = it, witness = the peer); peers with none MAY be absent.
   */
  cosignatureCounts(portalId: string): Promise<Map<string, { given: number; received: number }>>;
  /** Per subject, its open findings verified here (its own, or with evidence verified); none MAY be absent. */
  openFindings(): Promise<Map<string, number>>;
  /** Per subject, its open findings that are only a peer's claim, not verified here. */
  unverifiedClaims(): Promise<Map<string, number>>;
  /** Per peer of the roster, the latest mirrored seal; peers with nothing mirrored are absent. */
  mirrorHeads(): Promise<Map<string, MirrorHead>>;
  /** Findings that match every given filter, newest first, at most `limit`. */
  findings(filter: FindingFilter): Promise<Finding[]>;
}

export interface FederationPortal {
  readonly id: string;
  readonly witnessKey: string | null;
  readonly quorum: number;
}

export interface FederationPeer {
  readonly id: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly witnessKey: string;
  readonly queryUrl: string;
  readonly configured: boolean;
}

/** A verified cosignature as stored: `seal` is the note it is over, `line` the signature line (no newline). */
export interface StoredCosignature {
  readonly witness: string;
  readonly seal: string;
  readonly line: string;
}

/** A seal with the stored cosignatures of its part (whatever seal they are over), by witness id. */
export interface SealCosignatures {
  readonly seal: PublishedSeal;
  readonly cosignatures: readonly StoredCosignature[];
}

/** One log's head as stored: the latest seal, and the newest part that may meet the quorum. */
export interface StoredLogHead {
  /** The peer id of a mirror; undefined for the own log. */
  readonly peer: string | undefined;
  /** The latest seal and its part's cosignatures; undefined before the first seal. */
  readonly latest: SealCosignatures | undefined;
  /**
   * With a quorum, the newest part at or below `latest` with at least `quorum` stored cosignature
   * rows, whatever seal they are over (the caller verifies them); undefined when none has, with
   * quorum 0, and for the own log before the portal row exists. `seal` undefined: that part's seal
   * is missing.
   */
  readonly candidate:
    | {
        readonly part: number;
        readonly seal: PublishedSeal | undefined;
        readonly cosignatures: readonly StoredCosignature[];
      }
    | undefined;
}

/** The roster and the heads, as `heads()` read them together. */
export interface StoredHeads {
  readonly portal: FederationPortal | undefined;
  /** Every peer of the roster, configured or not, by id. */
  readonly peers: readonly FederationPeer[];
  /** The own log first, then each peer's mirror in the order of `peers`. */
  readonly logs: readonly StoredLogHead[];
}

export interface MirrorHead {
  readonly part: number;
  readonly size: number;
  readonly timeMs: number;
}

/** The finding kinds: the one list, `@cryptomesh/intermesh`'s (the witness message's). */
export { FINDING_KINDS } from '@cryptomesh/intermesh';
export const FINDING_STATUSES = ['open', 'resolved'] as const;

export interface FindingFilter {
  readonly subject?: string;
  readonly kind?: FindingKind;
  readonly status?: (typeof FINDING_STATUSES)[number];
  readonly limit: number;
}

/** A finding as `GET /findings` serves it; `id` is its fingerprint, times are unix milliseconds. */
export interface Finding {
  readonly id: string;
  readonly subject: string;
  readonly reporter: string;
  readonly kind: FindingKind;
  readonly part: number | null;
  readonly code: string;
  readonly detail: string;
  readonly evidence: unknown;
  readonly status: (typeof FINDING_STATUSES)[number];
  /** False: a peer's claim this portal could not re-verify; shown, not counted. */
  readonly verified: boolean;
  readonly observedAt: number;
  readonly resolvedAt: number | null;
}
