import { DataSource, Migration, MigrationExecutor } from 'typeorm';

/** Any fixed 64-bit number; all services of one portal agree on it. */
const MIGRATION_LOCK_KEY = 7_236_356_073_148_775; // 0x19b5a8e93ab867: any constant below 2^53

/**
 * Applies the pending migrations, each in its own transaction, while holding a PostgreSQL
 * advisory lock so that services starting together never race to migrate one database.
 * Resolves to the migrations this call applied (empty when the schema was already current).
 * A crash mid-way leaves every migration either applied and recorded or not at all; the next
 * call resumes with the first unrecorded one.
 */
export async function runMigrations(dataSource: DataSource): Promise<Migration[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      // Migrate on the session that holds the lock: one connection suffices, even with a pool of 1.
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      return await executor.executePendingMigrations();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/** True when every known migration is recorded as applied. */
export async function schemaIsCurrent(dataSource: DataSource): Promise<boolean> {
  return !(await dataSource.showMigrations());
}
