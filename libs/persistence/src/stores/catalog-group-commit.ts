import type { EntityManager } from 'typeorm';
import { decodeEntry } from '@cryptomesh/log';
import type { CatalogChange } from './catalog-commit';
import { asBuffer } from './log-sql';
import {
  toAccount,
  toObject,
  type AccountRow,
  type CatalogAccount,
  type CatalogObject,
  type ObjectRow,
} from './catalog-accounts';

/**
 * The outcome of one change of a group: `committed` (the account is now at `revision`) or `stale`
 * (the account was no longer at `expectedRevision`: NOTHING was written for it).
 */
export type CatalogGroupOutcome =
  { readonly outcome: 'committed'; readonly revision: string } | { readonly outcome: 'stale' };

/** The SQLSTATE of a unique violation, and the constraint a recorded nonce raises it on. */
const UNIQUE_VIOLATION = '23505';
const NONCE_KEY = 'request_nonces_pkey';

/**
 * True for the error `commitCatalogChanges` throws when a change's nonce was recorded already (a
 * replay committed by another transaction first): the whole group was rolled back.
 */
export function isNonceConflict(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    code?: unknown;
    constraint?: unknown;
    driverError?: { code?: unknown; constraint?: unknown };
  };
  const code = e.code ?? e.driverError?.code;
  const constraint = e.constraint ?? e.driverError?.constraint;
  return code === UNIQUE_VIOLATION && constraint === NONCE_KEY;
}

/**
 * The writes of several logged changes as ONE statement, run on its own (no BEGIN/COMMIT around
 * it), so PostgreSQL runs it as one transaction that commits before it answers: one round trip for
 * the whole group (issue #17, group commit). For each change, as the single-change statement did for
 * one: the account row is updated only while it is still at the revision the change was validated
 * against (under READ COMMITTED the UPDATE waits for a concurrent change of the row and then
 * re-reads its revision), and its objects, its queued entry and its nonce are written only when
 * that update happened.
 *
 * Contract:
 * - The caller MUST NOT pass two changes of one account (the CTEs would race on its row), and MUST
 *   NOT call it inside a transaction it opened (the atomicity of the group is the statement's).
 * - Resolves, once everything is COMMITTED, with one outcome per change, in the order given.
 * - The log entries are queued in the order given (their `seq` increase with the change's index).
 * - Rejects — and then NOTHING of the group was written — when the statement fails: a nonce that
 *   was recorded already (`isNonceConflict`: the caller finds which change it was and writes the
 *   others again), a deadlock with another process's group, any database error.
 * - Throws LogError for an entry that is not a canonical log entry, before writing anything.
 */
export async function commitCatalogChanges(
  manager: EntityManager,
  changes: readonly CatalogChange[],
): Promise<CatalogGroupOutcome[]> {
  if (changes.length === 0) return [];
  for (const change of changes) decodeEntry(change.entry);
  const objects = changes.flatMap((change, idx) => change.objects.map((o) => ({ idx, o })));
  const rows = await manager.query<Array<{ idx: number; revision: string }>>(
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::jsonb[], $5::text[], $6::uuid[],
                            $7::bytea[], $8::text[], $9::text[], $10::double precision[])
                WITH ORDINALITY
                AS c(account_udf, status, master, personal, moved_to, expected, entry, request_id, nonce,
                     expires_ms, idx)),
     updated AS (
       UPDATE accounts a SET status = c.status, master = coalesce(c.master, a.master),
              personal = coalesce(c.personal, a.personal),
              moved_to = c.moved_to, version = a.version + 1, revision = gen_random_uuid(), updated = now()
         FROM input c
        WHERE a.account_udf = c.account_udf AND a.revision = c.expected
       RETURNING c.idx, a.revision),
     objects AS (
       INSERT INTO catalog_objects (account_udf, object_id, kind, state, value)
       SELECT c.account_udf, o.object_id, o.kind, o.state, o.value
         FROM unnest($11::int[], $12::text[], $13::text[], $14::text[], $15::jsonb[])
                AS o(idx, object_id, kind, state, value)
         JOIN updated u ON u.idx = o.idx
         JOIN input c ON c.idx = o.idx
       ON CONFLICT (account_udf, object_id)
       DO UPDATE SET kind = EXCLUDED.kind, state = EXCLUDED.state, value = EXCLUDED.value, updated = now()
       RETURNING 1),
     queued AS (
       INSERT INTO log_queue (entry, request_id)
       SELECT c.entry, c.request_id FROM input c JOIN updated u ON u.idx = c.idx ORDER BY c.idx
       RETURNING seq),
     nonces AS (
       -- No ON CONFLICT: a nonce recorded already fails the statement, so nothing of the group commits.
       INSERT INTO request_nonces (account_udf, nonce, expires_at)
       SELECT c.account_udf, c.nonce, to_timestamp(c.expires_ms / 1000) FROM input c JOIN updated u ON u.idx = c.idx
       RETURNING 1)
     SELECT u.idx::int AS idx, u.revision FROM updated u`,
    [
      changes.map((c) => c.account.accountUdf),
      changes.map((c) => c.account.status),
      changes.map((c) => (c.account.master === undefined ? null : JSON.stringify(c.account.master))),
      changes.map((c) => (c.account.personal === undefined ? null : JSON.stringify(c.account.personal))),
      changes.map((c) => c.account.movedTo ?? null),
      changes.map((c) => c.expectedRevision),
      changes.map((c) => asBuffer(c.entry)),
      changes.map((c) => c.requestId ?? null),
      changes.map((c) => c.nonce),
      changes.map((c) => c.nonceExpiresAtMs),
      // ORDINALITY counts from 1
      objects.map(({ idx }) => idx + 1),
      objects.map(({ o }) => o.objectId),
      objects.map(({ o }) => o.kind),
      objects.map(({ o }) => o.state),
      objects.map(({ o }) => (o.state === 'active' ? JSON.stringify(o.value) : null)),
    ],
  );
  const revisions = new Map(rows.map((r) => [Number(r.idx) - 1, r.revision]));
  return changes.map((_, i) => {
    const revision = revisions.get(i);
    return revision === undefined ? { outcome: 'stale' } : { outcome: 'committed', revision };
  });
}

/** What `peekCatalogAccounts` answers for one (account, nonce): the revision and the replay check. */
export interface CatalogPeek {
  readonly revision: string | undefined;
  readonly replayed: boolean;
  /**
   * With `rows`, when the account exists, is not at the pair's `kept` revision and is not heavier
   * than `maxRowBytes`: its row and every object of it, in identifier order, as of the statement
   * (one snapshot, so they belong together).
   */
  readonly account?: CatalogAccount;
  readonly objects?: readonly CatalogObject[];
}

/** One (account, nonce) to peek; `kept`: the revision whose state the caller holds, if any. */
export interface CatalogPeekPair {
  readonly accountUdf: string;
  readonly nonce: string;
  readonly kept?: string;
}

type PeekRow = { idx: string; revision: string | null; replayed: boolean } & Partial<
  Omit<AccountRow, 'account_udf' | 'revision'> & { objects: ObjectRow[] }
>;

/**
 * The revision and replay check for several (account, nonce) pairs in one statement (issue #17: the
 * peeks of the requests that arrive together share one round trip). With `rows`, the statement also
 * carries the row and objects of each account that is not at the revision its pair `kept`, so that a
 * state kept stale by another process, or not kept at all, costs no round trip of its own — but only
 * for an account whose objects take at most `maxRowBytes` as stored (`pg_column_size`): a heavy
 * account's rows would hold up every other peek of the statement, and are left for the caller to read
 * on its own. Resolves with one answer per pair, in the order given; a pair may repeat.
 *
 * `OFFSET 0` keeps the lateral subquery a subquery: its conditions are then a one-time filter that
 * runs before its select list. Pulled up into the join, as the planner otherwise does, every pair's
 * objects were aggregated and then thrown away by the join's filter, kept states included
 * (gateway-group-commit.spec.ts counts the objects' scans).
 */
export async function peekCatalogAccounts(
  manager: EntityManager,
  pairs: readonly CatalogPeekPair[],
  options: { readonly rows?: boolean; readonly maxRowBytes?: number } = {},
): Promise<CatalogPeek[]> {
  if (pairs.length === 0) return [];
  const rows = await manager.query<PeekRow[]>(
    `SELECT p.idx, a.revision,
            EXISTS (SELECT 1 FROM request_nonces n WHERE n.account_udf = p.account_udf AND n.nonce = p.nonce)
              AS replayed,
            r.*
       FROM unnest($1::text[], $2::text[], $3::uuid[]) WITH ORDINALITY AS p(account_udf, nonce, kept, idx)
       LEFT JOIN accounts a ON a.account_udf = p.account_udf
       LEFT JOIN LATERAL (
         SELECT a.address, a.status, a.moved_to, a.master, a.personal, a.version,
                (SELECT coalesce(jsonb_agg(jsonb_build_object('object_id', o.object_id, 'kind', o.kind,
                                                              'state', o.state, 'value', o.value)
                                           ORDER BY o.object_id), '[]'::jsonb)
                   FROM catalog_objects o WHERE o.account_udf = a.account_udf) AS objects
          WHERE $4::boolean AND a.account_udf IS NOT NULL AND a.revision IS DISTINCT FROM p.kept
            AND (SELECT coalesce(sum(pg_column_size(o.value)), 0)
                   FROM catalog_objects o WHERE o.account_udf = a.account_udf) <= $5::bigint
         OFFSET 0) r ON true`,
    [
      pairs.map((p) => p.accountUdf),
      pairs.map((p) => p.nonce),
      pairs.map((p) => p.kept ?? null),
      options.rows === true,
      options.maxRowBytes ?? Number.MAX_SAFE_INTEGER,
    ],
  );
  const byIndex = new Map(rows.map((r) => [Number(r.idx) - 1, r]));
  return pairs.map((pair, i) => {
    const row = byIndex.get(i);
    const peek = { revision: row?.revision ?? undefined, replayed: row?.replayed === true };
    if (row?.objects === undefined || row.objects === null || row.revision === null) return peek;
    const account = toAccount({
      account_udf: pair.accountUdf,
      address: row.address!,
      status: row.status!,
      moved_to: row.moved_to ?? null,
      master: row.master,
      personal: row.personal,
      version: row.version!,
      revision: row.revision,
    });
    return { ...peek, account, objects: row.objects.map(toObject) };
  });
}
