import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A sequenced entry at index `idx` of this portal's log, with its RFC 9162 leaf hash. Never updated or deleted. */
@Entity({ name: 'log_entries' })
export class LogEntryEntity {
  @PrimaryColumn({ name: 'idx', type: 'bigint' })
  idx!: string;

  @Column({ name: 'entry', type: 'bytea' })
  entry!: Buffer;

  /** SHA-256(0x00 ‖ entry): also the level-0 stored node of the tree. */
  @Column({ name: 'leaf_hash', type: 'bytea' })
  leafHash!: Buffer;

  @CreateDateColumn({ name: 'sequenced_at', type: 'timestamptz' })
  sequencedAt!: Date;
}
