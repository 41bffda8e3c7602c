import { enumVar, integerVar, postgresUrlVar } from './env';

/** Variables of every service that uses the portal's database. */
export function databaseConfigShape() {
  return {
    DATABASE_URL: postgresUrlVar(),
    /** run: apply pending migrations at start; check: refuse to start if any; skip: neither. */
    DB_MIGRATIONS: enumVar(['run', 'check', 'skip'] as const, 'run'),
    DB_POOL_SIZE: integerVar({ default: 10, min: 1, max: 200 }),
  };
}
