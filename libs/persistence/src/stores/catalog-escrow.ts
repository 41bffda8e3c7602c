import type { EntityManager } from 'typeorm';
import { queueEscrowPublication } from './escrow-replication';

/**
 * Escrow blobs (000 §6.5.1): stored under the UDF of their key and nothing else — no account, no
 * device, and a creation date kept to the day — so the table reveals nothing about their owners.
 */

/**
 * Stores a blob and queues it for publication to the federation's members (escrow_outbox, issue #19
 * item 2). Resolves false — writing nothing — when the key already holds one (create only).
 */
export async function putCatalogEscrow(
  manager: EntityManager,
  keyUdf: string,
  blob: Uint8Array,
): Promise<boolean> {
  const rows = await manager.query<unknown[]>(
    'INSERT INTO escrow_blobs (key_udf, blob) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1',
    [keyUdf, Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)],
  );
  if (rows.length !== 1) return false;
  await queueEscrowPublication(manager, keyUdf);
  return true;
}

/** The blob stored under `keyUdf`, or undefined. */
export async function getCatalogEscrow(
  manager: EntityManager,
  keyUdf: string,
): Promise<Uint8Array | undefined> {
  const rows = await manager.query<Array<{ blob: Buffer }>>(
    'SELECT blob FROM escrow_blobs WHERE key_udf = $1',
    [keyUdf],
  );
  const blob = rows[0]?.blob;
  return blob === undefined ? undefined : new Uint8Array(blob);
}

/**
 * Counts one more escrow blob against `accountUdf`'s quota. Resolves false — changing nothing — when
 * the account has stored `max` already. MUST run in the transaction that stores the blob, so that a
 * refused or failed store does not count.
 */
export async function countCatalogEscrow(
  manager: EntityManager,
  accountUdf: string,
  max: number,
): Promise<boolean> {
  // A SELECT around the UPDATE: TypeORM answers a bare UPDATE … RETURNING in another shape.
  const rows = await manager.query<Array<{ n: number }>>(
    `WITH counted AS (
       UPDATE accounts SET escrow_blobs = escrow_blobs + 1
        WHERE account_udf = $1 AND escrow_blobs < $2 RETURNING 1)
     SELECT count(*)::int AS n FROM counted`,
    [accountUdf, max],
  );
  return rows[0]?.n === 1;
}
