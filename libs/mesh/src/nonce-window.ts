/**
 * The nonces an audited account remembers (recheck.ts "AuditedAccount"), as an immutable value that
 * costs O(1) to extend (issue #17: the auditor copied the whole map for every entry, which made a
 * catch-up quadratic in the entries an account has within the clock window — 22 % of the replication
 * service's time, and its memory — and the log-signer's re-check with it).
 *
 * Versions form chains: `next` hands the one live Map to the new version and leaves the old one a
 * note of how to get back (the nonce added, the entries pruned). Reading an old version — an auditor
 * that discards a failed part goes back to the states before it — rebuilds its own Map from its
 * successor's once, and it becomes a chain of its own. Every version holds exactly the entries an
 * immutable copy would (nonce-window.spec.ts checks that against copies); the order in which they
 * are iterated is not part of the value.
 */
export class NonceWindow implements Iterable<[string, number]> {
  /** The live entries, while this is the newest version of its chain. */
  private live: Map<string, number> | undefined;
  /** `live`'s entries by time, smallest first: pruning pops only what it prunes. */
  private byTime: TimeHeap | undefined;
  /** For an older version: its successor, and what that successor changed. */
  private back:
    | {
        readonly successor: NonceWindow;
        readonly added: string;
        readonly pruned: ReadonlyArray<[string, number]>;
      }
    | undefined;

  private constructor(live: Map<string, number>, byTime?: TimeHeap) {
    this.live = live;
    this.byTime = byTime ?? TimeHeap.of(live);
  }

  static empty(): NonceWindow {
    return new NonceWindow(new Map());
  }

  /** A window holding `entries` (nonce → time), in their order. */
  static of(entries: Iterable<readonly [string, number]>): NonceWindow {
    return new NonceWindow(new Map(entries));
  }

  get size(): number {
    return this.map().size;
  }

  has(nonce: string): boolean {
    return this.map().has(nonce);
  }

  /** The smallest request time in the window; undefined when it is empty. */
  oldestTime(): number | undefined {
    this.map();
    return this.byTime!.size === 0 ? undefined : this.byTime!.minTime();
  }

  values(): IterableIterator<number> {
    return this.map().values();
  }

  [Symbol.iterator](): IterableIterator<[string, number]> {
    return this.map().entries();
  }

  /**
   * The next version: the entries whose time is at least `oldest`, then `nonce` → `time`. `nonce`
   * MUST NOT be in this window (the caller refuses a replay first).
   */
  next(oldest: number, nonce: string, time: number): NonceWindow {
    const live = this.map();
    const byTime = this.byTime!;
    this.live = undefined;
    this.byTime = undefined;
    const pruned: Array<[string, number]> = [];
    while (byTime.size > 0 && byTime.minTime() < oldest) {
      const [at, seen] = byTime.pop();
      pruned.push([seen, at]);
      live.delete(seen);
    }
    live.set(nonce, time);
    byTime.push(time, nonce);
    const successor = new NonceWindow(live, byTime);
    this.back = { successor, added: nonce, pruned };
    return successor;
  }

  /**
   * This version's entries: the live Map, or one rebuilt from the newest version of the chain by
   * undoing, newest first, what each later version changed (then kept: this version starts a chain
   * of its own). Iterative: a chain may be as long as a part.
   */
  private map(): Map<string, number> {
    if (this.live !== undefined) return this.live;
    const path: NonceWindow[] = [this];
    let version = this.back!.successor;
    while (version.live === undefined) {
      path.push(version);
      version = version.back!.successor;
    }
    const rebuilt = new Map(version.live);
    for (let i = path.length - 1; i >= 0; i -= 1) {
      const { added, pruned } = path[i]!.back!;
      rebuilt.delete(added);
      for (const [seen, at] of pruned) rebuilt.set(seen, at);
    }
    this.live = rebuilt;
    this.byTime = TimeHeap.of(rebuilt);
    this.back = undefined;
    return rebuilt;
  }
}

/** A binary min-heap of (time, nonce). */
class TimeHeap {
  private readonly times: number[] = [];
  private readonly nonces: string[] = [];

  static of(entries: ReadonlyMap<string, number>): TimeHeap {
    const heap = new TimeHeap();
    for (const [nonce, time] of entries) heap.push(time, nonce);
    return heap;
  }

  get size(): number {
    return this.times.length;
  }

  minTime(): number {
    return this.times[0]!;
  }

  push(time: number, nonce: string): void {
    let i = this.times.length;
    this.times.push(time);
    this.nonces.push(nonce);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.times[parent]! <= time) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, string] {
    const top: [number, string] = [this.times[0]!, this.nonces[0]!];
    const lastTime = this.times.pop()!;
    const lastNonce = this.nonces.pop()!;
    if (this.times.length > 0) {
      this.times[0] = lastTime;
      this.nonces[0] = lastNonce;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < this.times.length && this.times[left]! < this.times[least]!) least = left;
        if (right < this.times.length && this.times[right]! < this.times[least]!) least = right;
        if (least === i) break;
        this.swap(i, least);
        i = least;
      }
    }
    return top;
  }

  private swap(a: number, b: number): void {
    [this.times[a], this.times[b]] = [this.times[b]!, this.times[a]!];
    [this.nonces[a], this.nonces[b]] = [this.nonces[b]!, this.nonces[a]!];
  }
}
