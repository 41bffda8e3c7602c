/**
 * Rate-limits a repeated log line: one message per key goes through every `intervalMs`, and the
 * next one that goes through says how many were held back meanwhile. For failures that recur at
 * every tick (a peer's query service that is down answers every catch-up check the same way): the
 * operator sees the cause at warn level without a line per tick. Pure; the clock is injected.
 */
export class LogGate {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Whether a message of `key` may be logged now: undefined to hold it back, else how many messages
   * of `key` were held back since the last one that went through (0 for the first).
   */
  pass(key: string): number | undefined {
    const now = this.now();
    const seen = this.last.get(key);
    if (seen !== undefined && now - seen.at < this.intervalMs) {
      seen.held++;
      return undefined;
    }
    this.last.set(key, { at: now, held: 0 });
    return seen?.held ?? 0;
  }

  /** The failure of `key` is over: its next message goes through at once. */
  clear(key: string): void {
    this.last.delete(key);
  }
}
