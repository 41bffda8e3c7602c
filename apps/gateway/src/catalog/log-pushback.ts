import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { backlogPushback, readLogBacklog } from '@cryptomesh/persistence';
import { HealthRegistry, WakeableDelay } from '@cryptomesh/service';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { GatewayError } from '../protocol/gateway-error';

/**
 * Pushback (docs/design/gateway.md "Pushback", tessera's ErrPushback): while the log queue is deeper
 * than PUSHBACK_QUEUE_DEPTH or its oldest entry older than PUSHBACK_QUEUE_AGE_MS, logged
 * transactions are refused with 503 and Retry-After instead of growing a queue the log-signer cannot
 * drain, and readiness reports why (`log-queue`). The queue is sampled every PUSHBACK_SAMPLE_MS by
 * one loop that never overlaps itself; a failed sample keeps the last verdict (the database check
 * reports the database). Owned by the gateway module; `reason` is written by the loop only.
 */
@Injectable()
export class LogPushback implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('pushback');
  private readonly delay = new WakeableDelay();
  private running: Promise<void> | undefined;
  private stopping = false;
  private reason: string | undefined;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly health: HealthRegistry,
  ) {}

  onModuleInit(): void {
    if (this.config.PUSHBACK_QUEUE_DEPTH === 0 && this.config.PUSHBACK_QUEUE_AGE_MS === 0) return;
    this.health.register('log-queue', () =>
      this.reason === undefined ? Promise.resolve() : Promise.reject(new Error(this.reason)),
    );
    this.running = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.delay.wake();
    await this.running;
  }

  /** Throws GatewayError 'log.pushback' (503) while the queue is over its bounds. */
  check(): void {
    if (this.reason !== undefined)
      throw new GatewayError('log.pushback', `the portal is not accepting changes now: ${this.reason}`, {
        retryAfterSeconds: Math.max(1, Math.ceil(this.config.PUSHBACK_SAMPLE_MS / 1000)),
      });
  }

  /** One sample now (also what the loop runs). */
  async sample(): Promise<void> {
    const reason = backlogPushback(await readLogBacklog(this.dataSource.manager), this.config);
    if (reason !== this.reason)
      if (reason === undefined) this.logger.log({ msg: 'pushback ended: accepting changes again' });
      else this.logger.warn({ msg: 'pushing back: refusing changes with 503', reason });
    this.reason = reason;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.sample();
      } catch (error) {
        this.logger.debug({ msg: 'log queue sample failed', err: error });
      }
      if (!this.stopping) await this.delay.wait(this.config.PUSHBACK_SAMPLE_MS);
    }
  }
}
