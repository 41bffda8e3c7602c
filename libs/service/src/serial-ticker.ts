/**
 * Runs `round` every `intervalMs`, never two at once: a tick that finds the previous round still
 * running is skipped (and counted), so a round slower than the interval (a catch-up from a slow
 * peer) neither piles up work nor counts one outage twice. A round's rejection is its own business:
 * it is passed to `onError` and the next tick runs as usual. `stop()` cancels the ticks and waits
 * for the running round.
 */
export class SerialTicker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Ticks skipped because a round was running. */
  skipped = 0;

  constructor(
    private readonly round: () => Promise<void>,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  start(intervalMs: number): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  /** One tick: starts a round unless one is running or the ticker stopped. */
  tick(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.skipped++;
      return;
    }
    this.running = this.round()
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.running = undefined;
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
