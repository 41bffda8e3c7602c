import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * The seal of part `part`, covering entries [first, size), as signed by the log key. The row is the
 * publication source: nothing publishes a seal that is not stored here, and the primary key makes a
 * second seal for one part index impossible (DESIGN.md invariant 2).
 */
@Entity({ name: 'log_seals' })
export class LogSealEntity {
  @PrimaryColumn({ name: 'part', type: 'bigint' })
  part!: string;

  @Column({ name: 'first', type: 'bigint' })
  first!: string;

  @Column({ name: 'size', type: 'bigint' })
  size!: string;

  @Column({ name: 'part_digest', type: 'bytea' })
  partDigest!: Buffer;

  @Column({ name: 'chain', type: 'bytea' })
  chain!: Buffer;

  @Column({ name: 'root', type: 'bytea' })
  root!: Buffer;

  @Column({ name: 'time_ms', type: 'bigint' })
  timeMs!: string;

  /** The signed note exactly as signed (C2SP signed-note). */
  @Column({ name: 'note', type: 'text' })
  note!: string;

  @CreateDateColumn({ name: 'sealed_at', type: 'timestamptz' })
  sealedAt!: Date;
}
