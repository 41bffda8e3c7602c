import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which entry set which profile, for `GET /profiles/{udf}` (docs/design/query.md):
 *
 * - `log_profile_index`: one row per (profile, entry) — the entry at `idx` of account `account` (its
 *   UDF) set the profile (`set`: the entry carries its signed value) or ended it (`deleted`). Written
 *   by the log-signer in the transaction that sequences the entries (so it never names an entry that
 *   is not stored), from the decoded records (`profilesSetBy` of `@cryptomesh/mesh`). The account
 *   column is needed because a DeleteAccount record names no profile (its account's profiles are
 *   ended by it) and because one device may be connected to two accounts (mesh-model.md
 *   "Persistence model"). `profile_id` is a UDF in canonical presentation, collated "C" so that a
 *   shorter UDF (the prefix rule) is a btree range on the primary key.
 * - `log_profile_index_state`: one row, `indexed_size` = entries [0, indexed_size) are indexed. This
 *   migration cannot decode entries (it is SQL), so it starts at 0 and the log-signer indexes the
 *   entries sequenced before it (a backfill) when it takes the leadership, before sequencing more.
 */
export class ProfileIndex1763787600000 implements MigrationInterface {
  name = 'ProfileIndex1763787600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE log_profile_index (
        profile_id text COLLATE "C" NOT NULL CHECK (profile_id <> ''),
        idx        bigint NOT NULL REFERENCES log_entries (idx),
        account    text   NOT NULL,
        state      text   NOT NULL CHECK (state IN ('set', 'deleted')),
        PRIMARY KEY (profile_id, idx)
      )`);
    // DeleteAccount ends the account's profiles: they are found by account.
    await queryRunner.query(`CREATE INDEX log_profile_index_account ON log_profile_index (account, idx)`);
    await queryRunner.query(`
      CREATE TABLE log_profile_index_state (
        one          boolean PRIMARY KEY DEFAULT true CHECK (one),
        indexed_size bigint  NOT NULL CHECK (indexed_size >= 0)
      )`);
    await queryRunner.query(`INSERT INTO log_profile_index_state (indexed_size) VALUES (0)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE log_profile_index_state`);
    await queryRunner.query(`DROP TABLE log_profile_index`);
  }
}
