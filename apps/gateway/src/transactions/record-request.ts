import { parseRecord, recordStatement, type JsonObject, type TransactionRecord } from '@cryptomesh/mesh';
import type { Operation } from '@cryptomesh/mesh';
import { mapMeshErrors } from '../protocol/mesh-error-map';
import type { AccountName } from '../protocol/request-fields';

/** The member of a logged request that carries the record's authorisation (a signed request). */
export const AUTHORISATION = 'Authorisation';

/**
 * The record a logged request describes (mesh-model.md "Records"): the statement is rebuilt from the
 * request's own fields — `Operation` from the transaction, `Account` as the UDF of the address (never
 * the address) — and the client's `Authorisation` MUST sign exactly that statement. The statement
 * is then re-derived from the parsed content, so the logged bytes are the canonical record whatever
 * extra JWS members the client sent.
 */
export async function readRecord(
  operation: Operation,
  name: AccountName,
  members: Readonly<Record<string, unknown>>,
  authorisation: unknown,
): Promise<TransactionRecord> {
  return mapMeshErrors(() => {
    const parsed = parseRecord({
      ...members,
      Operation: operation,
      Account: name.udf,
      [AUTHORISATION]: authorisation as JsonObject,
    });
    return { ...parsed, statement: recordStatement(parsed) };
  });
}
