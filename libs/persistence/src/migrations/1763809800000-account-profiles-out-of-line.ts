import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An account's Master and Personal Profiles are stored out of line (issue #17). Every accepted
 * change updates its account's row (version, revision), and most change neither profile; stored in
 * the row, the two profiles (about 1.9 KB together) were copied into every new version of it and
 * into the WAL. Out of line, a version that keeps them carries two pointers: the gateway's group
 * commit leaves an unchanged profile out (`CatalogChange.account`), and PostgreSQL keeps the
 * pointer. `EXTERNAL`: not compressed (signed base64 compresses little, and compressing costs CPU on
 * every change of a profile); `toast_tuple_target` 128, the least, so that a row moves them out of
 * line whatever its size.
 */
export class AccountProfilesOutOfLine1763809800000 implements MigrationInterface {
  name = 'AccountProfilesOutOfLine1763809800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE accounts ALTER COLUMN master SET STORAGE EXTERNAL`);
    await queryRunner.query(`ALTER TABLE accounts ALTER COLUMN personal SET STORAGE EXTERNAL`);
    await queryRunner.query(`ALTER TABLE accounts SET (toast_tuple_target = 128)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE accounts RESET (toast_tuple_target)`);
    await queryRunner.query(`ALTER TABLE accounts ALTER COLUMN personal SET STORAGE EXTENDED`);
    await queryRunner.query(`ALTER TABLE accounts ALTER COLUMN master SET STORAGE EXTENDED`);
  }
}
