import type { SignatureVerdicts } from '@cryptomesh/crypto/portable';
import { NonceWindow } from './nonce-window';
import type { AccountState } from './account-state';
import { applyRecord } from './apply-record';
import { isMeshError, MeshError, type MeshErrorCode } from './mesh-error';
import { DEFAULT_MAX_SKEW_MS, readRequest } from './signed-request';
import { decodeRecord, type TransactionRecord } from './transaction-record';

/**
/**
 * The longest an honest log-signer may take to seal an entry after the gateway accepted its request
 * (one hour): a log-signer down, or far behind, for up to this long still seals entries that every
 * auditor accepts. Beyond it the entries queued before the outage are reported `request.stale`
 * (docs/decisions.md "The auditor's clock window").
 */
export const DEFAULT_MAX_SEAL_DELAY_MS = 3_600_000;

/**
 * What an auditor knows about the log it re-checks and where an entry sits in it (DESIGN.md
 * invariant 6):
 * - `origin` MUST be the origin of the log (the origin line of its seals): every logged request must
 *   name it as its `Portal` (issue #14 hole 2).
 * - `sealTimeMs`: the `time` of the seal of the part that carries the entry (unix milliseconds). When
 *   given, the request's `Time` MUST lie within
 *   [sealTimeMs − maxSkewMs − maxSealDelayMs, sealTimeMs + maxSkewMs]: the gateway's clock window
 *   either way, plus, into the past only, the time the log-signer may have taken to seal the entry.
 *   When absent (re-checking a log without its seals) no freshness is checked.
 * - `maxSkewMs`: the clock window; default DEFAULT_MAX_SKEW_MS, the gateway's.
 * - `maxSealDelayMs`: the sealing delay allowed; default DEFAULT_MAX_SEAL_DELAY_MS.
 * - `signatures`: see below; the verdicts change where a signature is verified, never the result.
 */
export interface RecheckContext {
  readonly origin: string;
  readonly sealTimeMs?: number;
  readonly maxSkewMs?: number;
  readonly maxSealDelayMs?: number;
  /**
   * Signature verdicts computed elsewhere (the auditors' worker threads, issue #17), trusted only for
   * the exact bytes they were computed on (`SignatureVerdicts`); without them, or where they answer
   * undefined, every signature is verified in this thread.
   */
  readonly signatures?: SignatureVerdicts;
}

/**
 * What an auditor remembers of one account of one log, so that the next entry of that account is
 * re-checked without reading the account's history again:
 * - `state`: the rule state (`applyRecord`). A deleted account keeps its state with status
 *   `deleted`: that is its tombstone, and a later CreateAccount of it is `account.deleted`.
 * - `nonces`: nonce → request time of the account's requests that may still be replayed. A request
 *   signed at t is acceptable only under a seal dated within [t − maxSkewMs, t + maxSkewMs +
 *   maxSealDelayMs], and seals never go back in time, so once a seal is dated after t + maxSkewMs +
 *   maxSealDelayMs no entry carrying that request can pass the freshness check again: its nonce is
 *   forgotten. The map holds at most the account's requests of the last 2 × maxSkewMs +
 *   maxSealDelayMs (by the newest seal that carried one of its entries). Without a seal time
 *   (re-checking a log without its seals) nothing is forgotten.
 * Immutable (`NonceWindow` extends in O(1) without changing the version it extends). Stored per
 * account (DESIGN.md invariant 6) in two parts: the state as one small JSON value rewritten with the
 * part that changed it (`encodeAuditedAccount`), the nonces as one row each, written once with their
 * entry's part and deleted once forgotten (issue #17: rewriting the whole window with every part made
 * a busy account's stored state grow with the window, 180 KB per part for 4,000 nonces).
 */
export interface AuditedAccount {
  readonly state: AccountState;
  readonly nonces: NonceWindow;
}

export type RecheckResult =
  | {
      readonly ok: true;
      readonly account: AuditedAccount;
      readonly state: AccountState;
      readonly record: TransactionRecord;
      /** The nonce this entry's request added to the account's window, with its request time. */
      readonly nonce: readonly [string, number];
    }
  | { readonly ok: false; readonly code: MeshErrorCode; readonly detail: string };

/**
 * The auditor's re-check of one entry (issue #6, issue #14 hole 3): decodes the entry bytes and applies
 * the record to what is remembered of its account (`account`, undefined for an account not seen yet in
 * this log), exactly as the gateway did, portal and freshness included: the request MUST name
 * `context.origin` (`request.wrong-portal`); with `context.sealTimeMs`, the request's time MUST lie
 * within the auditor's clock window of the seal that carries it (`request.stale` / `request.future`); an
 * (account, nonce) pair MUST NOT appear twice (`request.replayed`); a deleted account MUST NOT come
 * back (`account.deleted`). Never rejects for a bad entry: every broken rule is a `{ ok: false, code,
 * detail }` violation, to be recorded as a finding.
 */
export async function recheckEntry(
  account: AuditedAccount | undefined,
  entry: Uint8Array,
  context: RecheckContext,
): Promise<RecheckResult> {
  let record: TransactionRecord;
  try {
    record = decodeRecord(entry, { keepStatement: true });
  } catch (error) {
    if (isMeshError(error)) return { ok: false, code: error.code, detail: error.message };
    throw error;
  }
  return recheckRecord(account, record, context);
}

/**
 * recheckEntry for a record decoded already (`decodeRecord`), for a caller that needs the record
 * itself too (the auditor routes it by account and indexes its profiles): an entry is decoded once.
 */
export async function recheckRecord(
  account: AuditedAccount | undefined,
  record: TransactionRecord,
  context: RecheckContext,
): Promise<RecheckResult> {
  try {
    return { ok: true, ...(await apply(account, record, context)), record };
  } catch (error) {
    if (isMeshError(error)) return { ok: false, code: error.code, detail: error.message };
    throw error;
  }
}

async function apply(
  account: AuditedAccount | undefined,
  record: TransactionRecord,
  context: RecheckContext,
): Promise<{ account: AuditedAccount; state: AccountState; nonce: readonly [string, number] }> {
  const previous = account?.state;
  if (previous?.status === 'deleted' && record.operation === 'CreateAccount')
    throw new MeshError('account.deleted', `account ${record.account} was deleted earlier in this log`);
  const { sealTimeMs } = context;
  const maxSkewMs = context.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const maxDelayMs = context.maxSealDelayMs ?? DEFAULT_MAX_SEAL_DELAY_MS;
  const state = await applyRecord(
    previous,
    record,
    context,
    sealTimeMs === undefined ? undefined : { now: sealTimeMs, maxSkewMs, maxDelayMs },
  );
  // The request verified: its claims, kept by readRequest for this object, give the nonce.
  const { nonce, time } = readRequest(record.authorisation);
  const remembered = account?.nonces ?? NonceWindow.empty();
  if (remembered.has(nonce))
    throw new MeshError('request.replayed', `nonce ${nonce} of account ${record.account} appears twice`);
  // A request dated before `oldest` is stale under this seal and under every later one: its nonce
  // can no longer be replayed in an entry that passes, and is forgotten.
  const oldest = sealTimeMs === undefined ? -Infinity : sealTimeMs - maxSkewMs - maxDelayMs;
  const nonces = remembered.next(oldest, nonce, time);
  return { account: { state, nonces }, state, nonce: [nonce, time] };
}

/** The account UDF an entry belongs to, to route it to that account's state. Throws 'record.malformed'. */
export function entryAccount(entry: Uint8Array): string {
  return decodeRecord(entry).account;
}

export type RecheckLogResult =
  | { readonly ok: true; readonly accounts: ReadonlyMap<string, AuditedAccount> }
  | { readonly ok: false; readonly index: number; readonly code: MeshErrorCode; readonly detail: string };

/**
 * Re-checks a whole run of entries from the start of a log (or from `accounts`, what an earlier run
 * remembered), stopping at the first violation with its index in `entries`. `context`: the log's origin
 * and, if known, the time of the seal that carries them all (without it no freshness is checked, and
 * no nonce is forgotten).
 */
export async function recheckLog(
  entries: Iterable<Uint8Array>,
  context: RecheckContext,
  accounts: ReadonlyMap<string, AuditedAccount> = new Map(),
): Promise<RecheckLogResult> {
  const states = new Map(accounts);
  let index = 0;
  for (const entry of entries) {
    let record: TransactionRecord;
    try {
      record = decodeRecord(entry, { keepStatement: true });
    } catch (error) {
      if (!isMeshError(error)) throw error;
      return { ok: false, index, code: error.code, detail: error.message };
    }
    const account = record.account;
    const result = await recheckRecord(states.get(account), record, context);
    if (!result.ok) return { ok: false, index, code: result.code, detail: result.detail };
    states.set(account, result.account);
    index++;
  }
  return { ok: true, accounts: states };
}
