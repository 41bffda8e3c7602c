import { CATALOG_NAMES, readCatalogValue, signCatalogValue, type CatalogName } from '@cryptomesh/mesh';
import { MeshCatalog, type StoredCatalogObject } from './catalog';
import { ownRecipients, sealJson, type CatalogAccount } from './catalog-account';
import { CatalogSeen } from './catalog-seen';
import { ClientError } from './client-error';
import type { GatewayFields } from './gateway-client';
import { flatJws } from './profile-document';

/** Every object of every catalog of the old home, each value verified there (MeshCatalog.stored). */
export type CatalogSnapshot = ReadonlyMap<CatalogName, readonly StoredCatalogObject[]>;

/** What a move did to the catalogs (`mesh portal switch` shows it). */
export type CatalogMoveOutcome =
  /** Read at the old home and written at the new one: `objects` values, `tombstones` deletions. */
  | { readonly carried: true; readonly objects: number; readonly tombstones: number }
  /**
   * The old home could not be read (unreachable, or the account already moved): the new home keeps
   * what it holds (another device may have carried it); `lost` objects this device saw are not there
   * and are forgotten; `keyRestored` when this device wrote its copy of the catalog key there.
   */
  | { readonly carried: false; readonly lost: number; readonly keyRestored: boolean };

/** Reads every catalog object at `account`'s home (the old one), verified; a bad value throws. */
export async function snapshotCatalogs(account: CatalogAccount): Promise<CatalogSnapshot> {
  const catalog = new MeshCatalog(account);
  const out = new Map<CatalogName, StoredCatalogObject[]>();
  for (const name of CATALOG_NAMES) out.set(name, await catalog.stored(name));
  return out;
}

/**
 * Writes `snapshot` at `account`'s home (the new one) with the very values the old home kept (signed
 * by a device of the same Personal Profile, which the new portal verifies them against), so that the
 * other devices find there what they saw, Sequences included. Resumable: an object the new home holds
 * at the same or a higher Sequence is left alone. A tombstone can only be written over an active
 * object (000 §3.2.1: delete only when active), so an object the new home lacks is first created with
 * a placeholder value at the tombstone's Sequence − 1 — empty content, signed by this device — then
 * deleted with the tombstone itself; a crash between the two leaves the placeholder, which every read
 * refuses (its Id is not the retrieval key of its content) until the switch is run again.
 */
export async function carryCatalogs(
  account: CatalogAccount,
  snapshot: CatalogSnapshot,
): Promise<CatalogMoveOutcome> {
  let objects = 0;
  let tombstones = 0;
  for (const [catalog, stored] of snapshot) {
    const held = await heldSequences(account, catalog);
    for (const object of stored) {
      const there = held.get(object.id);
      const sequence = object.value.sequence;
      if (there !== undefined && there.sequence >= sequence) continue;
      if (object.state === 'active') {
        await update(account, catalog, there === undefined ? 'create' : 'update', object);
        objects++;
        continue;
      }
      if (there?.state !== 'active') {
        if (sequence < 2) continue; // no Sequence below it to hold a placeholder: nothing to delete
        await update(account, catalog, there === undefined ? 'create' : 'update', {
          ...object,
          jws: await placeholder(account, catalog, object.id, sequence - 1),
        });
      }
      await update(account, catalog, 'delete', object);
      tombstones++;
    }
  }
  return { carried: true, objects, tombstones };
}

/**
 * The move's fallback when the old home cannot be read: this device's own knowledge is the catalog
 * key only (it keeps no copy of the objects). The objects this device saw that the new home does not
 * list are forgotten (`lost`, shown to the user) — else every later read would refuse the new home —
 * and this device's copy of the catalog key is written there when the new home has none, so that the
 * devices that kept the key go on using the same Ids.
 */
export async function reconcileLostCatalogs(account: CatalogAccount): Promise<CatalogMoveOutcome> {
  const seen = new CatalogSeen(account.store, account.doc.accountUdf);
  let lost = 0;
  for (const catalog of CATALOG_NAMES)
    lost += await seen.forgetAllBut(catalog, new Set((await heldSequences(account, catalog)).keys()));
  const keyRestored = await new MeshCatalog(account).restoreKeptKey();
  return { carried: false, lost, keyRestored };
}

/** What the home lists of `catalog` (Id → State, Sequence): to resume, not trusted for anything else. */
async function heldSequences(
  account: CatalogAccount,
  catalog: CatalogName,
): Promise<Map<string, { state: string; sequence: number }>> {
  const out = new Map<string, { state: string; sequence: number }>();
  let after: string | undefined;
  for (;;) {
    const fields = await account.session.authenticated('CatalogGet', {
      Catalog: catalog,
      ...(after === undefined ? {} : { After: after }),
    });
    if (!Array.isArray(fields.Objects))
      throw new ClientError(
        'verify.answer',
        `${account.session.gateway.portal}: CatalogGet has no "Objects" list`,
        {
          portal: account.session.gateway.portal,
          check: 'CatalogGet answer',
        },
      );
    for (const o of fields.Objects as GatewayFields[]) {
      let sequence = 0;
      try {
        sequence = readCatalogValue(typeof o.Value === 'string' ? JSON.parse(o.Value) : o.Value).value
          .sequence;
      } catch {
        // A value that does not read: written over (Sequence 0 is below any).
      }
      if (typeof o.Id === 'string') out.set(o.Id, { state: String(o.State), sequence });
    }
    if (typeof fields.Next !== 'string' || fields.Next === '' || fields.Next === after) break;
    after = fields.Next;
  }
  return out;
}

async function update(
  account: CatalogAccount,
  catalog: CatalogName,
  action: 'create' | 'update' | 'delete',
  object: Pick<StoredCatalogObject, 'id' | 'jws'>,
): Promise<void> {
  await account.session.authenticated('CatalogUpdate', {
    Catalog: catalog,
    Action: action,
    Id: object.id,
    Value: flatJws(object.jws),
  });
}

async function placeholder(account: CatalogAccount, catalog: CatalogName, id: string, sequence: number) {
  const { doc, session } = account;
  return signCatalogValue(
    {
      account: doc.accountUdf,
      catalog,
      id,
      sequence,
      created: session.now(),
      data: await sealJson({}, ownRecipients(doc)),
    },
    session.keys.signature,
  );
}
