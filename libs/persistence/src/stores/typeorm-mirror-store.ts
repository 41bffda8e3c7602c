import type { FindingKind } from '@cryptomesh/intermesh';
import type { DataSource, EntityManager } from 'typeorm';
import type { Hash, StoredNode } from '@cryptomesh/log';
import { asBuffer, safeInteger, type LogSealRecord } from './log-sql';
import { insertOutbox, type WitnessOutboxRecord } from './typeorm-witness-outbox';

export type { WitnessOutboxRecord } from './typeorm-witness-outbox';
import { LogStoreError } from './log-store-error';
import type { EntryProfiles } from './profile-index-sql';

/** The consumer name of the mirror in `consumer_progress`. */
export const MIRROR_CONSUMER = 'mirror';

/** The last part of a peer's log stored in the mirror, and the verifier frontier at its size. */
export interface StoredMirrorHead {
  readonly part: number;
  readonly first: number;
  readonly size: number;
  readonly timeMs: number;
  readonly note: string;
  /** Base64 peak hashes at `size` (`LogVerifierState.frontier`). */
  readonly frontier: readonly string[];
}

/** A part of a peer's log that verified completely, with everything the mirror tables need. */
export interface MirrorPartRecord extends LogSealRecord {
  readonly peer: string;
  readonly source: 'topic' | 'catch-up';
  readonly entries: readonly Uint8Array[];
  readonly leafHashes: readonly Hash[];
  /** Complete subtrees of level ≥ 1 closed by these entries. */
  readonly nodes: readonly StoredNode[];
  /** Per entry, what it does to the profile index (undefined: not a record). */
  readonly profiles: ReadonlyArray<EntryProfiles | undefined>;
  /** The verifier frontier after this part. */
  readonly frontier: readonly string[];
}

/** A verified cosignature, as stored in `cosignatures`. */
export interface CosignatureRecord {
  readonly subject: string;
  readonly part: number;
  readonly witness: string;
  /** The subject's seal note without cosignature lines. */
  readonly seal: string;
  /** `— <name> <base64>`, no newline. */
  readonly line: string;
  /** POSIX seconds, as signed. */
  readonly cosignedAt: number;
}

/** A finding, as stored in `findings` (docs/design/federation.md "Findings"). */
export interface NewFinding {
  readonly fingerprint: string;
  readonly subject: string;
  readonly reporter: string;
  readonly kind: FindingKind;
  readonly part: number | null;
  readonly code: string;
  readonly detail: string;
  readonly evidence: unknown;
  /** Default open; a finding already known to be over (a peer's stale report of a seal since superseded) is stored resolved. */
  readonly status?: 'open' | 'resolved';
  /**
   * Default true: this portal found it, or verified its evidence. False: a peer's claim that this
   * portal could not re-verify; it is shown, never counted (DESIGN.md invariant 7).
   */
  readonly verified?: boolean;
}

/** Where a stored part leaves the topic consumer: the offset after the part's seal message. */
export interface MirrorProgress {
  readonly topic: string;
  readonly nextOffset: bigint;
}

/**
 * The mirror's writes (and the reads the auditor needs) over PostgreSQL. Every write is one
 * transaction; the database itself refuses a second seal for a part and a gap between parts
 * (migration 1763794800000), and `storePart` refuses a part that does not follow the stored head,
 * so two replication instances that race store each part at most once.
 */
export class TypeOrmMirrorStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Replaces the roster: this portal and its configured peers (peers no longer configured are kept, flagged). */
  async writeRoster(
    portal: { id: string; witnessKey: string | undefined; quorum: number },
    peers: ReadonlyArray<{
      id: string;
      origin: string;
      verifierKey: string;
      witnessKey: string;
      queryUrl: string;
    }>,
  ): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO federation_portal (one, portal_id, witness_key, quorum, updated_at)
         VALUES (true, $1, $2, $3, now())
         ON CONFLICT (one) DO UPDATE
           SET portal_id = $1, witness_key = $2, quorum = $3, updated_at = now()`,
        [portal.id, portal.witnessKey ?? null, portal.quorum],
      );
      await tx.query(`UPDATE federation_peers SET configured = false, updated_at = now()`);
      for (const peer of peers) {
        await tx.query(
          `INSERT INTO federation_peers (peer, origin, verifier_key, witness_key, query_url, configured, updated_at)
           VALUES ($1, $2, $3, $4, $5, true, now())
           ON CONFLICT (peer) DO UPDATE
             SET origin = $2, verifier_key = $3, witness_key = $4, query_url = $5, configured = true,
                 updated_at = now()`,
          [peer.id, peer.origin, peer.verifierKey, peer.witnessKey, peer.queryUrl],
        );
      }
    });
  }

  async head(peer: string): Promise<StoredMirrorHead | undefined> {
    const rows = await this.dataSource.query<
      Array<{ part: string; first: string; size: string; time_ms: string; note: string; frontier: string[] }>
    >(
      `SELECT h.part, s.first, h.size, s.time_ms, h.note, h.frontier
         FROM mirror_heads h JOIN mirror_seals s ON s.peer = h.peer AND s.part = h.part
        WHERE h.peer = $1`,
      [peer],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      part: safeInteger(row.part, 'mirror head part'),
      first: safeInteger(row.first, 'mirror head first'),
      size: safeInteger(row.size, 'mirror head size'),
      timeMs: safeInteger(row.time_ms, 'mirror head time'),
      note: row.note,
      frontier: row.frontier,
    };
  }

  /** The offset after the last stored part's seal message on `topic`, if any. */
  async progress(topic: string): Promise<bigint | undefined> {
    const rows = await this.dataSource.query<Array<{ next_offset: string }>>(
      `SELECT next_offset FROM consumer_progress WHERE consumer = $1 AND topic = $2 AND partition = 0`,
      [MIRROR_CONSUMER, topic],
    );
    return rows[0] === undefined ? undefined : BigInt(rows[0].next_offset);
  }

  /** The stored seal note of a mirrored part, if that part is mirrored. */
  async sealNote(peer: string, part: number): Promise<string | undefined> {
    const rows = await this.dataSource.query<Array<{ note: string }>>(
      `SELECT note FROM mirror_seals WHERE peer = $1 AND part = $2`,
      [peer, part],
    );
    return rows[0]?.note;
  }

  /** The stored seal note of this portal's own part, if sealed. */
  async ownSealNote(part: number): Promise<string | undefined> {
    const rows = await this.dataSource.query<Array<{ note: string }>>(
      `SELECT note FROM log_seals WHERE part = $1`,
      [part],
    );
    return rows[0]?.note;
  }

  /** The time of this portal's own newest seal, if any. */
  async ownNewestSealTime(): Promise<number | undefined> {
    const rows = await this.dataSource.query<Array<{ time_ms: string | null }>>(
      `SELECT max(time_ms) AS time_ms FROM log_seals`,
    );
    const value = rows[0]?.time_ms;
    return value === null || value === undefined ? undefined : safeInteger(value, 'time_ms');
  }

  /** Every mirrored entry of one account of a peer, in log order (to rebuild its rule state). */
  async accountEntries(peer: string, account: string): Promise<Uint8Array[]> {
    const rows = await this.dataSource.query<Array<{ entry: Buffer }>>(
      `SELECT entry FROM mirror_entries WHERE peer = $1 AND account = $2 ORDER BY idx`,
      [peer, account],
    );
    return rows.map((r) => new Uint8Array(r.entry.buffer, r.entry.byteOffset, r.entry.byteLength));
  }

  /**
   * Stores a verified part in ONE transaction: entries, tree nodes, seal, head, profile index, and
   * optionally this portal's cosignature of the seal with its witness message and the topic
   * progress. MUST reject `mirror.out-of-step` (and change nothing) unless the stored head is exactly
   * the previous part — a second instance or a stale caller then reloads its state.
   */
  async storePart(
    record: MirrorPartRecord,
    extras: {
      progress?: MirrorProgress;
      cosignature?: CosignatureRecord;
      outbox?: readonly WitnessOutboxRecord[];
    } = {},
  ): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      const { peer } = record;
      const heads = await tx.query<Array<{ part: string }>>(
        `SELECT part FROM mirror_heads WHERE peer = $1 FOR UPDATE`,
        [peer],
      );
      const headPart = heads[0] === undefined ? -1 : safeInteger(heads[0].part, 'mirror head part');
      if (headPart !== record.part - 1) {
        throw new LogStoreError(
          'mirror.out-of-step',
          `the mirror of ${peer} ends at part ${headPart}: part ${record.part} does not follow it`,
        );
      }
      await insertEntries(tx, record);
      await tx.query(
        `INSERT INTO mirror_seals (peer, part, first, size, part_digest, chain, root, time_ms, note, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          peer,
          record.part,
          record.first,
          record.size,
          asBuffer(record.partDigest),
          asBuffer(record.chain),
          asBuffer(record.root),
          record.timeMs,
          record.note,
          record.source,
        ],
      );
      // Commit point of the mirror (with the statements below): a crash before the commit leaves
      // nothing of the part and the progress before its first message, so it is read again.
      await tx.query(
        `INSERT INTO mirror_heads (peer, part, size, frontier, note, updated_at)
         VALUES ($1, $2, $3, $4::jsonb, $5, now())
         ON CONFLICT (peer) DO UPDATE
           SET part = $2, size = $3, frontier = $4::jsonb, note = $5, updated_at = now()`,
        [peer, record.part, record.size, JSON.stringify(record.frontier), record.note],
      );
      if (extras.cosignature !== undefined) await insertCosignature(tx, extras.cosignature);
      for (const message of extras.outbox ?? []) await insertOutbox(tx, message);
      if (extras.progress !== undefined) await advanceProgress(tx, extras.progress);
    });
  }

  /**
   * Stores a finding once: resolves true when it is new (and then queues `outbox` in the same
   * transaction), false when a finding with the same fingerprint exists. The one change to an existing
   * finding: a verified one makes a peer's claim with the same fingerprint verified (this portal's own
   * audit reached the same finding from the same sealed data).
   */
  async recordFinding(finding: NewFinding, outbox?: WitnessOutboxRecord): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      const rows = await tx.query<Array<{ inserted: boolean }>>(
        `INSERT INTO findings (fingerprint, subject, reporter, kind, part, code, detail, evidence, status, resolved_at, verified)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, CASE WHEN $9 = 'resolved' THEN now() END, $10)
         ON CONFLICT (fingerprint) DO UPDATE SET verified = true
           WHERE NOT findings.verified AND EXCLUDED.verified
         RETURNING (xmax = 0) AS inserted`,
        [
          finding.fingerprint,
          finding.subject,
          finding.reporter,
          finding.kind,
          finding.part,
          finding.code,
          finding.detail,
          JSON.stringify(finding.evidence),
          finding.status ?? 'open',
          finding.verified ?? true,
        ],
      );
      if (rows[0]?.inserted !== true) return false;
      if (outbox !== undefined) await insertOutbox(tx, outbox);
      return true;
    });
  }

  /**
   * Resolves the open findings of `kind` on `subject` (all, or those with `part` ≤ `upToPart`);
   * resolves to how many.
   */
  async resolveFindings(subject: string, kind: NewFinding['kind'], upToPart?: number): Promise<number> {
    // Wrapped in a SELECT: TypeORM answers a bare UPDATE with [rows, affected], not rows.
    const rows = await this.dataSource.query<Array<{ n: string }>>(
      `WITH resolved AS (
         UPDATE findings SET status = 'resolved', resolved_at = now()
          WHERE subject = $1 AND kind = $2 AND status = 'open' AND ($3::bigint IS NULL OR part <= $3)
          RETURNING 1)
       SELECT count(*) AS n FROM resolved`,
      [subject, kind, upToPart ?? null],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Whether `subject` has an open finding of `kind` (equivocation: it is no longer cosigned). */
  async hasOpenFinding(subject: string, kind: NewFinding['kind']): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM findings WHERE subject = $1 AND kind = $2 AND status = 'open' LIMIT 1`,
      [subject, kind],
    );
    return rows.length > 0;
  }

  /** Stores a verified cosignature; resolves false when one from that witness for that part exists. */
  async storeCosignature(row: CosignatureRecord): Promise<boolean> {
    return this.dataSource.transaction((tx) => insertCosignature(tx, row));
  }

  /** A stored cosignature of `subject`'s part by `witness`, if any. */
  async cosignature(subject: string, part: number, witness: string): Promise<CosignatureRecord | undefined> {
    const rows = await this.dataSource.query<Array<{ seal: string; line: string; cosigned_at: string }>>(
      `SELECT seal, line, cosigned_at FROM cosignatures WHERE subject = $1 AND part = $2 AND witness = $3`,
      [subject, part, witness],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      subject,
      part,
      witness,
      seal: row.seal,
      line: row.line,
      cosignedAt: safeInteger(row.cosigned_at, 'cosigned_at'),
    };
  }
}

async function insertEntries(tx: EntityManager, record: MirrorPartRecord): Promise<void> {
  const { peer, first, entries } = record;
  if (entries.length !== record.size - first || record.leafHashes.length !== entries.length) {
    throw new LogStoreError(
      'store.corrupt',
      `part ${record.part} of ${peer} does not hold [${first}, ${record.size})`,
    );
  }
  // Pages keep one statement's parameters bounded for large parts.
  const PAGE = 1000;
  for (let start = 0; start < entries.length; start += PAGE) {
    const end = Math.min(entries.length, start + PAGE);
    const indices: string[] = [];
    const bytes: Buffer[] = [];
    const hashes: Buffer[] = [];
    const accounts: Array<string | null> = [];
    for (let i = start; i < end; i++) {
      indices.push(String(first + i));
      bytes.push(asBuffer(entries[i]!));
      hashes.push(asBuffer(record.leafHashes[i]!));
      accounts.push(record.profiles[i]?.account ?? null);
    }
    await tx.query(
      `INSERT INTO mirror_entries (peer, idx, entry, leaf_hash, account)
       SELECT $1, * FROM unnest($2::bigint[], $3::bytea[], $4::bytea[], $5::text[])`,
      [peer, indices, bytes, hashes, accounts],
    );
  }
  for (let start = 0; start < record.nodes.length; start += PAGE) {
    const page = record.nodes.slice(start, start + PAGE);
    await tx.query(
      `INSERT INTO mirror_tree_nodes (peer, level, idx, hash)
       SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[])`,
      [peer, page.map((n) => n.level), page.map((n) => String(n.index)), page.map((n) => asBuffer(n.hash))],
    );
  }
  await insertProfileIndex(tx, record);
}

/** The mirror's profile index, with the own index's rules (profile-index-sql.ts `writeProfileIndex`). */
async function insertProfileIndex(tx: EntityManager, record: MirrorPartRecord): Promise<void> {
  const ids: string[] = [];
  const indices: string[] = [];
  const accounts: string[] = [];
  const states: string[] = [];
  record.profiles.forEach((entry, i) => {
    for (const change of entry?.changes ?? []) {
      ids.push(change.id);
      indices.push(String(record.first + i));
      accounts.push(entry!.account);
      states.push(change.state);
    }
  });
  if (ids.length > 0) {
    await tx.query(
      `INSERT INTO mirror_profile_index (peer, profile_id, idx, account, state)
       SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[])
       ON CONFLICT DO NOTHING`,
      [record.peer, ids, indices, accounts, states],
    );
  }
  for (const [i, entry] of record.profiles.entries()) {
    if (entry?.endsAccount !== true) continue;
    await tx.query(
      `INSERT INTO mirror_profile_index (peer, profile_id, idx, account, state)
       SELECT $1, latest.profile_id, $3, $2, 'deleted'
         FROM (SELECT DISTINCT ON (profile_id) profile_id, state
                 FROM mirror_profile_index
                WHERE peer = $1 AND account = $2 AND idx < $3
                ORDER BY profile_id, idx DESC) AS latest
        WHERE latest.state = 'set'
       ON CONFLICT DO NOTHING`,
      [record.peer, entry.account, String(record.first + i)],
    );
  }
}

async function insertCosignature(tx: EntityManager, row: CosignatureRecord): Promise<boolean> {
  const rows = await tx.query<unknown[]>(
    `INSERT INTO cosignatures (subject, part, witness, seal, line, cosigned_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (subject, part, witness) DO NOTHING
     RETURNING part`,
    [row.subject, row.part, row.witness, row.seal, row.line, row.cosignedAt],
  );
  return rows.length > 0;
}

async function advanceProgress(tx: EntityManager, progress: MirrorProgress): Promise<void> {
  const rows = await tx.query<unknown[]>(
    `INSERT INTO consumer_progress (consumer, topic, partition, next_offset, updated_at)
     VALUES ($1, $2, 0, $3, now())
     ON CONFLICT (consumer, topic, partition) DO UPDATE
       SET next_offset = EXCLUDED.next_offset, updated_at = now()
       WHERE consumer_progress.next_offset <= EXCLUDED.next_offset
     RETURNING next_offset`,
    [MIRROR_CONSUMER, progress.topic, progress.nextOffset.toString()],
  );
  if (rows.length === 0) {
    throw new LogStoreError(
      'mirror.out-of-step',
      `the mirror progress on ${progress.topic} may not move back to ${progress.nextOffset}`,
    );
  }
}
