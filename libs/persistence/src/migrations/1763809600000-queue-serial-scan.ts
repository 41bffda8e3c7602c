import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The log queue is never scanned in parallel (issue #17). The gateway counts the queue for its
 * pushback every PUSHBACK_SAMPLE_MS (`readLogBacklog`). Under load the queue's heap holds the dead
 * rows of every entry sequenced since the last autovacuum (at most one a minute and database), and
 * in the ingest benchmark the planner sent that count to parallel workers: three quarters of its
 * samples waited on their start and stop (IPC ExecuteGather, BgWorkerShutdown), 9–21 ms a count on
 * average and up to 193 ms, for a table whose live rows are a second of entries. With
 * `parallel_workers = 0` no scan of this table is parallel: 2.8–3.6 ms.
 */
export class QueueSerialScan1763809600000 implements MigrationInterface {
  name = 'QueueSerialScan1763809600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE log_queue SET (parallel_workers = 0)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE log_queue RESET (parallel_workers)`);
  }
}
