import type { DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

export interface DatabaseOptions {
  readonly url: string;
  /** Connections in the pool of this process. */
  readonly poolSize?: number;
  readonly applicationName?: string;
}

/**
 * TypeORM options for the portal's PostgreSQL database. The schema is owned by migrations only:
 * `synchronize` is off and stays off (DESIGN.md "Services").
 */
export function dataSourceOptions(options: DatabaseOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url: options.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: {
      max: options.poolSize ?? 10,
      application_name: options.applicationName ?? 'cryptomesh-portal',
      connectionTimeoutMillis: 5_000,
    },
  };
}
