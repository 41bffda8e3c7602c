import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue #18, outside witnesses: `outside_witnesses` holds, per external C2SP tlog-witness the
 * operator listed (OUTSIDE_WITNESSES), what the replication service knows of it — the tree size it
 * last cosigned (the old size of the next request), the part of the last seal it cosigned, and its
 * last success or failure — for `/federation` and the status page. Its cosignatures themselves go
 * to `cosignatures` (witness `outside:<name>`), where `/logs/self/checkpoint` finds them.
 */
export class OutsideWitnesses1763809210000 implements MigrationInterface {
  name = 'OutsideWitnesses1763809210000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE outside_witnesses (
        name         text        PRIMARY KEY CHECK (name <> ''),
        url          text        NOT NULL,
        witness_key  text        NOT NULL,
        configured   boolean     NOT NULL DEFAULT true,
        size         bigint      NOT NULL DEFAULT 0 CHECK (size >= 0),
        part         bigint,
        cosigned_at  timestamptz,
        failures     integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
        last_error   text,
        failed_at    timestamptz,
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`REVOKE ALL ON TABLE outside_witnesses FROM cryptomesh_log_signer`);
    await queryRunner.query(
      `GRANT SELECT, INSERT, UPDATE ON TABLE outside_witnesses TO cryptomesh_replication`,
    );
    await queryRunner.query(`GRANT SELECT ON TABLE outside_witnesses TO cryptomesh_query`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE outside_witnesses`);
  }
}
