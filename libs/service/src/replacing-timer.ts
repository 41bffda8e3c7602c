/**
 * One pending call at a time: `set` cancels the call an earlier `set` scheduled and schedules its
 * own. For a back-off that may start again before the last one ended (the mirror's pause of a
 * topic): the earlier timer must not end the later, longer wait. Timers are unref'd.
 */
export class ReplacingTimer {
  private timer: NodeJS.Timeout | undefined;

  set(ms: number, call: () => void): void {
    this.clear();
    const timer = setTimeout(() => {
      if (this.timer === timer) this.timer = undefined;
      call();
    }, ms);
    timer.unref();
    this.timer = timer;
  }

  /** Cancels the pending call, if any. */
  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Whether a call is pending. */
  get pending(): boolean {
    return this.timer !== undefined;
  }
}
