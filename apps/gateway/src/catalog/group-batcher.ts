/**
 * Self-clocking batching (issue #17, group commit): work submitted while the flushes in flight
 * (at most `maxInFlight`) are busy waits and goes, all together, into the next flush; so under light
 * load a submission is flushed at once (alone), and under heavy load a flush carries everything that
 * arrived during the previous ones, which is exactly when grouping pays.
 *
 * Guarantees:
 * - a flush holds at most `maxBatch` items and at most ONE item per key, in submission order; an
 *   item whose key is in a flush in flight, or behind an earlier item of its key, waits for a later
 *   flush — so the items of one key are flushed one at a time, in submission order;
 * - every submission settles exactly once: with the flush's answer for it, or with the flush's
 *   error (every item of a failed flush rejects with that error);
 * - an idle batcher waits `windowMs` (0: the end of the current turn of the event loop) before its
 *   first flush, so that submissions arriving together are flushed together.
 */
export interface BatcherOptions {
  readonly maxBatch: number;
  readonly windowMs: number;
  /** Flushes in flight at once (default 1). */
  readonly maxInFlight?: number;
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
 * item of each key not `busy` (in a flush in flight), in order, until `maxBatch` are taken. Pure;
 * the batcher's whole policy.
 */
export function nextBatch(
  keys: readonly string[],
  maxBatch: number,
  busy: ReadonlySet<string> = new Set(),
): number[] {
  const taken: number[] = [];
  const seen = new Set<string>(busy);
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
  /** The keys of the items in the flushes in flight. */
  private readonly busy = new Set<string>();
  private inFlight = 0;
  private readonly maxInFlight: number;
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
    this.maxInFlight = options.maxInFlight ?? 1;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1)
      throw new RangeError(`maxInFlight must be a positive integer, not ${this.maxInFlight}`);
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
    if (this.timer !== undefined || this.inFlight >= this.maxInFlight || this.waiting.length === 0) return;
    const run = (): void => {
      this.timer = undefined;
      this.run();
    };
    // The window only when idle: while a flush is in flight, it is the window.
    this.timer =
      this.inFlight === 0 && this.options.windowMs > 0
        ? setTimeout(run, this.options.windowMs)
        : setImmediate(run);
  }

  private run(): void {
    while (this.waiting.length > 0 && this.inFlight < this.maxInFlight) {
      const positions = nextBatch(
        this.waiting.map((p) => p.key),
        this.options.maxBatch,
        this.busy,
      );
      if (positions.length === 0) return; // every waiting key is in flight: its flush reschedules
      const taken = new Set(positions);
      const batch = positions.map((i) => this.waiting[i]!);
      this.waiting = this.waiting.filter((_, i) => !taken.has(i));
      for (const p of batch) this.busy.add(p.key);
      this.inFlight++;
      this.observe(batch.length);
      void this.settle(batch).finally(() => {
        for (const p of batch) this.busy.delete(p.key);
        this.inFlight--;
        this.schedule();
      });
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
