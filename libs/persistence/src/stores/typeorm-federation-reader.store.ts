import type { FindingKind } from '@cryptomesh/intermesh';
import type { DataSource } from 'typeorm';
import { readOutsideWitnesses, type OutsideWitnessRecord } from './typeorm-outside-witness.store';
import { safeInteger, type SqlQuery } from './log-sql';
import { MEMBER_ROW, readStoredHeads, type HeadsSearch, type StoredHeadsRecord } from './log-heads-sql';
import { dataSourceQuery, preparedDataSourceQuery } from './typeorm-published-log.store';

/** This portal in the federation (`federation_portal`, written by the replication service at start). */
export interface FederationPortalRecord {
  readonly id: string;
  /** This portal's witness verifier key (type 0x04), if it has one. */
  readonly witnessKey: string | null;
  /** The number of peer cosignatures clients should demand on a checkpoint (`COSIGNATURE_QUORUM`). */
  readonly quorum: number;
}

/** One peer of the roster (`federation_peers`). */
export interface FederationPeerRecord {
  readonly id: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly witnessKey: string;
  readonly queryUrl: string;
  /** False for a peer no longer configured: it keeps its row and its mirror. */
  readonly configured: boolean;
}

/** A verified cosignature as the replication service stored it (`cosignatures`). */
export interface StoredCosignatureRecord {
  readonly witness: string;
  /** The seal it is over, as stored (the note its portal signed, without cosignature lines). */
  readonly seal: string;
  /** The signature line, without its newline. */
  readonly line: string;
}

/** The latest mirrored seal of a peer. */
export interface MirrorHeadRecord {
  readonly part: number;
  readonly size: number;
  readonly timeMs: number;
}

/** The finding kinds: the one declaration is `@cryptomesh/intermesh`'s. */
export type { FindingKind };
export type FindingStatus = 'open' | 'resolved';

export interface FindingFilter {
  readonly subject?: string;
  readonly kind?: FindingKind;
  readonly status?: FindingStatus;
  /** At most this many, newest first. */
  readonly limit: number;
}

/** A stored finding (`findings`); `id` is its fingerprint, the id of its witness message. */
export interface FindingRecord {
  readonly id: string;
  readonly subject: string;
  readonly reporter: string;
  readonly kind: FindingKind;
  readonly part: number | null;
  readonly code: string;
  readonly detail: string;
  readonly evidence: unknown;
  readonly status: FindingStatus;
  /** False for a peer's claim this portal could not re-verify (DESIGN.md invariant 7). */
  readonly verified: boolean;
  /** Unix milliseconds. */
  readonly observedAt: number;
  readonly resolvedAt: number | null;
}

/**
 * Read-only access to what the replication service stored about the federation (federation.md
 * "Storage"): the roster, cosignatures, mirror heads and findings. Every method reads committed rows
 * in one statement and is safe for concurrent use. Lists are in a stable order: ids in byte order
 * (`COLLATE "C"`, as JavaScript compares ASCII), findings newest first.
 */
export class TypeOrmFederationReader {
  private readonly query: SqlQuery;
  private readonly headsQuery: SqlQuery;

  /**
   * `prepared`: the heads' statement, read tens of times a second under polling, prepared once per
   * connection (`preparedDataSourceQuery`, whose limits apply); the other reads are not hot.
   */
  constructor(dataSource: DataSource, options: { readonly prepared?: boolean } = {}) {
    this.query = dataSourceQuery(dataSource);
    this.headsQuery = options.prepared === true ? preparedDataSourceQuery(dataSource) : this.query;
  }

  /** The roster and every log's head, in one statement (`readStoredHeads`), searched as `search` says. */
  heads(search?: HeadsSearch): Promise<StoredHeadsRecord> {
    return readStoredHeads(this.headsQuery, search);
  }

  /** The outside witnesses the replication service submits seals to (`outside_witnesses`), by name. */
  outsideWitnesses(): Promise<OutsideWitnessRecord[]> {
    return readOutsideWitnesses(this.query);
  }

  /** This portal's row; undefined before a replication service with a federation wrote it. */
  async portal(): Promise<FederationPortalRecord | undefined> {
    const rows = await this.query<{ portal_id: string; witness_key: string | null; quorum: number }>(
      'SELECT portal_id, witness_key, quorum FROM federation_portal',
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : { id: row.portal_id, witnessKey: row.witness_key, quorum: row.quorum };
  }

  /** Every peer, configured or not, by id. */
  async peers(): Promise<FederationPeerRecord[]> {
    const rows = await this.query<PeerRow>(
      `SELECT ${PEER_COLUMNS} FROM federation_peers ORDER BY peer COLLATE "C"`,
    );
    return rows.map(peerFromRow);
  }

  async peer(id: string): Promise<FederationPeerRecord | undefined> {
    const rows = await this.query<PeerRow>(`SELECT ${PEER_COLUMNS} FROM federation_peers WHERE peer = $1`, [
      id,
    ]);
    return rows[0] === undefined ? undefined : peerFromRow(rows[0]);
  }

  /** The stored cosignatures of `subject`'s part `part`, by witness id. */
  async cosignatures(subject: string, part: number): Promise<StoredCosignatureRecord[]> {
    return this.query<StoredCosignatureRecord>(
      `SELECT witness, seal, line FROM cosignatures
        WHERE subject = $1 AND part = $2 ORDER BY witness COLLATE "C"`,
      [subject, part],
    );
  }

  /**
   * Parts of `subject` in [from, before) — `before` open when undefined — with at least `witnesses`
   * stored cosignature rows of federation members (an outside witness's never count), newest first,
   * at most `limit`. Rows are counted whatever seal they are over: the caller checks that they are
   * over the seal it serves.
   */
  async cosignedParts(
    subject: string,
    from: number,
    witnesses: number,
    limit: number,
    before?: number,
  ): Promise<number[]> {
    const rows = await this.query<{ part: string }>(
      `SELECT part FROM cosignatures c
        WHERE subject = $1 AND part >= $2 AND ($5::bigint IS NULL OR part < $5) AND ${MEMBER_ROW}
        GROUP BY part HAVING count(*) >= $3
        ORDER BY part DESC LIMIT $4`,
      [subject, from, witnesses, limit, before ?? null],
    );
    return rows.map((r) => safeInteger(r.part, 'cosigned part'));
  }

  /**
   * Per peer id, the cosignatures `portalId` gave (witness = this portal, subject = the peer) and
   * received (subject = this portal, witness = the peer). Peers with none are absent.
   */
  async cosignatureCounts(portalId: string): Promise<Map<string, { given: number; received: number }>> {
    const rows = await this.query<{ peer: string; given: string; received: string }>(
      `SELECT peer, sum(given) AS given, sum(received) AS received FROM (
         SELECT subject AS peer, count(*) AS given, 0 AS received
           FROM cosignatures WHERE witness = $1 AND subject <> $1 GROUP BY subject
         UNION ALL
         SELECT witness AS peer, 0 AS given, count(*) AS received
           FROM cosignatures WHERE subject = $1 AND witness <> $1 GROUP BY witness
       ) AS c GROUP BY peer`,
      [portalId],
    );
    return new Map(
      rows.map((r) => [
        r.peer,
        { given: safeInteger(r.given, 'given'), received: safeInteger(r.received, 'received') },
      ]),
    );
  }

  /**
   * Per subject, the number of open findings this portal verified (its own, or a peer's whose
   * evidence it verified). Subjects with none are absent. Peers' unverified claims are not counted.
   */
  async openFindings(): Promise<Map<string, number>> {
    return this.countOpen(true);
  }

  /** Per subject, the number of open findings that are only a peer's claim (not verified here). */
  async unverifiedClaims(): Promise<Map<string, number>> {
    return this.countOpen(false);
  }

  private async countOpen(verified: boolean): Promise<Map<string, number>> {
    const rows = await this.query<{ subject: string; open: string }>(
      `SELECT subject, count(*) AS open FROM findings WHERE status = 'open' AND verified = $1 GROUP BY subject`,
      [verified],
    );
    return new Map(rows.map((r) => [r.subject, safeInteger(r.open, 'open findings')]));
  }

  /** Per peer of the roster, its latest mirrored seal; peers with nothing mirrored are absent. */
  async mirrorHeads(): Promise<Map<string, MirrorHeadRecord>> {
    const rows = await this.query<{ peer: string; part: string; size: string; time_ms: string }>(
      `SELECT p.peer, h.part, h.size, h.time_ms
         FROM federation_peers p
         JOIN LATERAL (SELECT part, size, time_ms FROM mirror_seals s
                        WHERE s.peer = p.peer ORDER BY part DESC LIMIT 1) AS h ON true`,
    );
    return new Map(
      rows.map((r) => [
        r.peer,
        {
          part: safeInteger(r.part, 'part'),
          size: safeInteger(r.size, 'size'),
          timeMs: safeInteger(r.time_ms, 'time_ms'),
        },
      ]),
    );
  }

  /** Findings matching `filter`, newest first (by observation time, then storage order). */
  async findings(filter: FindingFilter): Promise<FindingRecord[]> {
    const rows = await this.query<FindingRow>(
      `SELECT fingerprint, subject, reporter, kind, part, code, detail, evidence, status, verified,
              floor(extract(epoch FROM observed_at) * 1000)::bigint AS observed_ms,
              floor(extract(epoch FROM resolved_at) * 1000)::bigint AS resolved_ms
         FROM findings
        WHERE ($1::text IS NULL OR subject = $1)
          AND ($2::text IS NULL OR kind = $2)
          AND ($3::text IS NULL OR status = $3)
        ORDER BY observed_at DESC, id DESC
        LIMIT $4`,
      [filter.subject ?? null, filter.kind ?? null, filter.status ?? null, filter.limit],
    );
    return rows.map((r) => ({
      id: r.fingerprint,
      subject: r.subject,
      reporter: r.reporter,
      kind: r.kind,
      part: r.part === null ? null : safeInteger(r.part, 'finding part'),
      code: r.code,
      detail: r.detail,
      evidence: r.evidence,
      status: r.status,
      verified: r.verified,
      observedAt: safeInteger(r.observed_ms, 'observed_at'),
      resolvedAt: r.resolved_ms === null ? null : safeInteger(r.resolved_ms, 'resolved_at'),
    }));
  }
}

const PEER_COLUMNS = 'peer, origin, verifier_key, witness_key, query_url, configured';

interface PeerRow {
  peer: string;
  origin: string;
  verifier_key: string;
  witness_key: string;
  query_url: string;
  configured: boolean;
}

function peerFromRow(r: PeerRow): FederationPeerRecord {
  return {
    id: r.peer,
    origin: r.origin,
    verifierKey: r.verifier_key,
    witnessKey: r.witness_key,
    queryUrl: r.query_url,
    configured: r.configured,
  };
}

interface FindingRow {
  fingerprint: string;
  subject: string;
  reporter: string;
  kind: FindingKind;
  part: string | null;
  code: string;
  detail: string;
  evidence: unknown;
  status: FindingStatus;
  verified: boolean;
  observed_ms: string;
  resolved_ms: string | null;
}
