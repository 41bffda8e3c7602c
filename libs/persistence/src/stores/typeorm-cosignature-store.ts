import type { DataSource, EntityManager } from 'typeorm';
import type { CosignatureRecord, CosignatureStore } from '@cryptomesh/audit';
import { safeInteger } from './log-sql';

/** Cosignatures over PostgreSQL (`cosignatures`): the `CosignatureStore` port. */
export class TypeOrmCosignatureStore implements CosignatureStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores a verified cosignature; resolves false when one from that witness for that part exists.
   * One statement, so no transaction around it (issue #17: two round trips fewer per cosignature).
   */
  async storeCosignature(row: CosignatureRecord): Promise<boolean> {
    return insertCosignature(this.dataSource.manager, row);
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

/** Stores one cosignature inside the caller's transaction (the mirror's part, or storeCosignature); false when stored already. */
export async function insertCosignature(tx: EntityManager, row: CosignatureRecord): Promise<boolean> {
  const rows = await tx.query<unknown[]>(
    `INSERT INTO cosignatures (subject, part, witness, seal, line, cosigned_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (subject, part, witness) DO NOTHING
     RETURNING part`,
    [row.subject, row.part, row.witness, row.seal, row.line, row.cosignedAt],
  );
  return rows.length > 0;
}
