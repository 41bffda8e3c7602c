import type { SignedProfile } from './profile-types';
import { decodeRecord, type RecordContent } from './transaction-record';

/**
 * What one record does to one profile of its account's catalog (mesh-model.md "Records"): `set` —
 * the record carries the profile's new signed value; `deleted` — the record ends it (persistence
 * model `delete`, 000 §3.2.1).
 */
export type ProfileChange =
  | { readonly id: string; readonly state: 'set'; readonly value: SignedProfile }
  | { readonly id: string; readonly state: 'deleted' };

/**
 * The profiles a record sets or deletes, by profile identifier, as the record itself states them:
 *  - CreateAccount sets the Master, the Personal and every Device Profile it carries;
 *  - Publish create/update sets its value; Publish delete deletes `Id`;
 *  - ConnectComplete sets the updated Personal Profile and the new device's profile;
 *  - DeleteAccount and MoveAccount name no profile: it ends every object of its account's catalog, which only the
 *    account's history knows — the caller MUST delete those itself (the profile index does, keyed by
 *    the account UDF).
 * Guarantees: at most one change per identifier (the last value a record gives an identifier wins;
 * applyRecord refuses such a record anyway). Checks no signature and no rule: the record is taken as
 * logged. Never throws.
 */
export function profilesSetBy(record: RecordContent): ProfileChange[] {
  const set = (value: SignedProfile): ProfileChange => ({ id: value.profile.id, state: 'set', value });
  const changes = ((): ProfileChange[] => {
    switch (record.operation) {
      case 'CreateAccount':
        return [record.master, record.personal, ...record.devices].map(set);
      case 'DeleteAccount':
      case 'MoveAccount':
        return [];
      case 'Publish':
        return record.value === undefined ? [{ id: record.id, state: 'deleted' }] : [set(record.value)];
      case 'ConnectComplete':
        return [set(record.personal), set(record.device)];
    }
  })();
  const byId = new Map<string, ProfileChange>();
  for (const change of changes) {
    byId.delete(change.id);
    byId.set(change.id, change);
  }
  return [...byId.values()];
}

/** The signed value `record` gives profile `id` (exact identifier), if it sets that profile. */
export function profileSetBy(record: RecordContent, id: string): SignedProfile | undefined {
  const change = profilesSetBy(record).find((c) => c.id === id);
  return change?.state === 'set' ? change.value : undefined;
}

/**
 * True when `record` ends its account's catalog in this log: DeleteAccount, and MoveAccount (the
 * account is closed here and lives at its new home). The profile index MUST then mark deleted every
 * profile the account still had set (query.md "The profile index").
 */
export function recordEndsAccount(record: RecordContent): boolean {
  return record.operation === 'DeleteAccount' || record.operation === 'MoveAccount';
}

/**
 * What one entry does to a profile index (the log-signer's own and each mirror's): the record's
 * account, the profiles it sets or deletes (`profilesSetBy`, values left out), and whether it ends
 * its account.
 */
export interface RecordProfiles {
  /** The account UDF of the record. */
  readonly account: string;
  /** At most one change per profile identifier (`profilesSetBy`). */
  readonly changes: ReadonlyArray<{ readonly id: string; readonly state: 'set' | 'deleted' }>;
  /**
   * A DeleteAccount or MoveAccount (`recordEndsAccount`): the account's profiles still set before
   * this entry are deleted by it.
   */
  readonly endsAccount: boolean;
}

/** What a decoded record does to the profile index (see RecordProfiles). Never throws. */
export function recordProfiles(record: RecordContent): RecordProfiles {
  return {
    account: record.account,
    changes: profilesSetBy(record).map(({ id, state }) => ({ id, state })),
    endsAccount: recordEndsAccount(record),
  };
}

/**
 * recordProfiles of entry bytes; undefined for bytes that are not a record — the log-signer's queue
 * holds whatever canonical JSON the gateway (or a test) queued and MUST sequence it all the same, so
 * decoding never makes it fail: such an entry simply sets no profile.
 */
export function entryProfiles(entry: Uint8Array): RecordProfiles | undefined {
  let record;
  try {
    record = decodeRecord(entry);
  } catch {
    return undefined;
  }
  return recordProfiles(record);
}
