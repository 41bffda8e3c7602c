import type { AccountState } from '@cryptomesh/mesh';

/** An account's state as validated at one version of its row. */
export interface VersionedState {
  readonly version: bigint;
  readonly state: AccountState;
}

/**
 * The states of the accounts this gateway process committed to most recently, by account UDF
 * (issue #17: reading an account's rows and parsing its profiles again for every request was a
 * third of a Publish's work). A state is only ever used to validate a change that is then written on
 * the condition that the row is still at its version (`commitCatalogChange`): a state made stale by
 * another process, a restore or a change by another path costs one retry, never a wrong acceptance.
 * Bounded; the least recently used account goes first.
 */
export class AccountStateCache {
  private readonly states = new Map<string, VersionedState>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.states.size;
  }

  get(accountUdf: string): VersionedState | undefined {
    const hit = this.states.get(accountUdf);
    if (hit !== undefined) {
      this.states.delete(accountUdf);
      this.states.set(accountUdf, hit);
    }
    return hit;
  }

  set(accountUdf: string, value: VersionedState): void {
    if (this.capacity === 0) return;
    this.states.delete(accountUdf);
    if (this.states.size >= this.capacity) this.states.delete(this.states.keys().next().value as string);
    this.states.set(accountUdf, value);
  }

  delete(accountUdf: string): void {
    this.states.delete(accountUdf);
  }
}
