import { Inject, Injectable } from '@nestjs/common';
import type { OutsideWitnessRecord } from '@cryptomesh/persistence';
import type { Finding, FindingFilter, FederationReader } from './federation-reader';
import { FEDERATION_READER, QUERY_NOW, QUERY_PORTAL_ID } from './query-tokens';

/** Wall-clock unix milliseconds, injected (STYLE.md §4): `lagMs` is measured with it. */
export type Now = () => number;

/** `GET /findings`: the default and the largest `limit` (federation.md "Query"). */
export const DEFAULT_FINDINGS_LIMIT = 100;
export const MAX_FINDINGS_LIMIT = 1000;

/** One peer in `GET /federation` (federation.md "Query"). */
export interface PeerStatus {
  readonly id: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly witnessKey: string;
  readonly queryUrl: string;
  readonly configured: boolean;
  /** The latest mirrored seal; null when nothing is mirrored. */
  readonly head: { readonly part: number; readonly size: number; readonly timeMs: number } | null;
  /** Now − the latest mirrored seal's time (negative if the peer's clock is ahead); null with no head. */
  readonly lagMs: number | null;
  /** The latest mirrored seal's time, ISO 8601; null with no head. */
  readonly lastSealTime: string | null;
  /** Cosignatures this portal gave the peer's seals, and the peer gave this portal's. */
  readonly cosignatures: { readonly given: number; readonly received: number };
  /** Findings against the peer still open, verified by this portal (a peer's claims are not counted). */
  readonly openFindings: number;
  /** Open findings against the peer that are only another peer's claim, not verified here. */
  readonly unverifiedClaims: number;
}

export interface FederationStatus {
  /**
   * This portal. Before replication wrote `federation_portal` (always, in the single-portal mode):
   * `id` is the configured PORTAL_ID — the `PortalId` Hello answers — and the rest null (quorum 0).
   */
  readonly portal: {
    readonly id: string | null;
    readonly witnessKey: string | null;
    readonly quorum: number;
  };
  /** Every peer of the roster, configured or not, by id. */
  readonly peers: PeerStatus[];
  /**
   * The outside C2SP tlog-witnesses this portal submits its seals to (issue #18), by name: the size
   * and part each last cosigned, and its failures since (with the last error).
   */
  readonly outsideWitnesses: OutsideWitnessRecord[];
}

/**
 * `GET /federation` and `GET /findings` (federation.md "Query"): what the replication service stored
 * about the federation, read-only. The numbers are a snapshot of several reads, not of one
 * transaction: each is exact as of its own read.
 */
@Injectable()
export class FederationService {
  constructor(
    @Inject(FEDERATION_READER) private readonly federation: FederationReader,
    @Inject(QUERY_NOW) private readonly now: Now,
    @Inject(QUERY_PORTAL_ID) private readonly portalId: string | undefined,
  ) {}

  async status(): Promise<FederationStatus> {
    const [portal, peers, heads, open, claims, outsideWitnesses] = await Promise.all([
      this.federation.portal(),
      this.federation.peers(),
      this.federation.mirrorHeads(),
      this.federation.openFindings(),
      this.federation.unverifiedClaims(),
      this.federation.outsideWitnesses(),
    ]);
    const counts =
      portal === undefined ? new Map<string, never>() : await this.federation.cosignatureCounts(portal.id);
    const now = this.now();
    return {
      portal: {
        id: portal?.id ?? this.portalId ?? null,
        witnessKey: portal?.witnessKey ?? null,
        quorum: portal?.quorum ?? 0,
      },
      peers: peers.map((peer): PeerStatus => {
        const head = heads.get(peer.id);
        return {
          id: peer.id,
          origin: peer.origin,
          verifierKey: peer.verifierKey,
          witnessKey: peer.witnessKey,
          queryUrl: peer.queryUrl,
          configured: peer.configured,
          head: head === undefined ? null : { part: head.part, size: head.size, timeMs: head.timeMs },
          lagMs: head === undefined ? null : now - head.timeMs,
          lastSealTime: head === undefined ? null : isoTime(head.timeMs),
          cosignatures: counts.get(peer.id) ?? { given: 0, received: 0 },
          openFindings: open.get(peer.id) ?? 0,
          unverifiedClaims: claims.get(peer.id) ?? 0,
        };
      }),
      outsideWitnesses,
    };
  }

  /** Findings matching `filter`, newest first; `filter.limit` MUST be within [1, MAX_FINDINGS_LIMIT]. */
  async findings(filter: FindingFilter): Promise<{ findings: Finding[] }> {
    return { findings: await this.federation.findings(filter) };
  }
}

/** ISO 8601 of unix milliseconds; null beyond what a Date holds (±8.64e15 ms). */
function isoTime(ms: number): string | null {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
