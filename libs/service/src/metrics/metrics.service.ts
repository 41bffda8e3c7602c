import { Inject, Injectable } from '@nestjs/common';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { isServiceWorker } from '../cluster/service-cluster';
import { SERVICE_IDENTITY, ServiceIdentity } from '../service-identity';

/**
 * The Prometheus registry of one service. One registry per Nest application (not prom-client's
 * global one) so that several services hosted in one process — the all-in-one mode and the
 * tests — keep their metrics apart.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;

  constructor(@Inject(SERVICE_IDENTITY) identity: ServiceIdentity) {
    this.registry.setDefaultLabels({ service: identity.name });
    collectDefaultMetrics({ register: this.registry });
    new Counter({
      name: 'cryptomesh_build_info',
      help: 'Constant 1, labelled with the running version',
      labelNames: ['version'],
      registers: [this.registry],
      aggregator: 'first',
    }).inc({ version: identity.version });
    if (isServiceWorker()) {
      // One of several processes of the service: the primary collects this registry to sum them.
      new AggregatorRegistry();
      AggregatorRegistry.setRegistries([this.registry]);
    }
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route template and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request received to response sent',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Counter<L>;
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}
