import { DataSource } from 'typeorm';
import { ConfigError, EXIT_CONFIG, databaseConfigShape, loadConfig } from '@cryptomesh/service';
import { dataSourceOptions } from './data-source-options';
import { runMigrations } from './migrate';

/**
 * `node <service>/main.js migrate`: applies the pending migrations to DATABASE_URL and exits —
 * for deployments that migrate in a separate step and start the services with DB_MIGRATIONS=check.
 * Prints one JSON line per applied migration and a summary; exit 0 when the schema is current,
 * 78 for a configuration error, 1 when a migration failed (it was rolled back).
 */
export async function runMigrationCommand(
  service: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const log = (fields: Record<string, unknown>): void => {
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), service, ...fields })}\n`);
  };
  let url: string;
  try {
    url = loadConfig({ DATABASE_URL: databaseConfigShape().DATABASE_URL }, env).DATABASE_URL;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${service} migrate: configuration error: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    throw error;
  }
  const dataSource = new DataSource(
    dataSourceOptions({ url, poolSize: 1, applicationName: `cryptomesh-${service}-migrate` }),
  );
  try {
    await dataSource.initialize();
    const applied = await runMigrations(dataSource);
    for (const migration of applied)
      log({ level: 'info', msg: 'migration applied', migration: migration.name });
    log({
      level: 'info',
      msg: applied.length > 0 ? 'schema migrated' : 'schema already current',
      applied: applied.length,
    });
    return 0;
  } catch (error) {
    log({
      level: 'error',
      msg: 'migration failed',
      err: error instanceof Error ? error.message : String(error),
    });
    return 1;
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
  }
}
