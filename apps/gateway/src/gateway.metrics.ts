import { Histogram, type Counter } from 'prom-client';
import type { MetricsService } from '@cryptomesh/service';

/** The gateway's Prometheus metrics (docs/design/observability.md "Gateway"). */
export class GatewayMetrics {
  /** Every answered request, by transaction (`unknown` when the body named none) and outcome (`ok` or the refusal code). */
  readonly transactions: Counter<'transaction' | 'outcome'>;
  /** Request received → answer ready, for accepted transactions: for a logged one that includes the commit (acknowledged ⇒ durable). */
  readonly acceptanceSeconds: Histogram<'transaction'>;

  constructor(metrics: MetricsService) {
    this.transactions = metrics.counter(
      'mesh_transactions_total',
      'Mesh transactions answered, by name and outcome (ok, or the refusal code; internal = a portal fault)',
      ['transaction', 'outcome'],
    );
    this.acceptanceSeconds = new Histogram({
      name: 'mesh_acceptance_latency_seconds',
      help: 'Time from a request received to its acceptance acknowledged (committed), by transaction',
      labelNames: ['transaction'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [metrics.registry],
    });
  }
}
