import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The log-signer's own audit of what it seals (issue #15, "the log-signer decodes and validates each
 * queued record before sealing it"): the rule state of every account of the portal's own log, as an
 * auditing peer keeps it for a mirror (`mirror_account_states`), so that the log-signer re-checks
 * each queued record against its account exactly as every peer will, and refuses one a compromised
 * gateway queued that breaks a rule (docs/design/log-signer.md "What the log-signer checks").
 *
 * - `log_account_states`: per account UDF, the encoded `AuditedAccount` (`@cryptomesh/mesh`
 *   audited-account-codec) after its entry `through`. Written in the sequencing transaction.
 * - `log_account_states_state`: one row, `checked_size` = entries [0, checked_size) are reflected in
 *   the states. This migration cannot decode entries (it is SQL), so it starts at 0 and the
 *   log-signer re-checks the entries sequenced before it (a backfill) when it takes the leadership.
 *
 * Only the log-signer reads or writes them.
 */
export class LogAccountStates1763808200000 implements MigrationInterface {
  name = 'LogAccountStates1763808200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE log_account_states (
        account text   COLLATE "C" PRIMARY KEY CHECK (account <> ''),
        state   jsonb  NOT NULL,
        through bigint NOT NULL CHECK (through >= 0)
      )`);
    await queryRunner.query(`
      CREATE TABLE log_account_states_state (
        one          boolean PRIMARY KEY DEFAULT true CHECK (one),
        checked_size bigint  NOT NULL CHECK (checked_size >= 0)
      )`);
    await queryRunner.query(`INSERT INTO log_account_states_state (checked_size) VALUES (0)`);
    // The default privileges (ServiceRoles1763808000000) let the replication role read a new table:
    // it has no use for these.
    await queryRunner.query(
      `REVOKE ALL ON TABLE log_account_states, log_account_states_state FROM cryptomesh_replication`,
    );
    await queryRunner.query(
      `GRANT SELECT, INSERT, UPDATE ON TABLE log_account_states TO cryptomesh_log_signer`,
    );
    await queryRunner.query(
      `GRANT SELECT, UPDATE ON TABLE log_account_states_state TO cryptomesh_log_signer`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE log_account_states_state`);
    await queryRunner.query(`DROP TABLE log_account_states`);
  }
}
