import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `accounts.escrow_blobs`: how many escrow blobs the account has stored, for the per-account quota
 * (docs/design/gateway.md "Quotas"). A count only: `escrow_blobs` still records no owner, so the
 * count says how many blobs an account stored, never which.
 */
export class EscrowQuota1763806500000 implements MigrationInterface {
  name = 'EscrowQuota1763806500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE accounts
        ADD COLUMN escrow_blobs integer NOT NULL DEFAULT 0 CONSTRAINT accounts_escrow_blobs_non_negative CHECK (escrow_blobs >= 0)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE accounts DROP COLUMN escrow_blobs`);
  }
}
