import type { DataSource } from 'typeorm';
import type { FindingKind } from '@cryptomesh/intermesh';
import type { FindingStore, StoredFinding } from '@cryptomesh/audit';
import { insertOutbox, type WitnessOutboxRecord } from './typeorm-witness-outbox';

/** Findings over PostgreSQL (`findings`, with `witness_outbox`): the `FindingStore` port. */
export class TypeOrmFindingStore implements FindingStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores a finding once: resolves true when it is new (and then queues `outbox` in the same
   * transaction), false when a finding with the same fingerprint exists. The one change to an existing
   * finding: a verified one makes a peer's claim with the same fingerprint verified (this portal's own
   * audit reached the same finding from the same sealed data).
   */
  async recordFinding(finding: StoredFinding, outbox?: WitnessOutboxRecord): Promise<boolean> {
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
      // Commit point of a finding: a crash before it leaves neither the finding nor its witness
      // message; the audit that found it re-derives it from the same stored head (same fingerprint),
      // and the witness consumer has not committed the offset of a peer's finding, so both come again.
      if (outbox !== undefined) await insertOutbox(tx, outbox);
      return true;
    });
  }

  /**
   * Resolves the open findings of `kind` on `subject` (all, or those with `part` ≤ `upToPart`);
   * resolves to how many.
   */
  async resolveOwnStale(self: string): Promise<number> {
    const rows = await this.dataSource.query<Array<{ n: string }>>(
      `WITH resolved AS (
         UPDATE findings SET status = 'resolved', resolved_at = now()
          WHERE subject = $1 AND kind = 'stale' AND status = 'open'
            AND jsonb_typeof(evidence -> 'timeMs') = 'number'
            AND (evidence ->> 'timeMs')::numeric < (SELECT max(time_ms) FROM log_seals)
          RETURNING 1)
       SELECT count(*) AS n FROM resolved`,
      [self],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async resolveFindings(subject: string, kind: FindingKind, upToPart?: number): Promise<number> {
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
  async hasOpenFinding(subject: string, kind: FindingKind): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM findings WHERE subject = $1 AND kind = $2 AND status = 'open' LIMIT 1`,
      [subject, kind],
    );
    return rows.length > 0;
  }
}
