import { AccountStates, withBatchedSignatures, type VerifyBatch } from '@cryptomesh/audit';
import {
  DEFAULT_MAX_SEAL_DELAY_MS,
  DEFAULT_MAX_SKEW_MS,
  decodeRecord,
  isMeshError,
  recheckRecord,
  recordProfiles,
  type RecheckContext,
  type RecordProfiles,
  type TransactionRecord,
} from '@cryptomesh/mesh';
import type { SignatureVerdicts } from '@cryptomesh/crypto';
import { isKeyTransitionEntry } from '@cryptomesh/log';
import type { AccountStateRow, AccountStateStore } from './signer-store';

export interface RecordRulesOptions {
  /** The log's origin: every request MUST name it as its portal. */
  readonly origin: string;
  /** The gateway's clock window (default the auditors', DEFAULT_MAX_SKEW_MS). */
  readonly maxSkewMs?: number;
  /** How long after the gateway accepted a request it may still be sealed (default the auditors'). */
  readonly maxSealDelayMs?: number;
  /** The most account states kept in memory between batches (the rest are one row away). */
  readonly capacity?: number;
  /**
   * Where the records' signatures are verified (SIGNATURE_WORKERS, `withBatchedSignatures`): while
   * the re-check runs in queue order here; without it, in this thread. The verdicts are the same.
   */
  readonly verifyBatch?: VerifyBatch;
}

/**
 * What `check` found: the queued entries refused (position → reason), the states to store, and what
 * each accepted entry does to the profile index (position → `recordProfiles` of the record the
 * re-check decoded, so that sequencing does not decode it again).
 */
export interface RecordVerdicts {
  readonly refused: ReadonlyMap<number, string>;
  readonly states: readonly AccountStateRow[];
  readonly profiles: ReadonlyMap<number, RecordProfiles>;
}

/**
 * The log-signer's own audit of what it is about to seal (issue #15): every queued entry is decoded
 * as a Mesh transaction record and re-checked against the state of its account with exactly the
 * rules every auditing peer applies (`recheckRecord` of `@cryptomesh/mesh`: signatures, rights,
 * persistence model, life cycle, the portal named, freshness under the auditors' window, nonces never
 * seen twice). A compromised gateway — the only other role that may queue — can therefore no longer
 * get a record sealed that the federation would report: it is refused, kept with its reason in
 * `log_queue_refused`, and the log stays clean (docs/design/log-signer.md "What the log-signer
 * checks").
 *
 * The states are those of `AccountStates` (`@cryptomesh/audit`), stored by account in
 * `log_account_states` with the entries that changed them. One instance per leadership (another
 * leader may have moved the states meanwhile); not for concurrent use.
 */
export class RecordRules {
  private readonly states: AccountStates;

  constructor(
    store: Pick<AccountStateStore, 'accountState'>,
    private readonly options: RecordRulesOptions,
  ) {
    // Every entry before the checked size is reflected in the stored states (the backfill runs
    // before anything is sequenced): an account with no row has no entry yet, nothing to replay.
    this.states = new AccountStates(
      { accountState: (account) => store.accountState(account), accountEntries: () => Promise.resolve([]) },
      { origin: options.origin },
      options.capacity,
    );
  }

  /**
   * Re-checks queued `entries`, in queue order, as if sequenced from log index `first` at `nowMs`
   * (the seal that will carry them follows within the seal interval): each refused one gets no index
   * and is not reflected in any state. Nothing is remembered until `commit`. MUST be called with
   * nothing staged (after `commit` or `discard`): a forged signature makes it start again from there.
   */
  async check(entries: readonly Uint8Array[], first: number, nowMs: number): Promise<RecordVerdicts> {
    const context: RecheckContext = {
      origin: this.options.origin,
      sealTimeMs: nowMs,
      maxSkewMs: this.options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS,
      maxSealDelayMs: this.options.maxSealDelayMs ?? DEFAULT_MAX_SEAL_DELAY_MS,
    };
    type Verdicts = Pick<RecordVerdicts, 'refused' | 'profiles'>;
    const run = async (signatures?: SignatureVerdicts): Promise<Verdicts> => {
      const checking = signatures === undefined ? context : { ...context, signatures };
      const refused = new Map<number, string>();
      const profiles = new Map<number, RecordProfiles>();
      let index = first;
      for (const [position, entry] of entries.entries()) {
        const checked = await this.recheck(entry, index, checking);
        if (typeof checked === 'string') refused.set(position, checked);
        else {
          profiles.set(position, recordProfiles(checked));
          index++;
        }
      }
      return { refused, profiles };
    };
    const verifyBatch = this.options.verifyBatch;
    const verdicts =
      verifyBatch === undefined
        ? await run()
        : await withBatchedSignatures(verifyBatch, run, () => this.states.discard());
    return { ...verdicts, states: this.states.staged() };
  }

  /**
   * Re-checks entries already sequenced at [first, first + entries.length) — the backfill of a log
   * older than the stored states — with no freshness window (their seals were signed long ago). An
   * entry that breaks a rule is sealed already: it leaves its account's state as it was (as an
   * auditor's finding leaves it) and is returned, for the operator, with its index.
   */
  async replay(
    entries: readonly Uint8Array[],
    first: number,
  ): Promise<{
    readonly violations: ReadonlyArray<{ index: number; reason: string }>;
    states: AccountStateRow[];
  }> {
    const violations: Array<{ index: number; reason: string }> = [];
    for (const [i, entry] of entries.entries()) {
      // A key transition is the log-signer's own record, not an account's (log-format.md).
      if (isKeyTransitionEntry(entry)) continue;
      const checked = await this.recheck(entry, first + i, { origin: this.options.origin });
      if (typeof checked === 'string') violations.push({ index: first + i, reason: checked });
    }
    return { violations, states: this.states.staged() };
  }

  /** What `check` or `replay` staged was stored: it becomes the remembered state. */
  commit(): void {
    this.states.commit();
  }

  /** What `check` or `replay` staged was not stored: forget it. */
  discard(): void {
    this.states.discard();
  }

  /** The reason `entry` is refused, or its record, re-checked and staged at `index`. */
  private async recheck(
    entry: Uint8Array,
    index: number,
    context: RecheckContext,
  ): Promise<string | TransactionRecord> {
    let record: TransactionRecord;
    try {
      record = decodeRecord(entry, { keepStatement: true });
    } catch (error) {
      if (isMeshError(error)) return `${error.code}: ${error.message}`;
      throw error;
    }
    const result = await recheckRecord(await this.states.get(record.account), record, context);
    if (!result.ok) return `${result.code}: ${result.detail}`;
    this.states.stage(record.account, result.account, index, result.nonce);
    return record;
  }
}

const SHOWN_VIOLATIONS = 20;

/**
 * Re-checks the entries [checked size, `size`) sequenced before the account states existed (or while
 * the log-signer did not re-check), `batchSize` per transaction, oldest first. The caller MUST hold the
 * leadership and call it before sequencing more. Resolves to the entries re-checked, how many sealed
 * entries break a rule, and the first few of them (reported by the caller; they are in the log
 * already, and every auditing peer reported them when they were sealed).
 */
export async function backfillAccountStates(
  store: AccountStateStore & { entries(begin: number, end: number): Promise<Uint8Array[]> },
  rules: RecordRules,
  size: number,
  batchSize: number,
): Promise<{ rechecked: number; violations: number; first: Array<{ index: number; reason: string }> }> {
  const start = await store.checkedSize();
  const shown: Array<{ index: number; reason: string }> = [];
  let violations = 0;
  for (let first = start; first < size; first += batchSize) {
    const end = Math.min(size, first + batchSize);
    const replayed = await rules.replay(await store.entries(first, end), first);
    try {
      await store.checkAccounts(first, end, replayed.states);
    } catch (error) {
      rules.discard();
      throw error;
    }
    rules.commit();
    violations += replayed.violations.length;
    shown.push(...replayed.violations.slice(0, SHOWN_VIOLATIONS - shown.length));
  }
  return { rechecked: Math.max(0, size - start), violations, first: shown };
}
