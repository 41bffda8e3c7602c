import { decodeRecord, profilesSetBy, recordEndsAccount, type TransactionRecord } from '@cryptomesh/mesh';
import type { EntryProfiles, ProfileIndexStore } from './signer-store';

/**
 * What entry bytes do to the profile index: the record's account, the profiles it sets or deletes
 * (`profilesSetBy`), and whether it ends its account. Undefined for bytes that are not a record —
 * the queue holds whatever canonical JSON the gateway (or a test) queued, and the log-signer MUST
 * sequence it all the same, so decoding never makes it fail: such an entry simply sets no profile.
 */
export function entryProfiles(entry: Uint8Array): EntryProfiles | undefined {
  let record;
  try {
    record = decodeRecord(entry);
  } catch {
    return undefined;
  }
  return recordProfiles(record);
}

/** What a decoded record does to the profile index (see entryProfiles). */
export function recordProfiles(record: TransactionRecord): EntryProfiles {
  return {
    account: record.account,
    changes: profilesSetBy(record).map(({ id, state }) => ({ id, state })),
    endsAccount: recordEndsAccount(record),
  };
}

/**
 * Indexes the entries [indexed size, `size`) that were sequenced before the profile index existed (or
 * whose index was cleared), `batchSize` entries per transaction, oldest first. The caller MUST hold the
 * leadership (nothing else sequences meanwhile) and call it before sequencing more. Resolves to the
 * number of entries indexed. A crash between batches leaves a prefix indexed; the next leader resumes.
 */
export async function backfillProfileIndex(
  store: ProfileIndexStore,
  size: number,
  batchSize: number,
): Promise<number> {
  const start = await store.profileIndexSize();
  for (let first = start; first < size; first += batchSize) {
    const entries = await store.entries(first, Math.min(size, first + batchSize));
    await store.indexProfiles({ first, profiles: entries.map(entryProfiles) });
  }
  return Math.max(0, size - start);
}
