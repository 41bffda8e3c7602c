import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A stored node of the log's Merkle tree (`@cryptomesh/log` hash-reader.ts): the hash of the
 * complete subtree over entries [idx·2^level, (idx+1)·2^level). Levels ≥ 1 only; level 0 is
 * `log_entries.leaf_hash`. Written once, in the transaction that sequences its last entry.
 */
@Entity({ name: 'log_tree_nodes' })
export class LogTreeNodeEntity {
  @PrimaryColumn({ name: 'level', type: 'smallint' })
  level!: number;

  @PrimaryColumn({ name: 'idx', type: 'bigint' })
  idx!: string;

  @Column({ name: 'hash', type: 'bytea' })
  hash!: Buffer;
}
