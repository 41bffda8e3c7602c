import type { EntityManager } from 'typeorm';

/**
 * The replay guard of signed requests (mesh-model.md "Requests": replays are the gateway's). A nonce
 * is kept until `expiresAtMs` — the request's own time plus the clock-skew window — after which the
 * request would be refused as stale anyway, so a purged nonce can never be replayed.
 */

/** True when (account, nonce) was recorded and has not been purged. */
export async function catalogNonceSeen(
  manager: EntityManager,
  accountUdf: string,
  nonce: string,
): Promise<boolean> {
  const rows = await manager.query<unknown[]>(
    'SELECT 1 FROM request_nonces WHERE account_udf = $1 AND nonce = $2',
    [accountUdf, nonce],
  );
  return rows.length > 0;
}

/**
 * Records (account, nonce) in the caller's transaction. Resolves false — writing nothing — when it is
 * already recorded (a replay, or a concurrent duplicate that committed first): the caller MUST then
 * roll back what it did in that transaction.
 */
export async function recordCatalogNonce(
  manager: EntityManager,
  accountUdf: string,
  nonce: string,
  expiresAtMs: number,
): Promise<boolean> {
  const rows = await manager.query<unknown[]>(
    `INSERT INTO request_nonces (account_udf, nonce, expires_at)
     VALUES ($1, $2, to_timestamp($3::double precision / 1000))
     ON CONFLICT DO NOTHING
     RETURNING 1`,
    [accountUdf, nonce, expiresAtMs],
  );
  return rows.length === 1;
}

/** Deletes the nonces that expired before `nowMs`; resolves with how many. */
export async function purgeCatalogNonces(manager: EntityManager, nowMs: number): Promise<number> {
  // Wrapped in a SELECT: TypeORM answers a bare DELETE with [rows, affected], not rows.
  const rows = await manager.query<Array<{ n: string }>>(
    `WITH purged AS (
       DELETE FROM request_nonces WHERE expires_at < to_timestamp($1::double precision / 1000) RETURNING 1)
     SELECT count(*) AS n FROM purged`,
    [nowMs],
  );
  return Number(rows[0]?.n ?? 0);
}
