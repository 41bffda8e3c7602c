import { Counter } from 'prom-client';
import type { MetricsService } from '@cryptomesh/service';

/**
 * `query_log_heads_refreshes_total{outcome}`: reads of the log heads (query.md "Log heads") —
 * `advanced` (a seal, a cosignature or the roster changed), `unchanged`, `failed`.
 */
export function logHeadsMetrics(metrics: MetricsService): Counter<'outcome'> {
  return new Counter({
    name: 'query_log_heads_refreshes_total',
    help: 'Reads of the in-memory checkpoints, cosignatures and roster, by outcome: advanced, unchanged, failed',
    labelNames: ['outcome'],
    registers: [metrics.registry],
  });
}
