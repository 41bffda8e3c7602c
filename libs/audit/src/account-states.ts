import { recheckEntry, type AuditedAccount, type RecheckContext } from '@cryptomesh/mesh';

/**
 * The rule state of each account of one peer's log, as the auditor needs it to re-check the next
 * entry of that account (`recheckEntry` of `@cryptomesh/mesh`). States of committed parts are cached
 * (least recently used out first); a miss rebuilds the state from the account's mirrored entries.
 * A part under verification works on an overlay that is merged only once the part is stored, so a
 * part that fails leaves the cache as it was. Not for concurrent use: one auditor owns it.
 */
export class AccountStates {
  private readonly cache = new Map<string, AuditedAccount>();
  private overlay = new Map<string, AuditedAccount>();

  /**
   * @param load every mirrored entry of an account, in log order (the committed parts only)
   * @param context the peer's log (its origin), as every entry of it is re-checked; with no seal time
   * @param capacity the most account states kept between parts
   */
  constructor(
    private readonly load: (account: string) => Promise<readonly Uint8Array[]>,
    private readonly context: RecheckContext,
    private readonly capacity = 10_000,
  ) {}

  /** The state before the next entry of `account`, undefined for an account not seen yet. */
  async get(account: string): Promise<AuditedAccount | undefined> {
    const pending = this.overlay.get(account);
    if (pending !== undefined) return pending;
    const cached = this.cache.get(account);
    if (cached !== undefined) {
      this.cache.delete(account);
      this.cache.set(account, cached);
      return cached;
    }
    let state: AuditedAccount | undefined;
    // `context` has no seal time: nothing is checked for freshness and no nonce is forgotten here;
    // the nonces are pruned at the account's next entry (the window of that entry's seal).
    for (const entry of await this.load(account)) {
      const result = await recheckEntry(state, entry, this.context);
      // Mirrored entries verified when they were stored: one that no longer does is a corrupt store.
      if (!result.ok)
        throw new Error(`mirrored entry of account ${account} fails re-check: ${result.detail}`);
      state = result.account;
    }
    if (state !== undefined) this.remember(account, state);
    return state;
  }

  /** The state after an entry of the part under verification. */
  stage(account: string, state: AuditedAccount): void {
    this.overlay.set(account, state);
  }

  /** The part under verification was stored: its states become the cached ones. */
  commit(): void {
    for (const [account, state] of this.overlay) this.remember(account, state);
    this.overlay = new Map();
  }

  /** The part under verification was rejected (or not stored): forget its states. */
  discard(): void {
    this.overlay = new Map();
  }

  /** Forgets everything (the mirror was changed by someone else). */
  clear(): void {
    this.cache.clear();
    this.overlay = new Map();
  }

  private remember(account: string, state: AuditedAccount): void {
    this.cache.delete(account);
    this.cache.set(account, state);
    while (this.cache.size > this.capacity) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
  }
}
