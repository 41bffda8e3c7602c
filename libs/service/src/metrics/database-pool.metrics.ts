import { Counter, Gauge } from 'prom-client';
import type { MetricsService } from './metrics.service';

/**
 * What these metrics read of a connection pool: the shape of node-postgres's `Pool` (which
 * TypeORM's postgres driver keeps as `driver.master`), declared here so that this library needs
 * no database driver.
 */
export interface DatabasePool {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  readonly options: { readonly max?: number };
  on(event: 'acquire', listener: () => void): unknown;
}

/**
 * Registers the connection-pool metrics of the service's database (docs/design/observability.md):
 * the gauges are read from the pool at each scrape, so they cost nothing between scrapes; the
 * acquisition counter moves with every query. `pool` MAY resolve to undefined (the data source is
 * not initialised yet): the gauges then read 0. Call it once per service and pool.
 */
export function registerDatabasePoolMetrics(
  metrics: MetricsService,
  pool: () => DatabasePool | undefined,
): void {
  const registers = [metrics.registry];
  const gauge = (name: string, help: string, read: (p: DatabasePool) => number | undefined) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const current = pool();
        this.set(current === undefined ? 0 : (read(current) ?? 0));
      },
    });
  gauge('db_pool_connections', 'Connections the pool holds open (idle and in use)', (p) => p.totalCount);
  gauge('db_pool_idle_connections', 'Open connections not in use', (p) => p.idleCount);
  gauge(
    'db_pool_waiting_clients',
    'Queries waiting for a connection because all are in use (above 0 for long: the pool is too small)',
    (p) => p.waitingCount,
  );
  gauge(
    'db_pool_max_connections',
    'The most connections the pool opens (DB_POOL_SIZE)',
    (p) => p.options.max,
  );
  const acquired = new Counter({
    name: 'db_pool_acquisitions_total',
    help: 'Connections handed out by the pool (one per query or transaction)',
    registers,
  });
  pool()?.on('acquire', () => acquired.inc());
}
