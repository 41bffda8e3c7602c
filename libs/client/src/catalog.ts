import {
  fromBase64Url,
  toBase64Url,
  type FlattenedJws,
  type JweRecipient,
} from '@cryptomesh/crypto/portable';
import {
  CATALOG_KEY_ID,
  isMeshError,
  retrievalKey,
  signCatalogValue,
  verifyCatalogValue,
  type CatalogAccess,
  type CatalogName,
  type CatalogValue,
  type JsonObject,
} from '@cryptomesh/mesh';
import { openJson, ownRecipients, sealJson, type CatalogAccount } from './catalog-account';
import { CatalogSeen } from './catalog-seen';
import { ClientError, isClientError } from './client-error';
import { portalErrorCode } from './gateway-client';
import { flatJws } from './profile-document';

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
type StoredObject = StoredCatalogObject;

/**
 * The member of each catalog's content that holds its natural key, whose retrieval key is the Id
 * (docs/design/inbound.md "Catalog objects": a contact's Address, an application's name, a service).
 */
export const NATURAL_KEY: Readonly<Record<CatalogName, string>> = {
  contact: 'Address',
  application: 'Application',
  credential: 'Service',
};

/** The catalog key's plaintext: `{"Key": base64url(32 bytes)}`. */
const KEY_MEMBER = 'Key';
/** The device's copy of the catalog key (secret): it never changes once made. */
const KEY_DOCUMENT = 'catalog/key.json';

/**
 * The catalog services of the home portal (000 §3.2; docs/design/inbound.md "Catalog objects") for
 * one device: objects named by their retrieval key, each value signed by this device and encrypted to
 * the account's devices (and its online escrow agent), NOT logged. Everything the portal serves is
 * checked before it is used (`verify.catalog`): signed by a device of the account's verified Personal
 * Profile, the account, catalog and Id asked for, a `Sequence` not below the highest this device saw
 * of that object (kept in the store, catalog-seen.ts), and an object this device saw does not vanish.
 *
 * Not safe for concurrent use on one store (the CLI runs one command at a time). Two devices writing
 * one object at once: the second CatalogUpdate is refused (`catalog.sequence`), nothing is lost.
 */
export class MeshCatalog {
  private key: Uint8Array | undefined;
  private readonly seen: CatalogSeen;

  constructor(readonly account: CatalogAccount) {
    this.seen = new CatalogSeen(account.store, account.doc.accountUdf);
  }

  private get portal(): string {
    return this.account.session.gateway.portal;
  }

  /** The retrieval key of `naturalKey` in `catalog` (an address, an application's name…). */
  async idOf(catalog: CatalogName, naturalKey: string): Promise<string> {
    return retrievalKey(await this.catalogKey(), catalog, naturalKey);
  }

  /** The object of `naturalKey`, verified and decrypted; undefined when it is absent or deleted. */
  async get(catalog: CatalogName, naturalKey: string): Promise<CatalogObject | undefined> {
    const id = await this.idOf(catalog, naturalKey);
    const stored = await this.fetchOne(catalog, id);
    return stored?.state === 'active' ? this.open(catalog, stored) : undefined;
  }

  /** Every active object of `catalog` (not the catalog key), verified and decrypted, by Id. */
  async list(catalog: CatalogName): Promise<CatalogObject[]> {
    await this.catalogKey();
    const out: CatalogObject[] = [];
    for (const stored of await this.fetchAll(catalog))
      if (stored.state === 'active' && !(catalog === 'contact' && stored.id === CATALOG_KEY_ID))
        out.push(await this.open(catalog, stored));
    return out;
  }

  /**
   * Every object of `catalog` as the portal lists it (the catalog key and tombstones included), each
   * value verified (the class comment) but not decrypted.
   */
  async stored(catalog: CatalogName): Promise<StoredCatalogObject[]> {
    return this.fetchAll(catalog);
  }

  /**
   * Writes active object `stored` again, unchanged but for this: `Data` re-encrypted to `recipients`
   * (default: the account's devices and escrow agent now), signed by this device, at the next
   * Sequence. The catalog key object needs no catalog key; any other needs it (to check its Id).
   */
  async reseal(
    catalog: CatalogName,
    stored: StoredCatalogObject,
    recipients?: readonly JweRecipient[],
  ): Promise<CatalogObject> {
    const { content } = await this.open(catalog, stored);
    return this.write(catalog, stored.id, content, stored.value.access, stored, recipients);
  }

  /**
   * The `Access` of every active contact, verified (no decryption needed): what the portal decides
   * by, as this device's own copy — the inbound client applies it again (inbound-receive.ts).
   */
  async contactRules(): Promise<CatalogAccess[]> {
    const rules: CatalogAccess[] = [];
    for (const stored of await this.fetchAll('contact'))
      if (stored.state === 'active' && stored.value.access !== undefined) rules.push(stored.value.access);
    return rules;
  }

  /**
   * Creates or updates the object of `naturalKey`, which MUST be `content`'s NATURAL_KEY member
   * (`usage.invalid` otherwise): `content` encrypted to the account's devices (and
   * escrow agent), `access` in clear (contacts only), signed by this device at the next Sequence.
   */
  async put(
    catalog: CatalogName,
    naturalKey: string,
    content: JsonObject,
    access?: CatalogAccess,
  ): Promise<CatalogObject> {
    if (content[NATURAL_KEY[catalog]] !== naturalKey)
      throw new ClientError(
        'usage.invalid',
        `a ${catalog} object holds its key as "${NATURAL_KEY[catalog]}"`,
        {
          check: 'catalog object',
        },
      );
    const id = await this.idOf(catalog, naturalKey);
    return this.write(catalog, id, content, access);
  }

  /** Deletes the object of `naturalKey` with a signed tombstone; false when it is not active. */
  async delete(catalog: CatalogName, naturalKey: string): Promise<boolean> {
    const id = await this.idOf(catalog, naturalKey);
    const stored = await this.fetchOne(catalog, id);
    if (stored?.state !== 'active') return false;
    const sequence = Math.max(stored.value.sequence, await this.seen.get(catalog, id)) + 1;
    const tombstone = await signCatalogValue(
      {
        account: this.account.doc.accountUdf,
        catalog,
        id,
        sequence,
        created: this.account.session.now(),
        deleted: true,
      },
      this.account.session.keys.signature,
    );
    await this.update(catalog, 'delete', id, tombstone);
    await this.seen.put(catalog, id, sequence);
    return true;
  }

  /**
   * The account's catalog key (000 §3.2.2): this device's copy, else the object `CATALOG_KEY_ID` of
   * `contact` decrypted, else — the first device that needs it — 32 random bytes, created there. A
   * device that was connected after the key was made is not among its recipients: `state.missing`.
   */
  async catalogKey(): Promise<Uint8Array> {
    if (this.key !== undefined) return this.key;
    const kept = await this.keptKey();
    if (kept !== undefined) {
      this.key = kept;
      return kept;
    }
    let stored = await this.fetchOne('contact', CATALOG_KEY_ID);
    if (stored?.state !== 'active') {
      const key = this.account.session.random(32);
      try {
        await this.write('contact', CATALOG_KEY_ID, { [KEY_MEMBER]: toBase64Url(key) }, undefined, stored);
      } catch (error) {
        // Another device made it first: use theirs.
        if (portalErrorCode(error) !== 'persistence.exists') throw error;
      }
      stored = await this.fetchOne('contact', CATALOG_KEY_ID);
      if (stored?.state !== 'active')
        throw new ClientError('verify.catalog', `${this.portal} does not keep the catalog key it accepted`, {
          portal: this.portal,
          check: 'catalog key',
        });
    }
    const content = (await this.open('contact', stored)).content;
    const text = content[KEY_MEMBER];
    const key = typeof text === 'string' ? fromBase64Url(text) : undefined;
    if (key === undefined || key.length !== 32)
      throw new ClientError('verify.catalog', 'the catalog key object does not hold a 32-byte key', {
        portal: this.portal,
        check: 'catalog key',
      });
    await this.account.store.write(
      KEY_DOCUMENT,
      JSON.stringify({ account: this.account.doc.accountUdf, key: toBase64Url(key) }),
      { secret: true },
    );
    this.key = key;
    return key;
  }

  /**
   * After a move whose catalogs could not be carried (catalog-move.ts): writes this device's copy of
   * the catalog key as the key object when the portal holds none, so that every device that kept the
   * key goes on computing the same Ids. False when this device keeps no key or the portal has one.
   */
  async restoreKeptKey(): Promise<boolean> {
    const kept = await this.keptKey();
    if (kept === undefined || (await this.fetchOne('contact', CATALOG_KEY_ID))?.state === 'active')
      return false;
    await this.write('contact', CATALOG_KEY_ID, { [KEY_MEMBER]: toBase64Url(kept) }, undefined);
    return true;
  }

  /** This device's copy of the catalog key (secret), when it keeps one of this account. */
  private async keptKey(): Promise<Uint8Array | undefined> {
    const kept = await this.account.store.read(KEY_DOCUMENT);
    if (kept === undefined) return undefined;
    const parsed = JSON.parse(kept) as { account?: unknown; key?: unknown };
    if (parsed.account !== this.account.doc.accountUdf || typeof parsed.key !== 'string') return undefined;
    const key = fromBase64Url(parsed.key);
    return key?.length === 32 ? key : undefined;
  }

  private async write(
    catalog: CatalogName,
    id: string,
    content: JsonObject,
    access: CatalogAccess | undefined,
    current?: StoredObject,
    recipients: readonly JweRecipient[] = ownRecipients(this.account.doc),
  ): Promise<CatalogObject> {
    const stored = current ?? (await this.fetchOne(catalog, id));
    const sequence = Math.max(stored?.value.sequence ?? 0, await this.seen.get(catalog, id)) + 1;
    const { doc, session } = this.account;
    const value = {
      account: doc.accountUdf,
      catalog,
      id,
      sequence,
      created: session.now(),
      ...(access === undefined ? {} : { access }),
      data: await sealJson(content, recipients),
    };
    const jws = await signCatalogValue(value, session.keys.signature);
    await this.update(catalog, stored === undefined ? 'create' : 'update', id, jws);
    await this.seen.put(catalog, id, sequence);
    return {
      catalog,
      id,
      sequence,
      created: value.created,
      ...(access === undefined ? {} : { access }),
      content,
      device: session.deviceId,
    };
  }

  private async update(catalog: CatalogName, action: string, id: string, value: FlattenedJws): Promise<void> {
    await this.account.session.authenticated('CatalogUpdate', {
      Catalog: catalog,
      Action: action,
      Id: id,
      Value: flatJws(value),
    });
  }

  private async open(catalog: CatalogName, stored: StoredObject): Promise<CatalogObject> {
    const { value } = stored;
    const content = await openJson(
      value.data!,
      this.account.session,
      `${catalog} object ${stored.id}`,
      this.portal,
    );
    // The Id must be the retrieval key of the natural key inside (not for the catalog key itself,
    // which this is how the other Ids are computed from): a portal cannot move an object to another key.
    if (!(catalog === 'contact' && stored.id === CATALOG_KEY_ID)) {
      const natural = content[NATURAL_KEY[catalog]];
      if (typeof natural !== 'string' || (await this.idOf(catalog, natural)) !== stored.id)
        throw this.refused(`serves as ${catalog} object ${stored.id} one whose key is another`, {
          id: stored.id,
        });
    }
    return {
      catalog,
      id: stored.id,
      sequence: value.sequence,
      created: value.created,
      ...(value.access === undefined ? {} : { access: value.access }),
      content,
      device: stored.device,
    };
  }

  /** CatalogGet of one object; undefined when the portal has none (checked against what was seen). */
  private async fetchOne(catalog: CatalogName, id: string): Promise<StoredObject | undefined> {
    const fields = await this.account.session.authenticated('CatalogGet', { Catalog: catalog, Id: id });
    const objects = await this.verifyPage(catalog, fields, id);
    const found = objects.find((o) => o.id === id);
    if (found === undefined && (await this.seen.get(catalog, id)) > 0)
      throw this.refused(`serves no ${catalog} object ${id}, which this device saw`, { id });
    return found;
  }

  /** Every object of `catalog`, following `Next`; every object this device saw must be among them. */
  private async fetchAll(catalog: CatalogName): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    let after: string | undefined;
    for (;;) {
      const fields = await this.account.session.authenticated('CatalogGet', {
        Catalog: catalog,
        ...(after === undefined ? {} : { After: after }),
      });
      out.push(...(await this.verifyPage(catalog, fields)));
      if (typeof fields.Next !== 'string' || fields.Next === '' || fields.Next === after) break;
      after = fields.Next;
    }
    const ids = new Set(out.map((o) => o.id));
    for (const id of await this.seen.ids(catalog))
      if (!ids.has(id)) throw this.refused(`lists no ${catalog} object ${id}, which this device saw`, { id });
    return out;
  }

  private async verifyPage(
    catalog: CatalogName,
    fields: Record<string, unknown>,
    only?: string,
  ): Promise<StoredObject[]> {
    const objects = fields.Objects;
    if (!Array.isArray(objects))
      throw new ClientError('verify.answer', `${this.portal}: CatalogGet has no "Objects" list`, {
        portal: this.portal,
        check: 'CatalogGet answer',
      });
    const out: StoredObject[] = [];
    for (const item of objects as unknown[]) {
      const o = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
      if (typeof o.Id !== 'string' || (o.State !== 'active' && o.State !== 'inactive'))
        throw new ClientError('verify.answer', `${this.portal}: a CatalogGet object without Id or State`, {
          portal: this.portal,
          check: 'CatalogGet answer',
        });
      if (only !== undefined && o.Id !== only) continue;
      out.push(await this.verifyStored(catalog, o.Id, o.State, o.Value));
    }
    return out;
  }

  /** Every check of a served value (the class comment); remembers its Sequence once it passed. */
  private async verifyStored(
    catalog: CatalogName,
    id: string,
    state: 'active' | 'inactive',
    raw: unknown,
  ): Promise<StoredObject> {
    const evidence = { id, value: raw as Record<string, unknown> };
    let value: CatalogValue;
    let device: string;
    let jws: FlattenedJws;
    try {
      jws = (typeof raw === 'string' ? JSON.parse(raw) : raw) as FlattenedJws;
      const verified = await verifyCatalogValue(jws, this.account.doc.personal.profile);
      value = verified.value;
      device = verified.device.id;
    } catch (cause) {
      if (!isMeshError(cause) && !(cause instanceof SyntaxError)) throw cause;
      throw this.refused(
        `serves ${catalog} object ${id} that does not verify: ${cause.message}`,
        evidence,
        cause,
      );
    }
    const { doc } = this.account;
    if (value.account !== doc.accountUdf || value.catalog !== catalog || value.id !== id)
      throw this.refused(
        `serves as ${catalog} object ${id} the value of ${value.catalog} ${value.id} of ${value.account}`,
        evidence,
      );
    if ((state === 'active') === value.deleted)
      throw this.refused(
        `serves ${catalog} object ${id} as ${state} with ${value.deleted ? 'a tombstone' : 'a value'}`,
        evidence,
      );
    const seen = await this.seen.get(catalog, id);
    if (value.sequence < seen)
      throw this.refused(
        `serves ${catalog} object ${id} at Sequence ${value.sequence}; this device saw ${seen}`,
        {
          ...evidence,
          seen,
        },
      );
    await this.seen.put(catalog, id, value.sequence);
    return { id, state, value, jws: flatJws(jws), device };
  }

  private refused(why: string, evidence: Record<string, unknown>, cause?: unknown): ClientError {
    return new ClientError('verify.catalog', `${this.portal} ${why}`, {
      portal: this.portal,
      check: 'catalog value',
      evidence,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

/** True when `error` is a refusal of the catalog by the portal with `code`. */
export function isCatalogRefusal(error: unknown, code: string): boolean {
  return isClientError(error, 'portal.refused') && portalErrorCode(error) === code;
}
