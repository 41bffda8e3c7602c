import type { SignerSession, SignerStore } from '../../apps/log-signer/src/signer-store';

/**
 * What happens at one commit point: the write goes through (`ok`), fails before anything is written
 * (`fail`), or commits and then its answer is lost (`lost`: the caller sees an error, the database
 * holds the write) — the two ways a real database call fails.
 */
export type Fault = 'ok' | 'fail' | 'lost';

/** The log-signer's commit points (signer-store.ts): sequencing, sealing, the profile-index backfill. */
const COMMIT_POINTS = new Set(['sequence', 'appendSeal', 'indexProfiles']);

/**
 * A SignerStore around a real one (PostgreSQL) that injects a fault at commit points, in the order
 * of `schedule` (then `ok`): every call of `sequence`, `appendSeal` or `indexProfiles` of any session
 * takes the next fault. `injected` records what was done where, for the test's report.
 */
export class FaultySignerStore implements SignerStore {
  readonly injected: string[] = [];
  private next = 0;

  constructor(
    private readonly inner: SignerStore,
    private readonly schedule: readonly Fault[],
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
    const fault = this.schedule[this.next++] ?? 'ok';
    if (fault !== 'ok') this.injected.push(`${point}:${fault}`);
    if (fault === 'fail') throw new Error(`injected: ${point} failed, nothing written`);
    const result = await write();
    if (fault === 'lost') throw new Error(`injected: ${point} committed, its answer lost`);
    return result;
  }
}
