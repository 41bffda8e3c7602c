import type { AccountState } from './account-state';
import { applyRecord } from './apply-record';
import { isMeshError, type MeshErrorCode } from './mesh-error';
import { decodeRecord, type TransactionRecord } from './transaction-record';

/**
 * What an auditor knows about the log it re-checks, beyond its entries. `origin` MUST be the origin of
 * the log (the origin line of its seals): every logged request must name it as its `Portal`.
 */
export interface RecheckContext {
  readonly origin: string;
}

export type RecheckResult =
  | { readonly ok: true; readonly state: AccountState; readonly record: TransactionRecord }
  | { readonly ok: false; readonly code: MeshErrorCode; readonly detail: string };

/**
 * The auditor's re-check of one entry (issue #6): decodes the entry bytes, and applies the record to the
 * state of its account built from the entries before it — nothing else (DESIGN.md "The log"). Never
 * rejects for a bad entry: every broken rule is a `{ ok: false, code, detail }` violation, to be recorded
 * as a finding. `state` MUST be the state after the previous entries of the same account (undefined for
 * an account not seen yet); entryAccount tells which account an entry belongs to.
 */
export async function recheckEntry(
  state: AccountState | undefined,
  entry: Uint8Array,
  context: RecheckContext,
): Promise<RecheckResult> {
  let record: TransactionRecord;
  try {
    record = decodeRecord(entry);
  } catch (error) {
    if (isMeshError(error)) return { ok: false, code: error.code, detail: error.message };
    throw error;
  }
  return recheckRecord(state, record, context);
}

/**
 * recheckEntry for a record decoded already (`decodeRecord`), for a caller that needs the record
 * itself too (the auditor routes it by account and indexes its profiles): an entry is decoded once.
 */
export async function recheckRecord(
  state: AccountState | undefined,
  record: TransactionRecord,
  context: RecheckContext,
): Promise<RecheckResult> {
  try {
    return { ok: true, state: await applyRecord(state, record, context), record };
  } catch (error) {
    if (isMeshError(error)) return { ok: false, code: error.code, detail: error.message };
    throw error;
  }
}

/** The account UDF an entry belongs to, to route it to that account's state. Throws 'record.malformed'. */
export function entryAccount(entry: Uint8Array): string {
  return decodeRecord(entry).account;
}

export type RecheckLogResult =
  | { readonly ok: true; readonly accounts: ReadonlyMap<string, AccountState> }
  | { readonly ok: false; readonly index: number; readonly code: MeshErrorCode; readonly detail: string };

/**
 * Re-checks a whole run of entries from the start of a log (or from `accounts`, the states after an
 * earlier run), stopping at the first violation with its index in `entries`.
 */
export async function recheckLog(
  entries: Iterable<Uint8Array>,
  context: RecheckContext,
  accounts: ReadonlyMap<string, AccountState> = new Map(),
): Promise<RecheckLogResult> {
  const states = new Map(accounts);
  let index = 0;
  for (const entry of entries) {
    let account: string;
    try {
      account = entryAccount(entry);
    } catch (error) {
      if (!isMeshError(error)) throw error;
      return { ok: false, index, code: error.code, detail: error.message };
    }
    const result = await recheckEntry(states.get(account), entry, context);
    if (!result.ok) return { ok: false, index, code: result.code, detail: result.detail };
    states.set(account, result.state);
    index++;
  }
  return { ok: true, accounts: states };
}
