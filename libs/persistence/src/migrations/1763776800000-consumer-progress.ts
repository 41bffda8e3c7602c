import { MigrationInterface, QueryRunner } from 'typeorm';

export class ConsumerProgress1763776800000 implements MigrationInterface {
  name = 'ConsumerProgress1763776800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consumer_progress (
        consumer    text        NOT NULL,
        topic       text        NOT NULL,
        partition   integer     NOT NULL CHECK (partition >= 0),
        next_offset bigint      NOT NULL CHECK (next_offset >= 0),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, topic, partition)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE consumer_progress`);
  }
}
