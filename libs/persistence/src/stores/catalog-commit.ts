import type { CatalogAccount, CatalogObject } from './catalog-accounts';

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
