import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue #18, C2SP tlog-tiles and tlog-witness (docs/design/query.md "Tiles"):
 *
 * - `log_tiles` (this portal's log, written by the log-signer in the transaction that stores a
 *   seal) and `mirror_tiles` (a peer's mirror, written by the replication service in the
 *   transaction that stores a part): one row per hash tile (level, index), holding its hashes
 *   concatenated, as wide as the latest seal makes it. A full tile (width 256) never changes; a
 *   partial one is widened in place, and a partial tile of an older checkpoint is a prefix of the
 *   stored row. Serving a tile is one primary-key lookup.
 * - `witness_checkpoints`: for each log this portal witnesses through `POST /add-checkpoint`
 *   (C2SP tlog-witness), by origin, the latest checkpoint it cosigned — compared and swapped in one
 *   statement, so two concurrent requests can never roll it back.
 */
export class Tiles1763809200000 implements MigrationInterface {
  name = 'Tiles1763809200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE log_tiles (
        level  smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
        idx    bigint   NOT NULL CHECK (idx >= 0),
        width  smallint NOT NULL CHECK (width BETWEEN 1 AND 256),
        hashes bytea    NOT NULL,
        PRIMARY KEY (level, idx),
        CONSTRAINT log_tiles_width CHECK (octet_length(hashes) = 32 * width)
      )`);
    await queryRunner.query(`
      CREATE TABLE mirror_tiles (
        peer   text     NOT NULL,
        level  smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
        idx    bigint   NOT NULL CHECK (idx >= 0),
        width  smallint NOT NULL CHECK (width BETWEEN 1 AND 256),
        hashes bytea    NOT NULL,
        PRIMARY KEY (peer, level, idx),
        CONSTRAINT mirror_tiles_width CHECK (octet_length(hashes) = 32 * width)
      )`);
    await queryRunner.query(`
      CREATE TABLE witness_checkpoints (
        origin      text        PRIMARY KEY CHECK (origin <> ''),
        size        bigint      NOT NULL CHECK (size >= 0),
        root        bytea       NOT NULL CHECK (octet_length(root) = 32),
        checkpoint  text        NOT NULL,
        cosigned_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The default privileges (ServiceRoles1763808000000) let the log-signer and the replication
    // service read every new table; the log-signer has no use for the mirror's or the witness's.
    await queryRunner.query(
      `REVOKE ALL ON TABLE mirror_tiles, witness_checkpoints FROM cryptomesh_log_signer`,
    );
    await queryRunner.query(`GRANT SELECT, INSERT, UPDATE ON TABLE log_tiles TO cryptomesh_log_signer`);
    await queryRunner.query(
      `GRANT SELECT, INSERT, UPDATE ON TABLE mirror_tiles, witness_checkpoints TO cryptomesh_replication`,
    );
    await queryRunner.query(
      `GRANT SELECT ON TABLE log_tiles, mirror_tiles, witness_checkpoints TO cryptomesh_query`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE witness_checkpoints`);
    await queryRunner.query(`DROP TABLE mirror_tiles`);
    await queryRunner.query(`DROP TABLE log_tiles`);
  }
}
