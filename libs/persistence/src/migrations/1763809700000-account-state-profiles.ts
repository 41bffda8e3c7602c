import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The signed profiles of the stored account states get rows of their own (issue #17). A stored
 * state (`encodeAuditedAccount`) is mostly the account's signed Master and Personal Profiles and its
 * catalog objects, which rarely change, and it was rewritten whole — about 5 KB, stored out of line
 * — with every part (mirror) or batch (log-signer) that touched the account: in the federation
 * benchmark these upserts were 37 % of PostgreSQL's statement time (docs/decisions.md "Performance,
 * seventh slice").
 *
 * - `log_account_profiles` (the log-signer's, for its own log) and `mirror_account_profiles` (the
 *   replication service's, for every peer it mirrors): one row per distinct profile, keyed by the
 *   SHA-256 of its JSON text, written once (`ON CONFLICT DO NOTHING`), never updated.
 * - A state row written from now on holds `{"sha256": hex}` in place of each profile
 *   (`storedStates`); its readers put the profiles back (`resolvedStateSql`). A row written before
 *   holds its profiles inline and is read as it is, so nothing is rewritten here; `down` puts every
 *   profile back inline before it drops the tables (its SQL is its own copy, frozen with this
 *   migration), and refuses to when a reference does not resolve.
 * - The database checks the content addressing: a row's digest is the SHA-256 of its text.
 *
 * The mirrored profiles are read where the mirrored states are: by the gateway (an inbound item's
 * recipient) and the query service (`/accounts/{address}`).
 */
export class AccountStateProfiles1763809700000 implements MigrationInterface {
  name = 'AccountStateProfiles1763809700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['log_account_profiles', 'mirror_account_profiles']) {
      await queryRunner.query(`
        CREATE TABLE ${table} (
          digest bytea PRIMARY KEY CHECK (digest = sha256(convert_to(jws, 'UTF8'))),
          jws    text  NOT NULL
        )`);
    }
    // The default privileges (ServiceRoles1763808000000) let both auditing roles read a new table:
    // each has use for its own only.
    await queryRunner.query(`REVOKE ALL ON TABLE mirror_account_profiles FROM cryptomesh_log_signer`);
    await queryRunner.query(`REVOKE ALL ON TABLE log_account_profiles FROM cryptomesh_replication`);
    await queryRunner.query(`GRANT SELECT, INSERT ON TABLE log_account_profiles TO cryptomesh_log_signer`);
    await queryRunner.query(
      `GRANT SELECT, INSERT ON TABLE mirror_account_profiles TO cryptomesh_replication`,
    );
    await queryRunner.query(
      `GRANT SELECT ON TABLE mirror_account_profiles TO cryptomesh_gateway, cryptomesh_query`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [states, profiles] of [
      ['mirror_account_states', 'mirror_account_profiles'],
      ['log_account_states', 'log_account_profiles'],
    ] as const) {
      const inline = (value: string) =>
        `CASE WHEN jsonb_typeof(${value}) = 'object' AND ${value} ? 'sha256'
              THEN (SELECT p.jws::jsonb FROM ${profiles} p WHERE p.digest = decode(${value} ->> 'sha256', 'hex'))
              ELSE ${value} END`;
      // Every reference MUST resolve before the profiles are dropped: a lost one is refused here,
      // not written back as a null (an inactive object) for ever.
      const counted = (await queryRunner.query(
        `SELECT count(*)::int AS n FROM ${states} s,
                LATERAL (SELECT s.state -> 'master' AS v UNION ALL SELECT s.state -> 'personal'
                         UNION ALL SELECT o -> 1 FROM jsonb_array_elements(s.state -> 'objects') o) r
          WHERE jsonb_typeof(r.v) = 'object' AND r.v ? 'sha256'
            AND NOT EXISTS (SELECT 1 FROM ${profiles} p WHERE p.digest = decode(r.v ->> 'sha256', 'hex'))`,
      )) as Array<{ n: number }>;
      const lost = counted[0]?.n ?? 0;
      if (lost > 0) throw new Error(`${states}: ${lost} profile references do not resolve`);
      await queryRunner.query(
        `UPDATE ${states} s SET state = s.state || jsonb_build_object(
            'master', ${inline(`(s.state -> 'master')`)},
            'personal', ${inline(`(s.state -> 'personal')`)},
            'objects', coalesce((SELECT jsonb_agg(jsonb_build_array(o.item -> 0, ${inline('(o.item -> 1)')}) ORDER BY o.n)
                                   FROM jsonb_array_elements(s.state -> 'objects') WITH ORDINALITY AS o(item, n)), '[]'::jsonb))
          WHERE s.state::text LIKE '%"sha256"%'`,
      );
      await queryRunner.query(`DROP TABLE ${profiles}`);
    }
  }
}
