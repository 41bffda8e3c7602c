import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `mirror_account_states`: per peer and account, the auditor's state of the account (the JSON of
 * `encodeAuditedAccount`, libs/mesh) after its entry `through`, written in the transaction that stores
 * the part carrying that entry (docs/design/federation.md "Stored account states"). A cache miss of the
 * auditor reads this one row instead of replaying the account's history. Mirrors older than the table
 * have no rows: an account is replayed once, and its next stored part writes its row. The foreign key
 * makes the database refuse a state that covers an entry not mirrored.
 */
export class MirrorAccountStates1763807000000 implements MigrationInterface {
  name = 'MirrorAccountStates1763807000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE mirror_account_states (
        peer       text        NOT NULL,
        account    text        NOT NULL,
        state      jsonb       NOT NULL CHECK (jsonb_typeof(state) = 'object'),
        through    bigint      NOT NULL CHECK (through >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (peer, account),
        FOREIGN KEY (peer, through) REFERENCES mirror_entries (peer, idx)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE mirror_account_states`);
  }
}
