import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue #19 item 2, escrow that survives its portal (docs/design/replication.md "Escrow blobs"):
 *
 * - `escrow_outbox`: one row per escrow blob this portal received and has not published on its log
 *   topic yet, written in EscrowPut's transaction (the gateway), deleted in the transaction that
 *   published it (the replication service). It names the blob's key only, as `escrow_blobs` does.
 * - `mirror_escrow_blobs`: the escrow blobs the other members published, verified (their origin's
 *   witness signature, the JWE's form and size): the key, the blob, its SHA-256 and the origin.
 *   One row per key: the first verified copy; another copy with other bytes is an
 *   `escrow-conflict` finding and is not stored. The origin's signature is kept as evidence
 *   for such a finding. EscrowGet reads it when `escrow_blobs` has no row.
 * - the findings' kinds gain `escrow-conflict`.
 */
export class EscrowMirror1763809350000 implements MigrationInterface {
  name = 'EscrowMirror1763809350000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE escrow_outbox (
        seq        bigserial   PRIMARY KEY,
        key_udf    text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE mirror_escrow_blobs (
        key_udf     text        PRIMARY KEY,
        peer        text        NOT NULL CHECK (peer <> ''),
        blob        bytea       NOT NULL CHECK (octet_length(blob) > 0),
        digest      bytea       NOT NULL CHECK (octet_length(digest) = 32),
        signature   bytea       NOT NULL CHECK (octet_length(signature) = 64),
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX mirror_escrow_blobs_peer ON mirror_escrow_blobs (peer)`);
    await queryRunner.query(`ALTER TABLE findings DROP CONSTRAINT findings_kind_check`);
    await queryRunner.query(`
      ALTER TABLE findings ADD CONSTRAINT findings_kind_check
        CHECK (kind IN ('equivocation', 'bad-part', 'gap', 'stale', 'rule', 'escrow-conflict'))`);

    await queryRunner.query(
      `REVOKE ALL ON TABLE escrow_outbox, mirror_escrow_blobs FROM cryptomesh_log_signer`,
    );
    await queryRunner.query(`GRANT INSERT ON TABLE escrow_outbox TO cryptomesh_gateway`);
    await queryRunner.query(`GRANT USAGE ON SEQUENCE escrow_outbox_seq_seq TO cryptomesh_gateway`);
    await queryRunner.query(`GRANT SELECT, DELETE ON TABLE escrow_outbox TO cryptomesh_replication`);
    await queryRunner.query(`GRANT SELECT ON TABLE mirror_escrow_blobs TO cryptomesh_gateway`);
    await queryRunner.query(`GRANT SELECT, INSERT ON TABLE mirror_escrow_blobs TO cryptomesh_replication`);
    // The publisher reads the blob it publishes.
    await queryRunner.query(`GRANT SELECT ON TABLE escrow_blobs TO cryptomesh_replication`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`REVOKE SELECT ON TABLE escrow_blobs FROM cryptomesh_replication`);
    await queryRunner.query(`DELETE FROM findings WHERE kind = 'escrow-conflict'`);
    await queryRunner.query(`ALTER TABLE findings DROP CONSTRAINT findings_kind_check`);
    await queryRunner.query(`
      ALTER TABLE findings ADD CONSTRAINT findings_kind_check
        CHECK (kind IN ('equivocation', 'bad-part', 'gap', 'stale', 'rule'))`);
    await queryRunner.query(`DROP TABLE mirror_escrow_blobs`);
    await queryRunner.query(`DROP TABLE escrow_outbox`);
  }
}
