/**
 * Per-key token buckets (seed 002 §7.6 abuse limits): each key may spend `capacity` requests at
 * once and regains `ratePerMinute` per minute. Memory is bounded: at most `maxKeys` buckets, the
 * least recently used dropped first (a dropped key starts full again, which only ever favours
 * the client). The clock is injected. Not shared between gateway instances: the limit is per
 * instance (docs/decisions.md).
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerMinute: number,
    private readonly capacity: number,
    private readonly now: () => number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes one token for `key`. Returns 0 when allowed, else the seconds until a token is back. */
  take(key: string): number {
    if (this.ratePerMinute <= 0) return 0; // 0 disables the limit
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    this.buckets.delete(key); // re-inserted below: Map order is our LRU order
    const refill = ((now - bucket.at) / 60_000) * this.ratePerMinute;
    bucket.tokens = Math.min(this.capacity, bucket.tokens + refill);
    bucket.at = now;
    let wait = 0;
    if (bucket.tokens >= 1) bucket.tokens -= 1;
    else wait = Math.max(1, Math.ceil(((1 - bucket.tokens) * 60) / this.ratePerMinute));
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return wait;
  }
}
