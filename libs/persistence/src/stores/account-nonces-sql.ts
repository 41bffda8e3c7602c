import type { AccountStateRecord } from '@cryptomesh/audit';
import { integerArray, textArray } from './array-literal';

/** A statement runner: a `pg` client's or a TypeORM transaction's `query`. */
type Query = (sql: string, params?: unknown[]) => Promise<unknown>;

/**
 * Where an auditor keeps its nonces (migration 1763809320000): the replication service's per peer it
 * mirrors, the log-signer's for the own log.
 */
export type NonceScope =
  { readonly table: 'mirror_nonces'; readonly peer: string } | { readonly table: 'log_nonces' };

/**
 * Inside the transaction that stores `states`: the nonces their entries added, one row each (a nonce
 * stored already — forgotten by the window and used again — takes its new time), then every nonce of
 * those accounts that their windows forgot (time below `forgetBefore`). Two statements whatever the
 * number of accounts; nothing is rewritten, and nothing is read but an index probe per account and
 * the rows written or deleted (account-nonces-sql.spec.ts).
 */
export async function writeAccountNonces(
  query: Query,
  scope: NonceScope,
  states: readonly AccountStateRecord[],
): Promise<void> {
  const added = states.flatMap((s) => s.nonces.map(([nonce, time]) => [s.account, nonce, time] as const));
  const forgotten = states.filter((s) => s.forgetBefore !== undefined);
  const [peerColumn, peerValue, first] =
    scope.table === 'mirror_nonces' ? ['peer, ', '$1, ', 2] : ['', '', 1];
  const params = scope.table === 'mirror_nonces' ? [scope.peer] : [];
  const p = (i: number) => `$${first + i}`;
  if (added.length > 0) {
    await query(
      `INSERT INTO ${scope.table} (${peerColumn}account, nonce, time)
       SELECT ${peerValue}a, n, t FROM unnest(${p(0)}::text[], ${p(1)}::text[], ${p(2)}::bigint[]) AS u(a, n, t)
       ON CONFLICT (${peerColumn}account, nonce) DO UPDATE SET time = EXCLUDED.time`,
      [
        ...params,
        textArray(added.map((r) => r[0])),
        textArray(added.map((r) => r[1])),
        integerArray(added.map((r) => r[2])),
      ],
    );
  }
  if (forgotten.length > 0) {
    // Each account's forgotten nonces are found through the (…, account, time) index, then deleted by
    // their row address: an index probe per account and a row per nonce forgotten. As a join, the
    // planner hashed the accounts and scanned the whole table for every batch, which holds every
    // account's window (a 30-second ingest: 3 ms a batch to delete nothing, growing with the rate
    // times the window). By row address, a row another transaction changed meanwhile would be left
    // for a later batch; there is none: one transaction at a time writes a table's (a peer's) nonces
    // (the log-signer's `log_account_states_state` row, the mirror's `mirror_heads … FOR UPDATE`).
    await query(
      `DELETE FROM ${scope.table} WHERE ctid = ANY (ARRAY(
         SELECT n.ctid FROM unnest(${p(0)}::text[], ${p(1)}::bigint[]) AS u(a, t)
          CROSS JOIN LATERAL (
            SELECT m.ctid FROM ${scope.table} m
             WHERE ${scope.table === 'mirror_nonces' ? 'm.peer = $1 AND ' : ''}m.account = u.a AND m.time < u.t
            OFFSET 0) n))`,
      [...params, forgotten.map((s) => s.account), forgotten.map((s) => String(s.forgetBefore))],
    );
  }
}

/** The JSON array of [nonce, time] of account `s.account` (and peer `s.peer`), for a SELECT list. */
export function storedNoncesColumn(scope: NonceScope['table']): string {
  const peer = scope === 'mirror_nonces' ? 'n.peer = s.peer AND ' : '';
  return `coalesce((SELECT json_agg(json_build_array(n.nonce, n.time)) FROM ${scope} n
                     WHERE ${peer}n.account = s.account), '[]'::json) AS nonces`;
}
