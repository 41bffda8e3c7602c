import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The auditors' nonces leave the stored account states (issue #17). An account state
 * (`encodeAuditedAccount`, version 1) carried every nonce of the account's clock window — 65
 * minutes by default — and was rewritten whole with every part that changed the account: a busy
 * account's row grew to 180 KB and was written again every part, which made the mirror's catch-up
 * and the log-signer's sequencing write far more than the entries themselves, and the replication
 * service's memory follow.
 *
 * - `mirror_nonces` (the replication service's audit of each peer) and `log_nonces` (the
 *   log-signer's audit of the own log): one row per remembered nonce with its request time,
 *   written once in the transaction that stores its entry's part or batch, deleted in the
 *   transaction in which the account's window forgets it (`forgetBefore` of the stored state).
 * - Every stored state moves its nonces into the new table and becomes version 2 (no `nonces`).
 *
 * Only the service that audits reads or writes them.
 */
export class AccountNonces1763809320000 implements MigrationInterface {
  name = 'AccountNonces1763809320000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE mirror_nonces (
        peer    text   NOT NULL,
        account text   NOT NULL,
        nonce   text   NOT NULL,
        time    bigint NOT NULL,
        PRIMARY KEY (peer, account, nonce)
      )`);
    await queryRunner.query(`CREATE INDEX mirror_nonces_by_time ON mirror_nonces (peer, account, time)`);
    await queryRunner.query(`
      CREATE TABLE log_nonces (
        account text   COLLATE "C" NOT NULL,
        nonce   text   NOT NULL,
        time    bigint NOT NULL,
        PRIMARY KEY (account, nonce)
      )`);
    await queryRunner.query(`CREATE INDEX log_nonces_by_time ON log_nonces (account, time)`);
    await queryRunner.query(`
      INSERT INTO mirror_nonces (peer, account, nonce, time)
      SELECT s.peer, s.account, n->>0, (n->>1)::bigint
        FROM mirror_account_states s, jsonb_array_elements(s.state->'nonces') n
      ON CONFLICT DO NOTHING`);
    await queryRunner.query(`
      INSERT INTO log_nonces (account, nonce, time)
      SELECT s.account, n->>0, (n->>1)::bigint
        FROM log_account_states s, jsonb_array_elements(s.state->'nonces') n
      ON CONFLICT DO NOTHING`);
    for (const table of ['mirror_account_states', 'log_account_states']) {
      await queryRunner.query(
        `UPDATE ${table} SET state = (state - 'nonces') || '{"v": 2}'::jsonb WHERE state->'v' = '1'::jsonb`,
      );
    }
    // The default privileges (ServiceRoles1763808000000) let both auditing roles read a new table:
    // each has use for its own only.
    await queryRunner.query(`REVOKE ALL ON TABLE mirror_nonces FROM cryptomesh_log_signer`);
    await queryRunner.query(`REVOKE ALL ON TABLE log_nonces FROM cryptomesh_replication`);
    await queryRunner.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE mirror_nonces TO cryptomesh_replication`,
    );
    await queryRunner.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE log_nonces TO cryptomesh_log_signer`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [table, nonces, key] of [
      ['mirror_account_states', 'mirror_nonces', 'n.peer = s.peer AND n.account = s.account'],
      ['log_account_states', 'log_nonces', 'n.account = s.account'],
    ] as const) {
      await queryRunner.query(`
        UPDATE ${table} s SET state = s.state || jsonb_build_object('v', 1, 'nonces', coalesce(
          (SELECT jsonb_agg(jsonb_build_array(n.nonce, n.time)) FROM ${nonces} n WHERE ${key}),
          '[]'::jsonb))`);
      await queryRunner.query(`DROP TABLE ${nonces}`);
    }
  }
}
