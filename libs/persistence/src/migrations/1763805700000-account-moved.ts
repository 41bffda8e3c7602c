import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An account closed by a MoveAccount (issue #14, hole 6; federation.md "Which value is current"):
 * status `moved`, and `moved_to` the new home's log origin. A moved account refuses every change
 * at this portal; its address stays assigned here, like a deleted account's.
 */
export class AccountMoved1763805700000 implements MigrationInterface {
  name = 'AccountMoved1763805700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE accounts DROP CONSTRAINT accounts_status_check`);
    await queryRunner.query(
      `ALTER TABLE accounts ADD CONSTRAINT accounts_status_check CHECK (status IN ('active', 'deleted', 'moved'))`,
    );
    await queryRunner.query(`ALTER TABLE accounts ADD COLUMN moved_to text`);
    await queryRunner.query(
      `ALTER TABLE accounts ADD CONSTRAINT accounts_moved_to_check CHECK ((status = 'moved') = (moved_to IS NOT NULL))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE accounts DROP CONSTRAINT accounts_moved_to_check`);
    await queryRunner.query(`ALTER TABLE accounts DROP COLUMN moved_to`);
    await queryRunner.query(`ALTER TABLE accounts DROP CONSTRAINT accounts_status_check`);
    await queryRunner.query(
      `ALTER TABLE accounts ADD CONSTRAINT accounts_status_check CHECK (status IN ('active', 'deleted'))`,
    );
  }
}
