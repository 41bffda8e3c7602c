import { Controller, Get, Header, Logger } from '@nestjs/common';
import { clusterMetrics, isServiceWorker } from '../cluster/service-cluster';
import { MetricsService } from './metrics.service';

/**
 * `GET /metrics`: the Prometheus text exposition format. In one of several worker processes
 * (WORKERS > 1) the answer is every worker's metrics summed, whichever worker the scrape reached;
 * if the primary does not answer, this worker's own, with a warning in the log.
 */
@Controller('metrics')
export class MetricsController {
  private readonly logger = new Logger('metrics');

  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    if (isServiceWorker())
      try {
        return await clusterMetrics();
      } catch (error) {
        this.logger.warn({
          msg: 'the metrics of the other workers are missing from this scrape',
          err: error,
        });
      }
    return this.metrics.registry.metrics();
  }
}
