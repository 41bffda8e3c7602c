import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the status page's history (docs/design/status-page.md "History"): seals by their time
 * (throughput per minute of this log and of every mirror) and mirrored parts by when they were
 * mirrored (replication lag per minute), so that a refresh reads the last hour, not every seal.
 */
export class StatusHistory1763802000000 implements MigrationInterface {
  name = 'StatusHistory1763802000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX log_seals_time ON log_seals (time_ms)`);
    await queryRunner.query(`CREATE INDEX mirror_seals_time ON mirror_seals (time_ms)`);
    await queryRunner.query(`CREATE INDEX mirror_seals_mirrored_at ON mirror_seals (mirrored_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX mirror_seals_mirrored_at`);
    await queryRunner.query(`DROP INDEX mirror_seals_time`);
    await queryRunner.query(`DROP INDEX log_seals_time`);
  }
}
