import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The portal's own log (DESIGN.md "The log"; docs/design/log-signer.md):
 *
 * - `log_queue`: queued entries. The gateway inserts a row in the same transaction as its catalog
 *   change; the log-signer consumes rows by deleting them in the transaction that sequences them.
 * - `log_entries`: sequenced entries, one per index, with their RFC 9162 leaf hash (which is also
 *   the level-0 stored node of the tree).
 * - `log_tree_nodes`: every complete subtree of two or more leaves (level ≥ 1), written once.
 * - `log_seals`: one row per part. The primary key on `part` makes a second seal for one part index
 *   impossible (invariant 2); the self-reference on (part − 1, first) → (part, size) makes every part
 *   start exactly where the previous one ended, so the database itself refuses a gap or an overlap.
 */
export class Log1763780400000 implements MigrationInterface {
  name = 'Log1763780400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE log_queue (
        seq       bigserial   PRIMARY KEY,
        entry     bytea       NOT NULL CHECK (octet_length(entry) > 0),
        queued_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE log_entries (
        idx          bigint      PRIMARY KEY CHECK (idx >= 0),
        entry        bytea       NOT NULL,
        leaf_hash    bytea       NOT NULL CHECK (octet_length(leaf_hash) = 32),
        sequenced_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE log_tree_nodes (
        level smallint NOT NULL CHECK (level BETWEEN 1 AND 62),
        idx   bigint   NOT NULL CHECK (idx >= 0),
        hash  bytea    NOT NULL CHECK (octet_length(hash) = 32),
        PRIMARY KEY (level, idx)
      )`);
    await queryRunner.query(`
      CREATE TABLE log_seals (
        part        bigint      PRIMARY KEY CHECK (part >= 0),
        first       bigint      NOT NULL CHECK (first >= 0),
        size        bigint      NOT NULL,
        part_digest bytea       NOT NULL CHECK (octet_length(part_digest) = 32),
        chain       bytea       NOT NULL CHECK (octet_length(chain) = 32),
        root        bytea       NOT NULL CHECK (octet_length(root) = 32),
        time_ms     bigint      NOT NULL CHECK (time_ms >= 0),
        note        text        NOT NULL CHECK (note <> ''),
        sealed_at   timestamptz NOT NULL DEFAULT now(),
        previous_part bigint GENERATED ALWAYS AS (CASE WHEN part = 0 THEN NULL ELSE part - 1 END) STORED,
        CONSTRAINT log_seals_first_le_size CHECK (first <= size),
        CONSTRAINT log_seals_part0_starts_at_0 CHECK (part > 0 OR first = 0),
        CONSTRAINT log_seals_part_size_key UNIQUE (part, size),
        CONSTRAINT log_seals_contiguous FOREIGN KEY (previous_part, first) REFERENCES log_seals (part, size)
      )`);
    // Proof and entry requests name a tree size; the latest seal is read by size too.
    await queryRunner.query(`CREATE INDEX log_seals_size ON log_seals (size)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE log_seals`);
    await queryRunner.query(`DROP TABLE log_tree_nodes`);
    await queryRunner.query(`DROP TABLE log_entries`);
    await queryRunner.query(`DROP TABLE log_queue`);
  }
}
