import { CATALOG_KEY_ID, CATALOG_NAMES, type CatalogName } from '@cryptomesh/mesh';
import { MeshCatalog } from './catalog';
import { isClientError } from './client-error';
import { ownRecipients, type CatalogAccount } from './catalog-account';
import type { ActiveProfile } from './profile-document';

/** What `reencryptCatalogs` did, per catalog. */
export interface CatalogSyncReport {
  /** Active objects written again (the catalog key object counts in `contact`). */
  readonly rewritten: Readonly<Record<CatalogName, number>>;
  /** Tombstones found: nothing to re-encrypt. */
  readonly tombstones: Readonly<Record<CatalogName, number>>;
}

/**
 * Makes every catalog object readable by the account's devices of `recipients` (default: the
 * account's profiles as `account` holds them) and by no other device — the catalog counterpart of
 * application-data.ts publishApplications, run when a device joins or leaves (`mesh device accept`,
 * `mesh device remove`) and by `mesh catalog sync`. Every object of every catalog is read and verified
 * as MeshCatalog reads (a value that does not verify stops it: `verify.catalog`, nothing trusted);
 * every ACTIVE one, the catalog key object first, is written again: same content and `Access`, `Data`
 * a fresh JWE (a fresh content key) to the devices of `recipients.personal` and the escrow agent of
 * `recipients.master`, signed by this device, Sequence + 1 — so a value no longer depends on a device
 * that signed it before. Tombstones need nothing. The catalog key itself is not changed (the Ids would
 * all change): a removed device still knows it, but can no longer authenticate to read the catalogs.
 *
 * This device MUST be able to read the catalog key object (`state.missing` otherwise: a device
 * connected before the first sync after it joined). A crash or a refusal part-way (`catalog.sequence`:
 * another device wrote that object meanwhile) leaves the objects not yet written as they were —
 * readable by the old device set — until it is run again; nothing is lost. With no catalog key object
 * (no catalog used yet) it writes nothing and creates nothing.
 */
export async function reencryptCatalogs(
  account: CatalogAccount,
  recipients: Pick<ActiveProfile, 'master' | 'personal'> = account.doc,
): Promise<CatalogSyncReport> {
  const catalog = new MeshCatalog(account);
  const to = ownRecipients(recipients);
  const rewritten = { contact: 0, application: 0, credential: 0 };
  const tombstones = { contact: 0, application: 0, credential: 0 };
  // Read everything first: a portal that serves something that does not verify is caught before
  // anything is written.
  const objects = new Map<CatalogName, Awaited<ReturnType<MeshCatalog['stored']>>>();
  for (const name of CATALOG_NAMES) objects.set(name, await catalog.stored(name));
  const contacts = objects.get('contact')!;
  const key = contacts.find((o) => o.id === CATALOG_KEY_ID);
  if (key?.state === 'active') {
    await catalog.reseal('contact', key, to);
    rewritten.contact++;
  }
  for (const name of CATALOG_NAMES)
    for (const stored of objects.get(name)!) {
      if (name === 'contact' && stored.id === CATALOG_KEY_ID) continue;
      if (stored.state !== 'active') {
        tombstones[name]++;
        continue;
      }
      await catalog.reseal(name, stored, to);
      rewritten[name]++;
    }
  return { rewritten, tombstones };
}

/** What a device change did to the catalogs: re-encrypted, or not readable by this device. */
export type CatalogSyncOutcome = CatalogSyncReport | { readonly unreadable: string };

/**
 * `reencryptCatalogs` for the device flows (accept, remove), where a catalog this device cannot read
 * MUST NOT stop the change of devices (removing a lost device matters more): `state.missing` becomes
 * `{unreadable}`, which the command shows — a device that can read them runs `mesh catalog sync`.
 * Every other error is thrown.
 */
export async function reencryptCatalogsIfReadable(
  account: CatalogAccount,
  recipients?: Pick<ActiveProfile, 'master' | 'personal'>,
): Promise<CatalogSyncOutcome> {
  try {
    return await reencryptCatalogs(account, recipients);
  } catch (error) {
    if (!isClientError(error, 'state.missing')) throw error;
    return { unreadable: error.message };
  }
}
