import type { DataSource, EntityManager } from 'typeorm';
import { asBuffer } from './log-sql';

/** A message for `intermesh.witness`, queued in `witness_outbox`. */
export interface WitnessOutboxRecord {
  readonly key: string;
  readonly type: 'cosignature' | 'finding';
  readonly value: Uint8Array;
}

/** Queues one witness message inside the caller's transaction. */
export async function insertOutbox(tx: EntityManager, message: WitnessOutboxRecord): Promise<void> {
  await tx.query(`INSERT INTO witness_outbox (key, type, value) VALUES ($1, $2, $3)`, [
    message.key,
    message.type,
    asBuffer(message.value),
  ]);
}

/** The witness outbox: queued messages, oldest first, deleted once produced. */
export class TypeOrmWitnessOutbox {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Hands up to `limit` queued messages to `publish` under a row lock (SKIP LOCKED: a second
   * instance takes other rows or none) and deletes them in the same transaction once it resolves.
   * A crash or a failed publish leaves them queued: they are produced again (receivers store a
   * cosignature or a finding once, so a copy changes nothing). Resolves to how many were published.
   */
  async publishBatch(
    limit: number,
    publish: (messages: readonly WitnessOutboxRecord[]) => Promise<void>,
  ): Promise<number> {
    return this.dataSource.transaction(async (tx) => {
      const rows = await tx.query<
        Array<{ seq: string; key: string; type: 'cosignature' | 'finding'; value: Buffer }>
      >(`SELECT seq, key, type, value FROM witness_outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`, [
        limit,
      ]);
      if (rows.length === 0) return 0;
      await publish(
        rows.map((r) => ({
          key: r.key,
          type: r.type,
          value: new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength),
        })),
      );
      await tx.query(`DELETE FROM witness_outbox WHERE seq = ANY($1::bigint[])`, [rows.map((r) => r.seq)]);
      return rows.length;
    });
  }

  async pending(): Promise<number> {
    const rows = await this.dataSource.query<Array<{ n: string }>>(
      `SELECT count(*) AS n FROM witness_outbox`,
    );
    return Number(rows[0]?.n ?? 0);
  }
}
