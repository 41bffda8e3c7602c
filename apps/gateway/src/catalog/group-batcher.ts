/**
 * Self-clocking batching (issue #17, group commit): work submitted while a flush is in flight waits
 * and goes, all together, into the next flush; so under light load a submission is flushed at once
 * (alone), and under heavy load a flush carries everything that arrived during the previous one,
 * which is exactly when grouping pays. At most one flush is in flight per batcher.
 *
 * Guarantees:
 * - a flush holds at most `maxBatch` items and at most ONE item per key (the one submitted first;
 *   a later one of the same key waits for a later flush), in submission order;
 * - every submission settles exactly once: with the flush's answer for it, or with the flush's
 *   error (every item of a failed flush rejects with that error);
 * - an idle batcher waits `windowMs` (0: the end of the current turn of the event loop) before its
 *   first flush, so that submissions arriving together are flushed together.
 */
export interface BatcherOptions {
  readonly maxBatch: number;
  readonly windowMs: number;
}

/** Writes a batch; MUST resolve with one answer per item, in the order given, or reject. */
export type Flush<T, R> = (items: readonly T[]) => Promise<readonly R[]>;

interface Pending<T, R> {
  readonly item: T;
  readonly key: string;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The positions, in `keys` (the waiting items in submission order), of the next batch: the first
 * item of each key, in order, until `maxBatch` are taken. Pure; the batcher's whole policy.
 */
export function nextBatch(keys: readonly string[], maxBatch: number): number[] {
  const taken: number[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < keys.length && taken.length < maxBatch; i++) {
    const key = keys[i]!;
    if (seen.has(key)) continue;
    seen.add(key);
    taken.push(i);
  }
  return taken;
}

export class GroupBatcher<T, R> {
  /** Submissions not yet in a flush, in submission order. Owned by this batcher. */
  private waiting: Pending<T, R>[] = [];
  private flushing = false;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(
    private readonly flush: Flush<T, R>,
    private readonly keyOf: (item: T) => string,
    private readonly options: BatcherOptions,
    /** Told the size of each batch as it is flushed (metrics). */
    private readonly observe: (size: number) => void = () => undefined,
  ) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1)
      throw new RangeError(`maxBatch must be a positive integer, not ${options.maxBatch}`);
    if (!(options.windowMs >= 0)) throw new RangeError(`windowMs must be ≥ 0, not ${options.windowMs}`);
  }

  /** The submissions waiting for a flush (for tests and metrics). */
  get backlog(): number {
    return this.waiting.length;
  }

  /** Settles with this item's answer once the flush that carries it has settled. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, key: this.keyOf(item), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing || this.timer !== undefined) return;
    const run = (): void => {
      this.timer = undefined;
      void this.run();
    };
    this.timer = this.options.windowMs > 0 ? setTimeout(run, this.options.windowMs) : setImmediate(run);
  }

  private async run(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length > 0) {
        const positions = nextBatch(
          this.waiting.map((p) => p.key),
          this.options.maxBatch,
        );
        const taken = new Set(positions);
        const batch = positions.map((i) => this.waiting[i]!);
        this.waiting = this.waiting.filter((_, i) => !taken.has(i));
        this.observe(batch.length);
        await this.settle(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async settle(batch: readonly Pending<T, R>[]): Promise<void> {
    try {
      const answers = await this.flush(batch.map((p) => p.item));
      if (answers.length !== batch.length)
        throw new Error(`a flush of ${batch.length} items answered ${answers.length}`);
      batch.forEach((p, i) => p.resolve(answers[i]!));
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
