import type { DataSource } from 'typeorm';
import type { WitnessedCheckpoint } from '@cryptomesh/log';
import { asBuffer, safeInteger } from './log-sql';

/**
 * `witness_checkpoints`: per origin, the latest checkpoint this portal cosigned through
 * `POST /add-checkpoint` (C2SP tlog-witness). Written by the replication service only.
 */
export class TypeOrmWitnessCheckpointStore {
  constructor(private readonly dataSource: DataSource) {}

  /** The latest checkpoint cosigned for `origin`, with its text as submitted, if any (committed data). */
  async latest(origin: string): Promise<(WitnessedCheckpoint & { readonly checkpoint: string }) | undefined> {
    const rows = await this.dataSource.query<Array<{ size: string; root: Buffer; checkpoint: string }>>(
      `SELECT size, root, checkpoint FROM witness_checkpoints WHERE origin = $1`,
      [origin],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : { size: safeInteger(row.size, 'size'), root: new Uint8Array(row.root), checkpoint: row.checkpoint };
  }

  /**
   * Compare-and-swap, in one statement: records `next` for `origin` only if the stored checkpoint
   * is still exactly `from` (undefined: none stored). Resolves true when recorded — durably
   * committed — and false, changing nothing, when another request moved it first (C2SP
   * tlog-witness: checking the old size and persisting MUST be atomic, or a racing older request
   * could roll the witness back).
   */
  async advance(
    origin: string,
    from: WitnessedCheckpoint | undefined,
    next: WitnessedCheckpoint & { readonly checkpoint: string },
  ): Promise<boolean> {
    // Wrapped in a SELECT: TypeORM answers a bare UPDATE with [rows, count], not the rows.
    const rows =
      from === undefined
        ? await this.dataSource.query<Array<{ n: number }>>(
            `WITH moved AS (
               INSERT INTO witness_checkpoints (origin, size, root, checkpoint) VALUES ($1, $2, $3, $4)
               ON CONFLICT (origin) DO NOTHING RETURNING origin)
             SELECT count(*)::int AS n FROM moved`,
            [origin, next.size, asBuffer(next.root), next.checkpoint],
          )
        : await this.dataSource.query<Array<{ n: number }>>(
            `WITH moved AS (
               UPDATE witness_checkpoints SET size = $2, root = $3, checkpoint = $4, cosigned_at = now()
                WHERE origin = $1 AND size = $5 AND root = $6 RETURNING origin)
             SELECT count(*)::int AS n FROM moved`,
            [origin, next.size, asBuffer(next.root), next.checkpoint, from.size, asBuffer(from.root)],
          );
    return rows[0]?.n === 1;
  }
}
