import { OWN_LOG_TABLES, safeInteger, whereInLog, type LogTables, type SqlQuery } from './log-sql';
import { LogStoreError } from './log-store-error';
import { integerArray, textArray } from './array-literal';

/**
 * What one entry does to the profile index (`log_profile_index`, migration 1763787600000), as the
 * log-signer derives it from the decoded record (`profilesSetBy` of `@cryptomesh/mesh`).
 */
export interface EntryProfiles {
  /** The account UDF the record belongs to. */
  readonly account: string;
  /** At most one change per profile identifier. */
  readonly changes: ReadonlyArray<{ readonly id: string; readonly state: 'set' | 'deleted' }>;
  /** A DeleteAccount: every profile of `account` still set before this entry is deleted by it. */
  readonly endsAccount: boolean;
}

/**
 * The profile index of entries [first, first + profiles.length): `profiles[i]` for the entry at
 * `first + i`, undefined for an entry that is not a record (nothing to index).
 */
export interface ProfileIndexBatch {
  readonly first: number;
  readonly profiles: ReadonlyArray<EntryProfiles | undefined>;
}

/** Entries [0, n) are indexed. */
export async function readIndexedSize(query: SqlQuery): Promise<number> {
  const rows = await query<{ indexed_size: string }>('SELECT indexed_size FROM log_profile_index_state');
  if (rows[0] === undefined) throw new LogStoreError('store.corrupt', 'log_profile_index_state has no row');
  return safeInteger(rows[0].indexed_size, 'indexed size');
}

/**
 * Writes the index rows of `batch` and advances `indexed_size` from `batch.first` to its end. MUST be
 * called inside the caller's transaction, after the entries are stored (the rows reference them);
 * MUST reject with `index.out-of-step` — the caller then rolls back — unless `indexed_size` was
 * exactly `batch.first`, so an entry is never indexed twice nor skipped.
 */
export async function writeProfileIndex(query: SqlQuery, batch: ProfileIndexBatch): Promise<void> {
  const end = batch.first + batch.profiles.length;
  const advanced = await query<{ indexed_size: string }>(
    'UPDATE log_profile_index_state SET indexed_size = $2 WHERE indexed_size = $1 RETURNING indexed_size',
    [batch.first, end],
  );
  if (advanced.length !== 1) {
    throw new LogStoreError(
      'index.out-of-step',
      `the profile index does not end at entry ${batch.first}: cannot index [${batch.first}, ${end})`,
    );
  }
  const ids: string[] = [];
  const indices: number[] = [];
  const accounts: string[] = [];
  const states: string[] = [];
  batch.profiles.forEach((entry, i) => {
    for (const change of entry?.changes ?? []) {
      ids.push(change.id);
      indices.push(batch.first + i);
      accounts.push(entry!.account);
      states.push(change.state);
    }
  });
  if (ids.length > 0) {
    // ON CONFLICT: one entry naming one profile twice (profilesSetBy already dedupes) must not stop
    // the signer; the first row stands.
    await query(
      `INSERT INTO log_profile_index (profile_id, idx, account, state)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])
       ON CONFLICT DO NOTHING`,
      [textArray(ids), integerArray(indices), textArray(accounts), textArray(states)],
    );
  }
  // After the batch's own rows, in entry order: a DeleteAccount ends what its account had set before
  // it, including earlier in this batch, and nothing that a later entry (a re-created account) sets.
  for (const [i, entry] of batch.profiles.entries()) {
    if (entry?.endsAccount !== true) continue;
    await query(
      `INSERT INTO log_profile_index (profile_id, idx, account, state)
       SELECT latest.profile_id, $2, $1, 'deleted'
         FROM (SELECT DISTINCT ON (profile_id) profile_id, state
                 FROM log_profile_index
                WHERE account = $1 AND idx < $2
                ORDER BY profile_id, idx DESC) AS latest
        WHERE latest.state = 'set'
       ON CONFLICT DO NOTHING`,
      [entry.account, String(batch.first + i)],
    );
  }
}

/** The latest index row of a profile for one account, as the query service reads it. */
export interface ProfileIndexRow {
  readonly id: string;
  readonly account: string;
  readonly index: number;
  readonly state: 'set' | 'deleted';
}

/**
 * For every profile whose canonical identifier starts with `idPrefix`, and every account that has it,
 * the latest row with an entry index below `size` (optionally for one account only), in the profile
 * index of `tables` (this portal's own log by default, or one peer's mirror).
 */
export async function readLatestProfileRows(
  query: SqlQuery,
  idPrefix: string,
  size: number,
  account?: string,
  tables: LogTables = OWN_LOG_TABLES,
): Promise<ProfileIndexRow[]> {
  const params: unknown[] = [`${idPrefix}%`, size, account ?? null];
  const where = whereInLog(tables, params, [
    'profile_id LIKE $1',
    'idx < $2',
    '($3::text IS NULL OR account = $3)',
  ]);
  const rows = await query<{ profile_id: string; account: string; idx: string; state: 'set' | 'deleted' }>(
    `SELECT DISTINCT ON (profile_id, account) profile_id, account, idx, state
       FROM ${tables.profileIndex}${where}
      ORDER BY profile_id, account, idx DESC`,
    params,
  );
  return rows.map((r) => ({
    id: r.profile_id,
    account: r.account,
    index: safeInteger(r.idx, 'profile index entry'),
    state: r.state,
  }));
}
