import type { FlattenedJws } from '@cryptomesh/crypto/portable';
import {
  isMeshError,
  verifyCatalogValue,
  type CatalogAccess,
  type CatalogName,
  type CatalogValue,
  type JsonObject,
  type PersonalProfile,
} from '@cryptomesh/mesh';
import type { ClientError } from './client-error';

/** The shapes of catalog objects as the client hands them out, and the check of a served value. */

/** One catalog object as this device accepted it: verified, decrypted. */
export interface CatalogObject {
  readonly catalog: CatalogName;
  /** The retrieval key. */
  readonly id: string;
  readonly sequence: number;
  readonly created: number;
  readonly access?: CatalogAccess;
  /** The decrypted `Data`. */
  readonly content: JsonObject;
  /** The device that signed it (its signature key's UDF). */
  readonly device: string;
}

/** An object as CatalogGet lists it, its value verified but not decrypted. */
export interface StoredCatalogObject {
  readonly id: string;
  readonly state: 'active' | 'inactive';
  readonly value: CatalogValue;
  /** The signed value (or tombstone) exactly as the portal keeps it. */
  readonly jws: FlattenedJws;
  readonly device: string;
}

/**
 * The member of each catalog's content that holds its natural key, whose retrieval key is the Id
 * (docs/design/inbound.md "Catalog objects": a contact's Address, an application's name, a service).
 */
export const NATURAL_KEY: Readonly<Record<CatalogName, string>> = {
  contact: 'Address',
  application: 'Application',
  credential: 'Service',
};

/**
 * Checks one value a portal served as `expect.catalog` object `expect.id` in state `expect.state`:
 * signed by a device of `personal`, of the account, catalog and Id asked for, a tombstone exactly when
 * inactive. Throws `refused(why)` otherwise. (The Sequence memory is the caller's: catalog.ts.)
 */
export async function verifyStoredValue(
  raw: unknown,
  expect: {
    readonly account: string;
    readonly catalog: CatalogName;
    readonly id: string;
    readonly state: 'active' | 'inactive';
  },
  personal: PersonalProfile,
  refused: (why: string, cause?: unknown) => ClientError,
): Promise<{ value: CatalogValue; device: string; jws: FlattenedJws }> {
  const { catalog, id, state } = expect;
  let value: CatalogValue;
  let device: string;
  let jws: FlattenedJws;
  try {
    jws = (typeof raw === 'string' ? JSON.parse(raw) : raw) as FlattenedJws;
    const verified = await verifyCatalogValue(jws, personal);
    value = verified.value;
    device = verified.device.id;
  } catch (cause) {
    if (!isMeshError(cause) && !(cause instanceof SyntaxError)) throw cause;
    throw refused(`serves ${catalog} object ${id} that does not verify: ${cause.message}`, cause);
  }
  if (value.account !== expect.account || value.catalog !== catalog || value.id !== id)
    throw refused(
      `serves as ${catalog} object ${id} the value of ${value.catalog} ${value.id} of ${value.account}`,
    );
  if ((state === 'active') === value.deleted)
    throw refused(
      `serves ${catalog} object ${id} as ${state} with ${value.deleted ? 'a tombstone' : 'a value'}`,
    );
  return { value, device, jws };
}
