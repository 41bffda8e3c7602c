import { WakeableDelay } from './wakeable-delay';

export interface RetryLoopOptions {
  /** The pause after a round that found nothing to do. */
  readonly pollMs: number;
  /** The first back-off after a failed round; it doubles up to `retryMaxMs`. Default 250. */
  readonly retryMinMs?: number;
  readonly retryMaxMs: number;
  /** One round; resolves true when more work is waiting (the next round starts at once). */
  readonly step: () => Promise<boolean>;
  /** After a failed round, before its back-off: e.g. log it and drop a half-failed producer. */
  readonly onFailure?: (error: unknown, retryMs: number) => Promise<void> | void;
}

/**
 * A background loop of rounds with exponential back-off after failures, which a shutdown ends
 * between rounds (the log publisher, the witness publisher). `lastError` is the message of the last
 * round if it failed, undefined once a round succeeds: what a health check reports. Owned by one
 * service; `start` once, `stop` resolves after the round in progress.
 */
export class RetryLoop {
  private readonly delay = new WakeableDelay();
  private stopping = false;
  private running: Promise<void> | undefined;
  lastError: string | undefined;

  constructor(private readonly options: RetryLoopOptions) {}

  start(): void {
    this.running ??= this.run();
  }

  /** A health check (`HealthRegistry.register`): fails with the last round's error, if it failed. */
  readonly healthCheck = (): Promise<void> =>
    this.lastError === undefined ? Promise.resolve() : Promise.reject(new Error(this.lastError));

  async stop(): Promise<void> {
    this.stopping = true;
    this.delay.wake();
    await this.running;
  }

  private async run(): Promise<void> {
    const min = this.options.retryMinMs ?? 250;
    let retryMs = min;
    while (!this.stopping) {
      let pause: number;
      try {
        const more = await this.options.step();
        this.lastError = undefined;
        retryMs = min;
        pause = more ? 0 : this.options.pollMs;
      } catch (error) {
        this.lastError = error instanceof Error ? error.message : String(error);
        await this.options.onFailure?.(error, retryMs);
        pause = retryMs;
        retryMs = Math.min(this.options.retryMaxMs, retryMs * 2);
      }
      if (!this.stopping) await this.delay.wait(pause);
    }
  }
}
