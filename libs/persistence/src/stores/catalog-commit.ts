import type { CatalogAccount, CatalogObject } from './catalog-accounts';

/**
 * One change of an account that the gateway validated against the account at `expectedRevision`:
 * the account's new row, the objects it changed, the log entry to queue and the request's nonce.
 */
export interface CatalogChange {
  /**
   * The account row after the change. A `master` or `personal` left out is the one the row holds at
   * `expectedRevision`, unchanged: most changes touch neither, and a profile sent again is a
   * kilobyte or two to serialise, send, parse and store for nothing (issue #17).
   */
  readonly account: Pick<CatalogAccount, 'accountUdf' | 'status' | 'movedTo'> &
    Partial<Pick<CatalogAccount, 'master' | 'personal'>>;
  /** The revision of the account row the change was validated against (`CatalogAccount.revision`). */
  readonly expectedRevision: string;
  readonly objects: readonly CatalogObject[];
  readonly entry: Uint8Array;
  readonly requestId?: string;
  readonly nonce: string;
  readonly nonceExpiresAtMs: number;
}
