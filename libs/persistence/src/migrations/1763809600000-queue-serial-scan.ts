import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The log queue is never scanned in parallel (issue #17). The gateway counts the queue for its
 * pushback every PUSHBACK_SAMPLE_MS (`readLogBacklog`). Under load the queue's heap holds the dead
 * rows of every entry sequenced since the last autovacuum — at most one per minute and database,
 * so tens of MB of ~1.5 KB rows at a few hundred entries per second — and past
 * `min_parallel_table_scan_size` the planner sent that count to background workers: starting and
 * stopping them (wait events IPC ExecuteGather and BgWorkerShutdown) was three quarters of its time,
 * 9–21 ms a count on average and up to 193 ms, for a table whose live rows are a second of entries.
 * `parallel_workers = 0` keeps every plan of this table in the one backend.
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
