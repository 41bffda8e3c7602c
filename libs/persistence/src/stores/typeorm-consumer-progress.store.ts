import type { DataSource, EntityManager } from 'typeorm';
import type { ConsumerProgressStore } from '@cryptomesh/intermesh/consumer-progress-store';
import { PersistenceError } from '../persistence-error';

/** Consumer progress in the `consumer_progress` table; `tx` is a TypeORM EntityManager in a transaction. */
export class TypeOrmConsumerProgressStore implements ConsumerProgressStore<EntityManager> {
  constructor(private readonly dataSource: DataSource) {}

  async read(consumer: string, topic: string, partition: number): Promise<bigint | undefined> {
    const rows = await this.dataSource.query<Array<{ next_offset: string }>>(
      'SELECT next_offset FROM consumer_progress WHERE consumer = $1 AND topic = $2 AND partition = $3',
      [consumer, topic, partition],
    );
    return rows[0] ? BigInt(rows[0].next_offset) : undefined;
  }

  async advance(
    tx: EntityManager,
    consumer: string,
    topic: string,
    partition: number,
    nextOffset: bigint,
  ): Promise<void> {
    if (nextOffset < 0n)
      throw new PersistenceError('progress.invalid', `next offset ${nextOffset} is negative`);
    // The WHERE on the upsert makes a backwards move update nothing; RETURNING tells us which.
    const rows = await tx.query<unknown[]>(
      `INSERT INTO consumer_progress (consumer, topic, partition, next_offset, updated_at)
       VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (consumer, topic, partition) DO UPDATE
         SET next_offset = EXCLUDED.next_offset, updated_at = now()
         WHERE consumer_progress.next_offset <= EXCLUDED.next_offset
       RETURNING next_offset`,
      [consumer, topic, partition, nextOffset.toString()],
    );
    if (rows.length === 0) {
      throw new PersistenceError(
        'progress.backwards',
        `progress of ${consumer} on ${topic}/${partition} may not move back to ${nextOffset}`,
      );
    }
  }
}
