import type { EntityManager } from 'typeorm';

/**
 * Connection requests (ConnectStart … ConnectComplete): gateway-request-service state, not logged
 * (DESIGN.md "HTTP"). Only an acceptance reaches the log, as the ConnectComplete record that
 * publishes the updated Personal Profile, in the same transaction as `decideCatalogConnection`.
 */

export type CatalogConnectionStatus = 'pending' | 'accepted' | 'rejected';

export interface CatalogConnection {
  readonly id: string;
  readonly accountUdf: string;
  readonly deviceId: string;
  /** The Device Profile the new device submitted (flattened JWS). */
  readonly device: unknown;
  /**
   * The value the new device chose (base64url of 16 bytes), relayed to administrators: each device
   * computes the witness the user compares from it, the account and the Device Profile (issue #14).
   * Never trusted by the portal's clients: a rewritten nonce gives a witness the user sees differ.
   */
  readonly nonce: string;
  readonly status: CatalogConnectionStatus;
  /** The Personal Profile that the acceptance published, when accepted. */
  readonly personal: unknown;
  readonly createdMs: number;
}

interface ConnectionRow {
  id: string;
  account_udf: string;
  device_id: string;
  device: unknown;
  nonce: string;
  status: CatalogConnectionStatus;
  personal: unknown;
  created_ms: string;
}

const COLUMNS =
  'id, account_udf, device_id, device, nonce, status, personal, (extract(epoch FROM created) * 1000)::bigint AS created_ms';

function toConnection(row: ConnectionRow): CatalogConnection {
  return {
    id: row.id,
    accountUdf: row.account_udf,
    deviceId: row.device_id,
    device: row.device,
    nonce: row.nonce,
    status: row.status,
    personal: row.personal ?? undefined,
    createdMs: Number(row.created_ms),
  };
}

/**
 * Stores a new pending request. `source`: the client address it came from, as the gateway groups
 * addresses (an IPv6 address by its /64), counted by `countCatalogConnectionsFrom`.
 */
export async function insertCatalogConnection(
  manager: EntityManager,
  request: Pick<CatalogConnection, 'id' | 'accountUdf' | 'deviceId' | 'device' | 'nonce'> & {
    readonly source: string;
  },
): Promise<void> {
  await manager.query(
    `INSERT INTO connect_requests (id, account_udf, device_id, device, nonce, status, source)
     VALUES ($1, $2, $3, $4::jsonb, $5, 'pending', $6)`,
    [
      request.id,
      request.accountUdf,
      request.deviceId,
      JSON.stringify(request.device),
      request.nonce,
      request.source,
    ],
  );
}

/** The request `id` of the account, or undefined. With `lock`, locked FOR UPDATE until the transaction ends. */
export async function readCatalogConnection(
  manager: EntityManager,
  accountUdf: string,
  id: string,
  options: { readonly lock?: boolean } = {},
): Promise<CatalogConnection | undefined> {
  const rows = await manager.query<ConnectionRow[]>(
    `SELECT ${COLUMNS} FROM connect_requests WHERE account_udf = $1 AND id = $2${options.lock ? ' FOR UPDATE' : ''}`,
    [accountUdf, id],
  );
  return rows[0] === undefined ? undefined : toConnection(rows[0]);
}

/** The account's pending requests, oldest first, at most `limit`. */
export async function listCatalogConnections(
  manager: EntityManager,
  accountUdf: string,
  limit: number,
): Promise<CatalogConnection[]> {
  const rows = await manager.query<ConnectionRow[]>(
    `SELECT ${COLUMNS} FROM connect_requests
      WHERE account_udf = $1 AND status = 'pending' ORDER BY created, id LIMIT $2`,
    [accountUdf, limit],
  );
  return rows.map(toConnection);
}

/**
 * Deletes the account's requests still pending after `ttlMs`: an abandoned or hostile ConnectStart
 * must not hold a place under the per-account cap for ever. The new device then finds its request
 * gone (ConnectStatus: not-found) and starts again. Resolves to the number removed.
 */
export async function expireCatalogConnections(
  manager: EntityManager,
  accountUdf: string,
  ttlMs: number,
): Promise<number> {
  const rows = await manager.query<Array<{ n: string }>>(
    `WITH gone AS (
       DELETE FROM connect_requests
        WHERE account_udf = $1 AND status = 'pending' AND created < now() - ($2::bigint * interval '1 millisecond')
       RETURNING 1)
     SELECT count(*) AS n FROM gone`,
    [accountUdf, ttlMs],
  );
  return Number(rows[0]?.n ?? 0);
}

/** How many requests of the account are pending. */
export async function countCatalogConnections(manager: EntityManager, accountUdf: string): Promise<number> {
  const rows = await manager.query<Array<{ n: string }>>(
    `SELECT count(*) AS n FROM connect_requests WHERE account_udf = $1 AND status = 'pending'`,
    [accountUdf],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Records the decision on a pending request. Resolves false — writing nothing — when the request is
 * no longer pending (decided concurrently). `personal` is REQUIRED for an acceptance.
 */
export async function decideCatalogConnection(
  manager: EntityManager,
  id: string,
  decision: { readonly status: 'accepted'; readonly personal: unknown } | { readonly status: 'rejected' },
): Promise<boolean> {
  // Wrapped in a SELECT: TypeORM answers a bare UPDATE with [rows, affected], not rows.
  const rows = await manager.query<Array<{ n: string }>>(
    `WITH decided AS (
       UPDATE connect_requests SET status = $2, personal = $3::jsonb, decided = now()
        WHERE id = $1 AND status = 'pending' RETURNING 1)
     SELECT count(*) AS n FROM decided`,
    [id, decision.status, decision.status === 'accepted' ? JSON.stringify(decision.personal) : null],
  );
  return Number(rows[0]?.n) === 1;
}

/**
 * How many of the account's requests from `source` count against that address (issue #15): the pending
 * ones, and the ones an administrator rejected less than `windowMs` ago (by their creation), so that
 * an address whose requests the owner cleared cannot take their places again at once.
 */
export async function countCatalogConnectionsFrom(
  manager: EntityManager,
  accountUdf: string,
  source: string,
  windowMs: number,
): Promise<number> {
  const rows = await manager.query<Array<{ n: string }>>(
    `SELECT count(*) AS n FROM connect_requests
      WHERE account_udf = $1 AND source = $2
        AND (status = 'pending'
             OR (status = 'rejected' AND created >= now() - ($3::bigint * interval '1 millisecond')))`,
    [accountUdf, source, windowMs],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Rejects every pending request of the account at once (ConnectClear, issue #15). Resolves to the
 * number rejected.
 */
export async function rejectCatalogConnections(manager: EntityManager, accountUdf: string): Promise<number> {
  const rows = await manager.query<Array<{ n: string }>>(
    `WITH decided AS (
       UPDATE connect_requests SET status = 'rejected', decided = now()
        WHERE account_udf = $1 AND status = 'pending' RETURNING 1)
     SELECT count(*) AS n FROM decided`,
    [accountUdf],
  );
  return Number(rows[0]?.n ?? 0);
}
