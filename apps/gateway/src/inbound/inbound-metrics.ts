import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { MetricsService } from '@cryptomesh/service';

/** The inbound services' metrics (docs/design/gateway.md "Catalogs and inbound services"). */
@Injectable()
export class InboundMetrics {
  /**
   * Every InboundPost that got as far as a verified envelope, by kind and outcome: `delivered`,
   * `relayed`, `duplicate`, or the refusal's code (its `Reason` when it has one).
   */
  readonly items: Counter<'kind' | 'outcome'>;

  constructor(metrics: MetricsService) {
    this.items = metrics.counter(
      'gateway_inbound_items_total',
      'Inbound items posted by this portal’s accounts, by kind and outcome: delivered (to an account here), ' +
        'relayed (queued for the recipient’s portal), duplicate (a repeated post), or the refusal (its Reason)',
      ['kind', 'outcome'],
    );
  }
}
