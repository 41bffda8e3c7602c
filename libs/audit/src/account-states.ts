import {
  decodeAuditedAccount,
  encodeAuditedAccount,
  recheckEntry,
  type AuditedAccount,
  type RecheckContext,
} from '@cryptomesh/mesh';
import type { AuditReads } from './audit-step';
import type { AccountStateRecord } from './mirror-store';

/**
 * The rule state of each account of one peer's log, as the auditor needs it to re-check the next
 * entry of that account (`recheckEntry` of `@cryptomesh/mesh`). The mirror stores each account's
 * state with the part that last changed it (`accountStates` of the part, one transaction), so a miss
 * of the cache (least recently used out first) reads one row, never the account's history: an
 * account's cost does not grow with its age (issue #14, "Shape of the audit code"). Only an account
 * that no stored part changed since the states were first stored (a mirror older than the table) is
 * replayed from its mirrored entries — once: its next stored part stores its state.
 *
 * A part under verification works on an overlay that is merged only once the part is stored, so a
 * part that fails leaves the cache as it was. While a verified part is being stored, the next one
 * may be verified on top of it: `advance` pins the stored-to-be states (never evicted, never read
 * from the store, which may not hold them yet) until `confirm` merges them or `drop` forgets them.
 * Not for concurrent use: one auditor owns it.
 */
export class AccountStates {
  private readonly cache = new Map<string, AuditedAccount>();
  /**
   * Owned by the part under verification: each account's state after its last entry so far, and the
   * nonces its entries added.
   */
  private overlay = new Map<
    string,
    { state: AuditedAccount; through: number; added: Array<readonly [string, number]> }
  >();
  /** The states of a verified part being stored (`advance`): between the overlay and the cache. */
  private pending = new Map<string, AuditedAccount>();

  /**
   * @param reads the peer's mirror: stored states, and the history for an account without one
   * @param context the peer's log (its origin), as every entry of it is re-checked; with no seal time
   * @param capacity the most account states kept between parts
   */
  constructor(
    private readonly reads: Pick<AuditReads, 'accountState' | 'accountEntries'>,
    private readonly context: RecheckContext,
    private readonly capacity = 10_000,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`the account state capacity must be a positive integer, got ${capacity}`);
  }

  /** The state before the next entry of `account`, undefined for an account not seen yet. */
  async get(account: string): Promise<AuditedAccount | undefined> {
    const pending = this.overlay.get(account);
    if (pending !== undefined) return pending.state;
    const storing = this.pending.get(account);
    if (storing !== undefined) return storing;
    const cached = this.cache.get(account);
    if (cached !== undefined) {
      this.cache.delete(account);
      this.cache.set(account, cached);
      return cached;
    }
    const stored = await this.reads.accountState(account);
    const state =
      stored === undefined ? await this.replay(account) : decodeAuditedAccount(stored.state, stored.nonces);
    if (state !== undefined) this.remember(account, state);
    return state;
  }

  /**
   * The state after entry `index` (a log index) of the part under verification, of its account;
   * `nonce` is the one that entry added (`recheckRecord`'s result).
   */
  stage(account: string, state: AuditedAccount, index: number, nonce: readonly [string, number]): void {
    const added = this.overlay.get(account)?.added ?? [];
    added.push(nonce);
    this.overlay.set(account, { state, through: index, added });
  }

  /** The states the part under verification changed, in their stored form (for `MirrorPartRecord`). */
  staged(): AccountStateRecord[] {
    return [...this.overlay].map(([account, { state, through, added }]) => {
      // A nonce added and pruned within the part is not stored at all.
      const forgetBefore = state.nonces.oldestTime();
      return {
        account,
        state: encodeAuditedAccount(state),
        through,
        nonces: added.filter(([nonce]) => state.nonces.has(nonce)),
        ...(forgetBefore === undefined ? {} : { forgetBefore }),
      };
    });
  }

  /** The part under verification was stored: its states become the cached ones. */
  commit(): void {
    this.advance();
    this.confirm();
  }

  /**
   * The part under verification is being stored: its states are what the next part builds on, pinned
   * until `confirm` or `drop`. Throws while another part is being stored.
   */
  advance(): void {
    if (this.pending.size > 0) throw new Error('a part is being stored already');
    for (const [account, { state }] of this.overlay) this.pending.set(account, state);
    this.overlay = new Map();
  }

  /** The part being stored was stored: its states become the cached ones. */
  confirm(): void {
    for (const [account, state] of this.pending) this.remember(account, state);
    this.pending = new Map();
  }

  /** The part being stored was not: forget its states (and the part under verification's). */
  drop(): void {
    this.pending = new Map();
    this.overlay = new Map();
  }

  /** The part under verification was rejected (or not stored): forget its states. */
  discard(): void {
    this.overlay = new Map();
  }

  /** Forgets everything (the mirror was changed by someone else). */
  clear(): void {
    this.cache.clear();
    this.pending = new Map();
    this.overlay = new Map();
  }

  /** An account with no stored state: its mirrored entries re-checked from the first (usually none). */
  private async replay(account: string): Promise<AuditedAccount | undefined> {
    let state: AuditedAccount | undefined;
    // `context` has no seal time: nothing is checked for freshness and no nonce is forgotten here;
    // the nonces are pruned at the account's next entry (the window of that entry's seal).
    for (const entry of await this.reads.accountEntries(account)) {
      const result = await recheckEntry(state, entry, this.context);
      // Mirrored entries verified when they were stored: one that no longer does is a corrupt store.
      if (!result.ok)
        throw new Error(`mirrored entry of account ${account} fails re-check: ${result.detail}`);
      state = result.account;
    }
    return state;
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
