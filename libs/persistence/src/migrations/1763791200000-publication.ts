import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The publication outbox (docs/design/replication.md "Publishing"): for each log topic this portal
 * writes, the index of the next sealed part to publish. The replication service produces part
 * `next_part` and then advances it in the transaction that held the row lock while it produced, so
 * a crash in between publishes the part again (a duplicate that consumers recognise), never skips it.
 */
export class Publication1763791200000 implements MigrationInterface {
  name = 'Publication1763791200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE log_publication (
        topic        text        PRIMARY KEY CHECK (topic <> ''),
        next_part    bigint      NOT NULL DEFAULT 0 CHECK (next_part >= 0),
        published_at timestamptz,
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE log_publication`);
  }
}
