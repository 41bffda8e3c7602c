import type { AccountState } from '@cryptomesh/mesh';
import { accountUsage } from './account-usage';

/** An account's state as validated at one revision of its row (`CatalogAccount.revision`). */
export interface RevisionedState {
  readonly revision: string;
  readonly state: AccountState;
}

/** What a kept state is counted as: its signed profiles about three times over (text, parsed), and a floor. */
function weightOf(state: AccountState): number {
  return 4_096 + 3 * accountUsage(state).bytes;
}

/**
 * The states of the accounts this gateway process committed to most recently, by account UDF
 * (issue #17: reading an account's rows and parsing its profiles again for every request was a
 * third of a Publish's work). A state is only ever used to validate a change that is then written on
 * the condition that the row is still at its revision (`commitCatalogChanges`): a state made stale by
 * another process, a restore or a failover costs one retry, never a wrong acceptance.
 *
 * Bounded in bytes (an account may hold QUOTA_BYTES_PER_ACCOUNT of profiles): the least recently
 * used states go first, and a state heavier than an eighth of the budget is not kept at all.
 */
export class AccountStateCache {
  private readonly states = new Map<string, RevisionedState & { readonly weight: number }>();
  private bytes = 0;

  constructor(private readonly budgetBytes: number) {}

  get size(): number {
    return this.states.size;
  }

  /** The bytes the kept states are counted as. */
  get weight(): number {
    return this.bytes;
  }

  get(accountUdf: string): RevisionedState | undefined {
    const hit = this.states.get(accountUdf);
    if (hit !== undefined) {
      this.states.delete(accountUdf);
      this.states.set(accountUdf, hit);
    }
    return hit;
  }

  set(accountUdf: string, value: RevisionedState): void {
    this.delete(accountUdf);
    const weight = weightOf(value.state);
    if (weight > this.budgetBytes / 8) return;
    while (this.bytes + weight > this.budgetBytes && this.states.size > 0)
      this.delete(this.states.keys().next().value as string);
    this.states.set(accountUdf, { ...value, weight });
    this.bytes += weight;
  }

  delete(accountUdf: string): void {
    const old = this.states.get(accountUdf);
    if (old === undefined) return;
    this.states.delete(accountUdf);
    this.bytes -= old.weight;
  }
}
