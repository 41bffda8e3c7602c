import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue #19 item 4, log key rotation (docs/design/log-format.md "Key transitions"):
 * - `mirror_heads.log_keys`: the log verifier's keys once a peer's key changed (the key that signs its
 *   next seal, the key of the stored head's note, the retired keys); NULL while the pinned key signs.
 * - partial indexes over the key transition entries of the own log and of the mirrors, so that the
 *   query service lists a log's transitions without reading every entry. An entry is a transition
 *   when its canonical JSON starts with `{"LogKeyTransition":` (20 bytes).
 */
export class LogKeyTransitions1763809400000 implements MigrationInterface {
  name = 'LogKeyTransitions1763809400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE mirror_heads ADD COLUMN log_keys jsonb`);
    await queryRunner.query(
      `CREATE INDEX log_entries_key_transitions ON log_entries (idx)
        WHERE substring(entry from 1 for 20) = '\\x7b224c6f674b65795472616e736974696f6e223a'::bytea`,
    );
    await queryRunner.query(
      `CREATE INDEX mirror_entries_key_transitions ON mirror_entries (peer, idx)
        WHERE substring(entry from 1 for 20) = '\\x7b224c6f674b65795472616e736974696f6e223a'::bytea`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX mirror_entries_key_transitions`);
    await queryRunner.query(`DROP INDEX log_entries_key_transitions`);
    await queryRunner.query(`ALTER TABLE mirror_heads DROP COLUMN log_keys`);
  }
}
