import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import {
  accountUdf,
  isCryptoError,
  toBase64Url,
  utf8,
  verifyJws,
  type FlattenedJws,
  type JwsSigningKey,
} from '@cryptomesh/crypto/portable';
import { JsonReader, isJsonObject, type JsonObject, type JsonValue } from './json';
import { MeshError } from './mesh-error';
import { openEnvelope, signPayload } from './profile-envelope';
import { findDevice } from './personal-profile';
import type { ObjectState } from './persistence-model';
import type { DeviceEntry, PersonalProfile } from './profile-types';

/**
 * Catalog objects (000 §3.2; docs/design/inbound.md "Catalog objects"): a user's own data, kept by the
 * home portal and NOT logged. A value is a JWS signed by a device of the account, whose `Data` is a
 * JWE to the account's devices; the portal reads only the envelope fields (and a contact's `Access`).
 */
export const CATALOG_VALUE_TYPE = 'application/mmm-catalog+json';
export const CATALOG_NAMES = ['contact', 'application', 'credential'] as const;
export type CatalogName = (typeof CATALOG_NAMES)[number];
/** The retrieval key of the object that holds the account's catalog key (catalog `contact`). */
export const CATALOG_KEY_ID = 'A'.repeat(43);
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export type AccessRule = 'allow' | 'block';

/** A contact's access-control member: in clear, signed; the only catalog content a portal reads. */
export interface CatalogAccess {
  /** The contact's account UDF (`accountUdf(address)`). */
  readonly account: string;
  /**
   * The Master Profile UDF the contact was verified with: required to allow; a block without it blocks
   * every owner of the address.
   */
  readonly master?: string;
  readonly rule: AccessRule;
}

export interface CatalogValue {
  readonly account: string;
  readonly catalog: CatalogName;
  readonly id: string;
  readonly sequence: number;
  readonly created: number;
  readonly access?: CatalogAccess;
  /** The JWE (general JSON serialisation) of the object's content; absent in a tombstone. */
  readonly data?: JsonObject;
  /** A tombstone: the signed value of a `delete`. */
  readonly deleted: boolean;
}

export type CatalogValueInput = Omit<CatalogValue, 'deleted'> & { readonly deleted?: boolean };

export type CatalogAction = 'create' | 'update' | 'delete';

/**
 * The retrieval key (000 §3.2.2) of `naturalKey` in `catalog`: base64url(HMAC-SHA256(K, `catalog\n
 * naturalKey`)), 43 characters, K the account's 32-byte catalog key. The portal can look it up
 * without learning the natural key.
 */
export function retrievalKey(catalogKey: Uint8Array, catalog: CatalogName, naturalKey: string): string {
  if (catalogKey.length !== 32) throw new MeshError('input.invalid', 'a catalog key is 32 bytes');
  return toBase64Url(hmac(sha256, catalogKey, utf8(`${catalog}\n${naturalKey}`)));
}

/** True for a well-formed retrieval key (43 base64url characters). */
export function isRetrievalKey(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id);
}

function payloadOf(value: CatalogValueInput): JsonObject {
  const payload: Record<string, JsonValue> = {
    Account: value.account,
    Catalog: value.catalog,
    Id: value.id,
    Sequence: value.sequence,
    Created: value.created,
  };
  if (value.access !== undefined) {
    const access: Record<string, JsonValue> = { Account: value.access.account };
    if (value.access.master !== undefined) access['Master'] = value.access.master;
    access['Rule'] = value.access.rule;
    payload['Access'] = access;
  }
  if (value.data !== undefined) payload['Data'] = value.data;
  if (value.deleted === true) payload['Deleted'] = true;
  return payload;
}

/** Signs a catalog value (or tombstone) with a device key; its form is checked first ('catalog.invalid'). */
export async function signCatalogValue(value: CatalogValueInput, key: JwsSigningKey): Promise<FlattenedJws> {
  const payload = payloadOf(value);
  readPayload(payload);
  return signPayload(payload, CATALOG_VALUE_TYPE, key);
}

function readAccess(reader: JsonReader): CatalogAccess {
  reader.members(['Account', 'Master', 'Rule']);
  const account = reader.udf('Account');
  const rule = reader.string('Rule');
  if (rule !== 'allow' && rule !== 'block') reader.fail('"Rule" must be "allow" or "block"');
  const master = reader.has('Master') ? reader.udf('Master') : undefined;
  if (rule === 'allow' && master === undefined)
    reader.fail(
      'an allow rule names the contact\'s Master Profile ("Master"): an address alone may change owner',
    );
  return master === undefined ? { account, rule } : { account, master, rule };
}

function readPayload(payload: Record<string, unknown>): CatalogValue {
  const r = JsonReader.object(payload, 'the catalog value', 'catalog.invalid').members([
    'Account',
    'Catalog',
    'Id',
    'Sequence',
    'Created',
    'Access',
    'Data',
    'Deleted',
  ]);
  const account = r.udf('Account');
  const catalog = r.string('Catalog');
  if (!(CATALOG_NAMES as readonly string[]).includes(catalog))
    r.fail(`"Catalog" must be one of ${CATALOG_NAMES.join(', ')}`);
  const id = r.string('Id');
  if (!ID_PATTERN.test(id)) r.fail('"Id" must be a retrieval key (43 base64url characters)');
  const sequence = r.integer('Sequence');
  if (sequence < 1) r.fail('"Sequence" must be at least 1');
  const created = r.integer('Created');
  const deleted = r.has('Deleted');
  if (deleted && r.raw('Deleted') !== true) r.fail('"Deleted" is only ever true');
  const access = r.has('Access') ? readAccess(r.object('Access')) : undefined;
  if (access !== undefined && catalog !== 'contact') r.fail('only a contact carries "Access"');
  if (deleted && (access !== undefined || r.has('Data')))
    r.fail('a tombstone carries neither "Access" nor "Data"');
  let data: JsonObject | undefined;
  if (r.has('Data')) {
    const raw = r.raw('Data');
    if (!isJsonObject(raw) || !Array.isArray(raw['recipients']) || typeof raw['ciphertext'] !== 'string')
      r.fail('"Data" must be a JWE in the general JSON serialisation');
    data = raw as JsonObject;
  } else if (!deleted) r.fail('a value that is not a tombstone carries "Data"');
  return {
    account,
    catalog: catalog as CatalogName,
    id,
    sequence,
    created,
    ...(access === undefined ? {} : { access }),
    ...(data === undefined ? {} : { data }),
    deleted,
  };
}

/** Reads a catalog value's form without verifying its signature. Throws MeshError 'catalog.invalid'. */
export function readCatalogValue(jws: unknown): { value: CatalogValue; kid: string } {
  const opened = openEnvelope(jws, 'the catalog value', 'catalog.invalid');
  if (opened.type !== CATALOG_VALUE_TYPE)
    throw new MeshError('catalog.invalid', `the catalog value's typ must be ${CATALOG_VALUE_TYPE}`);
  return { value: readPayload(opened.payload), kid: opened.kid };
}

/**
 * Verifies a catalog value: its form, a signer that is a device of `personal` ('catalog.unknown-device')
 * and the signature ('catalog.bad-signature'). Whether the value belongs where it is stored (account,
 * catalog, id, sequence) is the caller's check.
 */
export async function verifyCatalogValue(
  jws: unknown,
  personal: PersonalProfile,
): Promise<{ value: CatalogValue; device: DeviceEntry }> {
  const { value, kid } = readCatalogValue(jws);
  const device = findDevice(personal, kid);
  if (device === undefined)
    throw new MeshError('catalog.unknown-device', `${kid} is not a device of ${personal.id}`);
  await verifyWith(jws, device, 'catalog.bad-signature', 'the catalog value');
  return { value, device };
}

/** Verifies `jws` with a device's signature key; `code` when it does not verify. */
export async function verifyWith(
  jws: unknown,
  device: DeviceEntry,
  code: 'catalog.bad-signature' | 'inbound.bad-signature',
  what: string,
): Promise<void> {
  const { algorithm, publicKey } = device.signature;
  if (algorithm !== 'Ed25519' && algorithm !== 'Ed448')
    throw new MeshError(code, `${what} is signed by a key that is not EdDSA`);
  try {
    await verifyJws(jws, { algorithm, publicKey });
  } catch (cause) {
    if (!isCryptoError(cause)) throw cause;
    throw new MeshError(code, `${what}'s signature does not verify`, { cause });
  }
}

export type CatalogOutcome =
  | { readonly ok: true; readonly next: ObjectState<CatalogValue> }
  | {
      readonly ok: false;
      readonly code:
        | 'persistence.exists'
        | 'persistence.undefined'
        | 'persistence.inactive'
        | 'catalog.sequence'
        | 'catalog.invalid';
      readonly detail: string;
    };

/**
 * One event of the persistence model on a catalog object, exactly as 000 §3.2.1 states it: `create`
 * only from undefined; `update` in ANY state (re-adding a removed contact); `delete` only from active,
 * with a tombstone. Unlike profiles (persistence-model.ts) an update may revive: a catalog object's
 * value is the user's, and nothing downstream re-checks its creation. Then `sequence` of the stored
 * value (active or tombstone) must be exceeded (a create of an existing object is `exists` first). `value.deleted` must match the action ('catalog.invalid').
 * Pure, total.
 */
export function applyCatalogEvent(
  current: { readonly state: 'active' | 'inactive'; readonly sequence: number } | undefined,
  action: CatalogAction,
  value: CatalogValue,
): CatalogOutcome {
  if ((action === 'delete') !== value.deleted)
    return {
      ok: false,
      code: 'catalog.invalid',
      detail:
        action === 'delete' ? 'a delete carries a tombstone' : `a ${action} carries a value, not a tombstone`,
    };
  if (action === 'create' && current !== undefined)
    return { ok: false, code: 'persistence.exists', detail: `create of an object that is ${current.state}` };
  if (current !== undefined && value.sequence <= current.sequence)
    return {
      ok: false,
      code: 'catalog.sequence',
      detail: `Sequence ${value.sequence} does not exceed the stored ${current.sequence}`,
    };
  if (action === 'delete') {
    if (current === undefined)
      return { ok: false, code: 'persistence.undefined', detail: 'delete of an object never created' };
    if (current.state === 'inactive')
      return { ok: false, code: 'persistence.inactive', detail: 'delete of a deleted object' };
    return { ok: true, next: { status: 'inactive' } };
  }
  return { ok: true, next: { status: 'active', value } };
}

/** The account UDF a contact's `Access` names for `address` (convenience for clients). */
export function contactAccount(address: string): string {
  return accountUdf(address);
}
