import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A queued entry: the exact RFC 8785 bytes of one accepted transaction, inserted by the gateway in
 * the same database transaction as its catalog change (`enqueueEntry`). The log-signer deletes the
 * row in the transaction that sequences it, so a row exists exactly while its entry is queued.
 */
@Entity({ name: 'log_queue' })
export class LogQueueEntity {
  /** Allocation order, not commit order: see docs/design/log-signer.md "Commit order". */
  @PrimaryGeneratedColumn({ name: 'seq', type: 'bigint' })
  seq!: string;

  @Column({ name: 'entry', type: 'bytea' })
  entry!: Buffer;

  /** The gateway request that queued it (`X-Request-Id`); not part of the entry's bytes. */
  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId!: string | null;

  @CreateDateColumn({ name: 'queued_at', type: 'timestamptz' })
  queuedAt!: Date;
}
