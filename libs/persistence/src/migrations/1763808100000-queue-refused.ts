import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `log_queue_refused` (issue #15): the queued rows the log-signer refused to sequence because they do
 * not decode as a log entry (not the canonical JSON of an object, `@cryptomesh/log` entry.ts), moved
 * here in the sequencing transaction that would have taken them, with the reason — evidence for the
 * operator (only the gateway may queue, and its `enqueueEntry` refuses such bytes: a row here means a
 * gateway bypassed it), and never sealed. The log-signer writes it; no other service reads it.
 */
export class QueueRefused1763808100000 implements MigrationInterface {
  name = 'QueueRefused1763808100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE log_queue_refused (
        seq        bigint      PRIMARY KEY,
        entry      bytea       NOT NULL,
        request_id text,
        queued_at  timestamptz NOT NULL,
        refused_at timestamptz NOT NULL DEFAULT now(),
        reason     text        NOT NULL CHECK (reason <> '')
      )`);
    // The default privileges (ServiceRoles1763808000000) let the replication role read a new table:
    // it has no use for this one.
    await queryRunner.query(`REVOKE ALL ON TABLE log_queue_refused FROM cryptomesh_replication`);
    await queryRunner.query(`GRANT SELECT, INSERT ON TABLE log_queue_refused TO cryptomesh_log_signer`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE log_queue_refused`);
  }
}
