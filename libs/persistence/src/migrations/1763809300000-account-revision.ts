import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue #17, the gateway's fast path: `accounts.revision`, a random value replaced by every change of
 * the account's state. A gateway process validates a change against the state it kept and writes it
 * only if the row is still at that revision. `version` alone cannot serve: after a failover to a
 * standby that missed the last commits, or a point-in-time recovery, the same version number can
 * come back with other content; a fresh random revision never does.
 */
export class AccountRevision1763809300000 implements MigrationInterface {
  name = 'AccountRevision1763809300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE accounts ADD COLUMN revision uuid NOT NULL DEFAULT gen_random_uuid()`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE accounts DROP COLUMN revision`);
  }
}
