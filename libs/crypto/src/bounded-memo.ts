/**
 * The answers of a pure function kept by key, at most `limit` of them, the oldest kept out first
 * (issue #17: a portal and its auditors compute the same fingerprints of the same few accounts and
 * applications again and again). Only answers are kept: a key whose computation throws is computed,
 * and throws, again next time. The key MUST determine the answer completely.
 */
export class BoundedMemo<K, V> {
  private readonly kept = new Map<K, V>();

  /**
   * `limit`: the most answers kept. `maxKeyLength`: a string key longer than this is answered
   * without being kept, so that what the memo holds is bounded in bytes too, whoever chose the keys
   * (a request's profile can carry names of many kilobytes).
   */
  constructor(
    private readonly limit: number,
    private readonly maxKeyLength = 1024,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('a memo keeps at least one answer');
  }

  /** The answer kept for `key`, or `compute(key)`'s, kept. */
  get(key: K, compute: (key: K) => V): V {
    if (this.kept.has(key)) return this.kept.get(key) as V;
    const value = compute(key);
    this.keep(key, value);
    return value;
  }

  /** The answer kept for `key`, if any, without computing one. */
  peek(key: K): V | undefined {
    return this.kept.get(key);
  }

  /** Keeps `value` as the answer for `key` (not a string key longer than the bound). */
  keep(key: K, value: V): void {
    if (typeof key === 'string' && key.length > this.maxKeyLength) return;
    if (!this.kept.has(key) && this.kept.size >= this.limit)
      this.kept.delete(this.kept.keys().next().value as K);
    this.kept.set(key, value);
  }

  /** How many answers are kept. */
  get size(): number {
    return this.kept.size;
  }
}
