import type { EntityManager } from 'typeorm';
import { decodeEntry } from '@cryptomesh/log';
import { asBuffer } from './log-sql';

/**
 * Queues an entry for the log-signer: `entryBytes` MUST be the exact RFC 8785 (JCS) bytes of the
 * transaction record (`encodeEntry` of `@cryptomesh/log`), which become the Merkle leaf unchanged.
 *
 * Call it with the EntityManager of the transaction that commits the catalog change: the entry is
 * queued if and only if that transaction commits (DESIGN.md "Services": acknowledged ⇒ durable), and
 * the log-signer seals it within SEAL_INTERVAL_MS of the commit. Throws LogError `entry.malformed` /
 * `entry.not-canonical` — before writing anything — for bytes that are not a canonical JSON object,
 * since a peer verifying the log would refuse such an entry forever. Resolves to the queue sequence
 * number, which orders allocation, not commit (docs/design/log-signer.md "Commit order").
 *
 * `requestId` (the gateway request's `X-Request-Id`, 1–128 characters, which the database also
 * checks) is stored beside the entry, never in its bytes, for the log-signer to log with the entry's
 * index (docs/design/observability.md "Request ids").
 */
export async function enqueueEntry(
  manager: EntityManager,
  entryBytes: Uint8Array,
  options: { readonly requestId?: string } = {},
): Promise<bigint> {
  decodeEntry(entryBytes);
  const rows = await manager.query<Array<{ seq: string }>>(
    'INSERT INTO log_queue (entry, request_id) VALUES ($1, $2) RETURNING seq',
    [asBuffer(entryBytes), options.requestId ?? null],
  );
  return BigInt(rows[0]!.seq);
}
