import type { GatewayConfig } from '../gateway.config';
import { GatewayError } from '../protocol/gateway-error';

/** What an account's catalogs hold (`catalogUsage`): objects, tombstones included, and their bytes. */
export interface CatalogUsage {
  readonly objects: number;
  readonly bytes: number;
}

/**
 * Throws 'quota.exceeded' (413; Reason `quota.catalog-objects` / `quota.catalog-bytes`) when writing
 * an object of `newBytes` in place of one of `oldBytes` (undefined: a new object) grows the account's
 * catalog usage past QUOTA_CATALOG_OBJECTS_PER_ACCOUNT / QUOTA_CATALOG_BYTES_PER_ACCOUNT. A change
 * that does not grow a usage is always allowed, so an account over its quota can still delete and
 * shrink (as for profiles, account-usage.ts). A tombstone keeps its row: a deleted Id stays used. A
 * quota of 0 is no quota. Pure.
 */
export function checkCatalogQuota(
  usage: CatalogUsage,
  oldBytes: number | undefined,
  newBytes: number,
  config: Pick<GatewayConfig, 'QUOTA_CATALOG_OBJECTS_PER_ACCOUNT' | 'QUOTA_CATALOG_BYTES_PER_ACCOUNT'>,
): void {
  const objects = usage.objects + (oldBytes === undefined ? 1 : 0);
  const bytes = usage.bytes - (oldBytes ?? 0) + newBytes;
  const maxObjects = config.QUOTA_CATALOG_OBJECTS_PER_ACCOUNT;
  if (maxObjects > 0 && objects > maxObjects && objects > usage.objects)
    throw new GatewayError(
      'quota.exceeded',
      `the account would hold ${objects} catalog objects; this portal allows ${maxObjects} per account (deleted ones count: their ids stay used)`,
      { reason: 'quota.catalog-objects' },
    );
  const maxBytes = config.QUOTA_CATALOG_BYTES_PER_ACCOUNT;
  if (maxBytes > 0 && bytes > maxBytes && bytes > usage.bytes)
    throw new GatewayError(
      'quota.exceeded',
      `the account would hold ${bytes} bytes of catalog values; this portal allows ${maxBytes} per account: delete or shrink something first`,
      { reason: 'quota.catalog-bytes' },
    );
}
