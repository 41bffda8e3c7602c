import { accountUdf, normaliseAccountAddress } from '@cryptomesh/crypto/portable';
import type { CatalogAccess, JsonObject } from '@cryptomesh/mesh';
import type { CatalogObject, MeshCatalog } from './catalog';
import { ClientError } from './client-error';

/** How far a contact goes (docs/design/inbound.md "Catalog objects"). */
export type ContactTrust = 'accepted' | 'requested' | 'blocked';

/**
 * A contact: the decrypted `{Address, Master, Trust, Name?, Note?}` of a `contact` object, with the
 * `Access` the portal decides by: an allow rule names the Master Profile this device proved for the
 * address (an address may change owner); a block names none (every owner of the address).
 */
export interface Contact {
  readonly address: string;
  /** The Master Profile id this device last proved for the address. */
  readonly master: string;
  readonly trust: ContactTrust;
  readonly name?: string;
  readonly note?: string;
  readonly access?: CatalogAccess;
  readonly sequence: number;
  /** When this value was written (unix ms). */
  readonly updated: number;
}

/**
 * What a contact is set to; the Access follows from `trust`: blocked → block (every owner of the
 * address), else allow pinned to `master`, which MUST be a Master Profile this device proved.
 */
export interface ContactInput {
  readonly address: string;
  readonly master: string;
  readonly trust: ContactTrust;
  readonly name?: string;
  readonly note?: string;
}

/** The normalised address, or `usage.invalid`. */
export function contactAddress(address: string): string {
  try {
    return normaliseAccountAddress(address);
  } catch (cause) {
    throw new ClientError('usage.invalid', `${JSON.stringify(address)} is not an account address`, {
      check: 'address',
      cause,
    });
  }
}

/** The contacts of the account (the catalog key excluded), verified and decrypted, by address. */
export async function listContacts(catalog: MeshCatalog): Promise<Contact[]> {
  const contacts = (await catalog.list('contact')).map((o) => contactOf(o));
  return contacts
    .filter((c): c is Contact => c !== undefined)
    .sort((a, b) => (a.address < b.address ? -1 : 1));
}

/** The contact of `address`, or undefined. */
export async function getContact(catalog: MeshCatalog, address: string): Promise<Contact | undefined> {
  const object = await catalog.get('contact', contactAddress(address));
  return object === undefined ? undefined : contactOf(object);
}

/** Writes the contact (create or update). The natural key of a contact is its normalised address. */
export async function putContact(catalog: MeshCatalog, input: ContactInput): Promise<Contact> {
  const address = contactAddress(input.address);
  const data: JsonObject = {
    Address: address,
    Master: input.master,
    Trust: input.trust,
    ...(input.name === undefined ? {} : { Name: input.name }),
    ...(input.note === undefined ? {} : { Note: input.note }),
  };
  const access: CatalogAccess =
    input.trust === 'blocked'
      ? { account: accountUdf(address), rule: 'block' }
      : { account: accountUdf(address), master: input.master, rule: 'allow' };
  const written = await catalog.put('contact', address, data, access);
  return contactOf(written)!;
}

/** Deletes the contact of `address`; false when there was none. */
export async function removeContact(catalog: MeshCatalog, address: string): Promise<boolean> {
  return catalog.delete('contact', contactAddress(address));
}

/**
 * A catalog object read as a contact; undefined for an object that is no contact of this shape (its
 * Data names no address, or its Access another account than its address's) — written by another
 * client version, not shown rather than trusted.
 */
function contactOf(object: CatalogObject): Contact | undefined {
  const c = object.content;
  const { Address, Master, Trust, Name, Note } = c;
  if (typeof Address !== 'string' || typeof Master !== 'string') return undefined;
  if (Trust !== 'accepted' && Trust !== 'requested' && Trust !== 'blocked') return undefined;
  let account: string;
  try {
    account = accountUdf(Address);
  } catch {
    return undefined;
  }
  if (object.access !== undefined && object.access.account !== account) return undefined;
  return {
    address: Address,
    master: Master,
    trust: Trust,
    ...(typeof Name === 'string' ? { name: Name } : {}),
    ...(typeof Note === 'string' ? { note: Note } : {}),
    ...(object.access === undefined ? {} : { access: object.access }),
    sequence: object.sequence,
    updated: object.created,
  };
}
