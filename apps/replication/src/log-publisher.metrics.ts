import { Counter, Gauge } from 'prom-client';
import { MetricsService } from '@cryptomesh/service';

/** Prometheus metrics of the log publisher. Counters count every production, replays included. */
export class LogPublisherMetrics {
  readonly parts: Counter;
  readonly messages: Counter;
  readonly bytes: Counter;
  readonly lag: Gauge;
  readonly lastPart: Gauge;

  constructor(metrics: MetricsService) {
    this.parts = metrics.counter(
      'intermesh_log_parts_published_total',
      "Sealed parts produced to this portal's log topic",
    );
    this.messages = metrics.counter(
      'intermesh_log_messages_published_total',
      "Messages produced to this portal's log topic",
    );
    this.bytes = metrics.counter(
      'intermesh_log_bytes_published_total',
      "Message value bytes produced to this portal's log topic",
    );
    this.lag = new Gauge({
      name: 'intermesh_log_publication_lag_parts',
      help: 'Sealed parts not yet published',
      registers: [metrics.registry],
    });
    this.lastPart = new Gauge({
      name: 'intermesh_log_last_published_part',
      help: 'Index of the last part published (-1 before the first)',
      registers: [metrics.registry],
    });
    this.lastPart.set(-1);
  }
}
