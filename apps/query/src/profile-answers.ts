/** Answers kept, at most, for one snapshot of the log heads. */
export const PROFILE_ANSWERS_KEPT = 4096;

/**
 * The profile answers computed from one snapshot of the log heads, by the name asked (issue #17).
 * An answer is a function of the heads and of what lies under them — profile index rows, entries
 * and proof nodes up to each log's sealed size, which never change — so for as long as the
 * snapshot is the same object (LogHeads keeps it while a refresh finds nothing moved: no seal, no
 * cosignature, no roster change) the same name gets the same answer. A new snapshot starts afresh;
 * an answer computed from an older one is not kept. Refusals are never kept (they are cheap, and a
 * refusal must not outlive its cause). Least recently used out first.
 */
export class ProfileAnswers<A> {
  private snapshot: object | undefined;
  private readonly kept = new Map<string, A>();

  constructor(
    /** The snapshot the heads hold now: only an answer computed from it is kept. */
    private readonly current: () => object | undefined,
    private readonly limit = PROFILE_ANSWERS_KEPT,
  ) {}

  get(snapshot: object, name: string): A | undefined {
    if (snapshot !== this.snapshot) return undefined;
    const answer = this.kept.get(name);
    if (answer !== undefined) {
      this.kept.delete(name);
      this.kept.set(name, answer);
    }
    return answer;
  }

  set(snapshot: object, name: string, answer: A): void {
    if (snapshot !== this.current()) return; // computed from a snapshot replaced meanwhile
    if (snapshot !== this.snapshot) {
      this.snapshot = snapshot;
      this.kept.clear();
    }
    if (this.kept.size >= this.limit) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(name, answer);
  }
}
