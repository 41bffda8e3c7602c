/**
 * The pause of a background loop (log-signer, log publisher) that a shutdown can cut short: `wait`
 * resolves after `ms`, or at once when `wake` is called. One waiter at a time — the loop that owns it.
 */
export class WakeableDelay {
  private wakeUp: (() => void) | undefined;

  wait(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /** Ends the current wait, if any. */
  wake(): void {
    this.wakeUp?.();
  }
}
