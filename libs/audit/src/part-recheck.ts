import { isKeyTransitionEntry } from '@cryptomesh/log';
import {
  decodeRecord,
  isMeshError,
  recheckRecord,
  recordProfiles,
  type MeshErrorCode,
  type RecheckContext,
  type RecordProfiles,
  type TransactionRecord,
} from '@cryptomesh/mesh';
import type { AccountStates } from './account-states';

/** The re-check of a part's entries: the first violation and where, or each entry's profile changes. */
export type PartRecheck =
  | { readonly ok: true; readonly profiles: Array<RecordProfiles | undefined> }
  | {
      readonly ok: false;
      readonly offset: number;
      readonly violation: { code: MeshErrorCode; detail: string };
    };

/**
 * Re-checks a part's entries in order, from log index `first`, against the rules (PeerAudit's step
 * 2), staging their accounts' states in `accounts`.
 */
export async function recheckPart(
  accounts: AccountStates,
  entries: readonly Uint8Array[],
  first: number,
  context: RecheckContext,
): Promise<PartRecheck> {
  const profiles: Array<RecordProfiles | undefined> = [];
  for (const [offset, entry] of entries.entries()) {
    const violation = await recheck(accounts, entry, first + offset, context, profiles);
    if (violation !== undefined) return { ok: false, offset, violation };
  }
  return { ok: true, profiles };
}

/** Re-checks one sealed entry; on success stages its account and collects its profile changes. */
async function recheck(
  accounts: AccountStates,
  entry: Uint8Array,
  index: number,
  context: RecheckContext,
  profiles: Array<RecordProfiles | undefined>,
): Promise<{ code: MeshErrorCode; detail: string } | undefined> {
  // A key transition is the log's own record, verified with the seal by the log verifier.
  if (isKeyTransitionEntry(entry)) {
    profiles.push(undefined);
    return undefined;
  }
  let record: TransactionRecord;
  try {
    record = decodeRecord(entry, { keepStatement: true });
  } catch (error) {
    if (isMeshError(error)) return { code: error.code, detail: error.message };
    throw error;
  }
  const result = await recheckRecord(await accounts.get(record.account), record, context);
  if (!result.ok) return { code: result.code, detail: result.detail };
  accounts.stage(record.account, result.account, index, result.nonce);
  profiles.push(recordProfiles(record));
  return undefined;
}
