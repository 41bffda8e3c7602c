import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * How far a Kafka consumer of this portal has durably processed one topic partition.
 * Written in the same database transaction as whatever the consumed messages produced, so that a
 * replay after a crash resumes exactly after the last committed message (DESIGN.md "Kafka").
 * The broker's own committed offsets are a hint only; this row is the authority.
 */
@Entity({ name: 'consumer_progress' })
export class ConsumerProgressEntity {
  @PrimaryColumn({ name: 'consumer', type: 'text' })
  consumer!: string;

  @PrimaryColumn({ name: 'topic', type: 'text' })
  topic!: string;

  @PrimaryColumn({ name: 'partition', type: 'integer' })
  partition!: number;

  /** The offset of the next message to process (Kafka convention: last processed + 1). */
  @Column({ name: 'next_offset', type: 'bigint' })
  nextOffset!: string;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
