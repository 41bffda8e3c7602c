import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { SignatureCheck } from '@cryptomesh/crypto';
import type { MetricsService } from '../metrics/metrics.service';
import { SignaturePool } from './signature-pool';

/**
 * A service's signature workers (SIGNATURE_WORKERS, issue #17), as a Nest provider: the pool, its
 * metrics and its log lines, and its stop at shutdown — after every `beforeApplicationShutdown`
 * (the mirror and the log-signer finish their work there), so nothing in flight is cut short.
 *
 * `verifyBatch` is undefined with 0 workers: the callers then verify in their own thread.
 */
export class SignatureWorkers implements OnApplicationShutdown {
  private readonly logger = new Logger('signature-workers');
  private readonly pool: SignaturePool | undefined;
  readonly verifyBatch: ((checks: readonly SignatureCheck[]) => Promise<readonly boolean[]>) | undefined;

  constructor(size: number, metrics: MetricsService) {
    if (size === 0) return;
    const checks = metrics.counter(
      'signature_pool_checks_total',
      'Signatures verified by the worker threads (SIGNATURE_WORKERS)',
    );
    const batches = metrics.counter(
      'signature_pool_batches_total',
      'Batches of signatures the workers answered',
    );
    const failures = metrics.counter(
      'signature_pool_worker_failures_total',
      'Signature workers that crashed, exited or timed out (their batches failed and were retried)',
    );
    this.pool = new SignaturePool({
      size,
      onBatch: (count) => {
        checks.inc(count);
        batches.inc();
      },
      onWorkerFailure: ({ worker, reason }) => {
        failures.inc();
        this.logger.error({
          msg: 'signature worker failed; replaced, its batches fail and are retried',
          worker,
          reason,
        });
      },
    });
    this.verifyBatch = this.pool.verify;
    this.logger.log({ msg: 'signature workers started', workers: size });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.close();
  }
}
