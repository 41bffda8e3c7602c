import type { EntityManager } from 'typeorm';
import { decodeEntry } from '@cryptomesh/log';
import type { CatalogAccount, CatalogObject } from './catalog-accounts';
import { asBuffer } from './log-sql';

/**
 * One change of an account that the gateway validated against the account at `expectedRevision`:
 * the account's new row, the objects it changed, the log entry to queue and the request's nonce.
 */
export interface CatalogChange {
  readonly account: Pick<CatalogAccount, 'accountUdf' | 'status' | 'movedTo' | 'master' | 'personal'>;
  /** The revision of the account row the change was validated against (`CatalogAccount.revision`). */
  readonly expectedRevision: string;
  readonly objects: readonly CatalogObject[];
  readonly entry: Uint8Array;
  readonly requestId?: string;
  readonly nonce: string;
  readonly nonceExpiresAtMs: number;
}

/**
 * - `committed`: every row is written in the caller's transaction; the account is now at `revision`.
 * - `stale`: the account is no longer at `expectedRevision` (another change committed first, or it
 *   is gone): NOTHING was written; validate again against the current account.
 * - `replayed`: the nonce was already recorded. Rows WERE written: the caller MUST roll back.
 */
export type CatalogCommit =
  | { readonly outcome: 'committed'; readonly revision: string }
  | { readonly outcome: 'stale' }
  | { readonly outcome: 'replayed' };

/**
 * The whole write of a logged change as ONE statement (issue #17: a Publish took eleven round trips;
 * with this it takes four — the replay check, BEGIN, this, COMMIT): the account row is updated only
 * while it is still at the revision the change was validated against (under READ COMMITTED the UPDATE waits for a
 * concurrent change of the row and then re-reads its revision, so the check and the write are one
 * atomic step, as the row lock of the slow path is), and the objects, the queued entry and the nonce
 * are written only when that update happened. The caller MUST run it inside a READ COMMITTED
 * transaction and commit only on `committed`. Throws LogError for an entry that is not a canonical
 * log entry, before writing anything (as enqueueEntry does).
 */
export async function commitCatalogChange(
  manager: EntityManager,
  change: CatalogChange,
): Promise<CatalogCommit> {
  decodeEntry(change.entry);
  const { account, objects } = change;
  const rows = await manager.query<Array<{ revision: string | null; nonces: string }>>(
    `WITH updated AS (
       UPDATE accounts SET status = $2, master = $3::jsonb, personal = $4::jsonb, moved_to = $5,
              version = version + 1, revision = gen_random_uuid(), updated = now()
        WHERE account_udf = $1 AND revision = $6::uuid
       RETURNING revision),
     objects AS (
       INSERT INTO catalog_objects (account_udf, object_id, kind, state, value)
       SELECT $1, o.object_id, o.kind, o.state, o.value
         FROM updated, unnest($7::text[], $8::text[], $9::text[], $10::jsonb[]) AS o(object_id, kind, state, value)
       ON CONFLICT (account_udf, object_id)
       DO UPDATE SET kind = EXCLUDED.kind, state = EXCLUDED.state, value = EXCLUDED.value, updated = now()
       RETURNING 1),
     queued AS (
       INSERT INTO log_queue (entry, request_id) SELECT $11, $12 FROM updated RETURNING seq),
     nonce AS (
       INSERT INTO request_nonces (account_udf, nonce, expires_at)
       SELECT $1, $13, to_timestamp($14::double precision / 1000) FROM updated
       ON CONFLICT DO NOTHING
       RETURNING 1)
     SELECT (SELECT revision FROM updated) AS revision, (SELECT count(*) FROM nonce) AS nonces`,
    [
      account.accountUdf,
      account.status,
      JSON.stringify(account.master),
      JSON.stringify(account.personal),
      account.movedTo ?? null,
      change.expectedRevision,
      objects.map((o) => o.objectId),
      objects.map((o) => o.kind),
      objects.map((o) => o.state),
      objects.map((o) => (o.state === 'active' ? JSON.stringify(o.value) : null)),
      asBuffer(change.entry),
      change.requestId ?? null,
      change.nonce,
      change.nonceExpiresAtMs,
    ],
  );
  const row = rows[0];
  if (row?.revision === null || row?.revision === undefined) return { outcome: 'stale' };
  if (Number(row.nonces) !== 1) return { outcome: 'replayed' };
  return { outcome: 'committed', revision: row.revision };
}

/**
 * In one round trip: the account's current revision (undefined: no such account) and whether the
 * request's nonce was recorded for it already (a replay). The gateway's fast path starts here: it
 * uses a kept state only at the revision read now, so a state made stale by another process is
 * dropped before anything is validated against it.
 */
export async function peekCatalogAccount(
  manager: EntityManager,
  accountUdf: string,
  nonce: string,
): Promise<{ readonly revision: string | undefined; readonly replayed: boolean }> {
  const rows = await manager.query<Array<{ revision: string | null; replayed: boolean }>>(
    `SELECT (SELECT revision FROM accounts WHERE account_udf = $1) AS revision,
            EXISTS (SELECT 1 FROM request_nonces WHERE account_udf = $1 AND nonce = $2) AS replayed`,
    [accountUdf, nonce],
  );
  const row = rows[0];
  return { revision: row?.revision ?? undefined, replayed: row?.replayed === true };
}
