import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `log_queue.request_id`: the id of the gateway request that queued the entry (its `X-Request-Id`),
 * so that the log-signer can log it next to the index it gives the entry and an operator can follow
 * one request from the gateway's log to the log (docs/design/observability.md "Request ids"). It is
 * operational metadata only: never part of the entry's bytes, and gone with the queue row. Nullable,
 * so rows queued before this migration, and entries queued outside a request, need none. The bound
 * matches the gateway's (`REQUEST_ID_MAX_LENGTH`).
 */
export class QueueRequestId1763798400000 implements MigrationInterface {
  name = 'QueueRequestId1763798400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE log_queue
        ADD COLUMN request_id text NULL
          CONSTRAINT log_queue_request_id_length CHECK (char_length(request_id) BETWEEN 1 AND 128)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE log_queue DROP COLUMN request_id`);
  }
}
