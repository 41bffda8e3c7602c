import type { DataSource } from 'typeorm';
import type { CosignatureRecord } from '@cryptomesh/audit';
import { safeInteger, type SqlQuery } from './log-sql';
import { dataSourceQuery } from './typeorm-published-log.store';
import { insertCosignature } from './typeorm-cosignature-store';

/** What this portal knows of one outside witness (`outside_witnesses`). */
export interface OutsideWitnessRecord {
  readonly name: string;
  readonly url: string;
  readonly witnessKey: string;
  readonly configured: boolean;
  /** The tree size it last cosigned (or told us, answering 409): the next request's old size. */
  readonly size: number;
  /** The part of the last seal it cosigned; null before the first. */
  readonly part: number | null;
  readonly cosignedAt: string | null;
  /** Failures since the last success. */
  readonly failures: number;
  readonly lastError: string | null;
  readonly failedAt: string | null;
}

interface Row {
  name: string;
  url: string;
  witness_key: string;
  configured: boolean;
  size: string;
  part: string | null;
  cosigned_at: Date | null;
  failures: number;
  last_error: string | null;
  failed_at: Date | null;
}

/** Reads `outside_witnesses` (the query service and the replication service). */
export async function readOutsideWitnesses(query: SqlQuery): Promise<OutsideWitnessRecord[]> {
  const rows = await query<Row>(
    `SELECT name, url, witness_key, configured, size, part, cosigned_at, failures, last_error, failed_at
       FROM outside_witnesses ORDER BY name`,
  );
  return rows.map((r) => ({
    name: r.name,
    url: r.url,
    witnessKey: r.witness_key,
    configured: r.configured,
    size: safeInteger(r.size, 'size'),
    part: r.part === null ? null : safeInteger(r.part, 'part'),
    cosignedAt: r.cosigned_at?.toISOString() ?? null,
    failures: r.failures,
    lastError: r.last_error,
    failedAt: r.failed_at?.toISOString() ?? null,
  }));
}

/**
 * The replication service's record of the outside witnesses (docs/design/federation.md "Outside
 * witnesses"). Every write is one statement or one transaction, committed before it resolves.
 */
export class TypeOrmOutsideWitnessStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * At start: a row per configured witness (a changed key starts it afresh: size 0, no part); rows
   * of witnesses no longer configured are kept with `configured = false`.
   */
  async configure(
    witnesses: ReadonlyArray<{ name: string; url: string; witnessKey: string }>,
  ): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await tx.query(`UPDATE outside_witnesses SET configured = false, updated_at = now() WHERE configured`);
      for (const w of witnesses) {
        await tx.query(
          `INSERT INTO outside_witnesses (name, url, witness_key) VALUES ($1, $2, $3)
           ON CONFLICT (name) DO UPDATE SET
             url = EXCLUDED.url, configured = true, updated_at = now(),
             size = CASE WHEN outside_witnesses.witness_key = EXCLUDED.witness_key THEN outside_witnesses.size ELSE 0 END,
             part = CASE WHEN outside_witnesses.witness_key = EXCLUDED.witness_key THEN outside_witnesses.part END,
             witness_key = EXCLUDED.witness_key`,
          [w.name, w.url, w.witnessKey],
        );
      }
    });
  }

  all(): Promise<OutsideWitnessRecord[]> {
    return readOutsideWitnesses(dataSourceQuery(this.dataSource));
  }

  /** A verified cosignature of seal `part` at tree size `size`: stored with the witness's new state, in one transaction. */
  async cosigned(name: string, size: number, cosignature: CosignatureRecord): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await insertCosignature(tx, cosignature);
      await tx.query(
        `UPDATE outside_witnesses
            SET size = $2, part = $3, cosigned_at = now(), failures = 0, last_error = NULL, updated_at = now()
          WHERE name = $1`,
        [name, size, cosignature.part],
      );
    });
  }

  /** The witness answered 409 with its latest size: the next request starts from it. */
  async resync(name: string, size: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE outside_witnesses SET size = $2, updated_at = now() WHERE name = $1`,
      [name, size],
    );
  }

  async failed(name: string, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE outside_witnesses
          SET failures = failures + 1, last_error = $2, failed_at = now(), updated_at = now()
        WHERE name = $1`,
      [name, error.slice(0, 500)],
    );
  }
}
