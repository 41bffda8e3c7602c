import { entryProfiles } from '@cryptomesh/mesh';
import type { ProfileIndexStore } from './signer-store';

/** Moved to `@cryptomesh/mesh` (the replication's auditor indexes mirrored entries the same way). */
export { entryProfiles, recordProfiles } from '@cryptomesh/mesh';

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
