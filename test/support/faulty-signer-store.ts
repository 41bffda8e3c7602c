import type { SignerSession, SignerStore } from '../../apps/log-signer/src/signer-store';

/**
 * What happens at one commit point: the write goes through (`ok`), fails before anything is written
 * (`fail`), or commits and then its answer is lost (`lost`: the caller sees an error, the database
 * holds the write) — the two ways a real database call fails.
 */
export type Fault = 'ok' | 'fail' | 'lost';

/** The log-signer's commit points (signer-store.ts): sequencing, sealing, the profile-index backfill. */
export type CommitPoint = 'sequence' | 'appendSeal' | 'indexProfiles';
const COMMIT_POINTS = new Set<string>(['sequence', 'appendSeal', 'indexProfiles']);

/**
 * Which call takes which fault: one list for every commit point in the order of the calls, or one
 * list per commit point (then a point's n-th call takes its list's n-th fault, whatever the
 * interleaving of the points, which timing decides).
 */
export type FaultSchedule = readonly Fault[] | Readonly<Partial<Record<CommitPoint, readonly Fault[]>>>;

/**
 * A SignerStore around a real one (PostgreSQL) that injects a fault at commit points, in the order
 * of `schedule` (then `ok`): every call of `sequence`, `appendSeal` or `indexProfiles` of any session
 * takes the next fault of its list. `injected` records what was done where, for the test's report.
 */
export class FaultySignerStore implements SignerStore {
  readonly injected: string[] = [];
  /** The next position in each list (the shared list's key is ''). */
  private readonly next = new Map<string, number>();

  constructor(
    private readonly inner: SignerStore,
    private readonly schedule: FaultSchedule,
  ) {}

  async tryLead(): Promise<SignerSession | undefined> {
    const session = await this.inner.tryLead();
    if (session === undefined) return undefined;
    return new Proxy(session, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        const method = (value as (...args: unknown[]) => Promise<unknown>).bind(target);
        if (typeof property !== 'string' || !COMMIT_POINTS.has(property)) return method;
        return (...args: unknown[]) => this.at(property, () => method(...args));
      },
    });
  }

  private async at<T>(point: string, write: () => Promise<T>): Promise<T> {
    const shared = Array.isArray(this.schedule);
    const list: readonly Fault[] = shared
      ? (this.schedule as readonly Fault[])
      : ((this.schedule as Partial<Record<string, readonly Fault[]>>)[point] ?? []);
    const key = shared ? '' : point;
    const n = this.next.get(key) ?? 0;
    this.next.set(key, n + 1);
    const fault = list[n] ?? 'ok';
    if (fault !== 'ok') this.injected.push(`${point}:${fault}`);
    if (fault === 'fail') throw new Error(`injected: ${point} failed, nothing written`);
    const result = await write();
    if (fault === 'lost') throw new Error(`injected: ${point} committed, its answer lost`);
    return result;
  }
}
