import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  applyCatalogEvent,
  CATALOG_NAMES,
  isRetrievalKey,
  verifyCatalogValue,
  type CatalogAction,
  type CatalogName,
} from '@cryptomesh/mesh';
import { catalogUsage, lockCatalogObject, putCatalogObject } from '@cryptomesh/persistence';
import { AUTHENTICATION, RequestAuthenticator } from '../auth/request-authenticator';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { checkCatalogQuota } from '../inbound/catalog-quota';
import type { MeshResponseFields } from '../protocol/envelope';
import { GatewayError } from '../protocol/gateway-error';
import { MESH_ERROR_MAP, mapMeshErrors } from '../protocol/mesh-error-map';
import { checkProfileSize, RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';

const ACTIONS: readonly CatalogAction[] = ['create', 'update', 'delete'];

/**
 * `CatalogUpdate` (authenticated, NOT logged; docs/design/inbound.md "Catalog objects"): one event of
 * the persistence model (000 §3.2.1) on one object of the account's catalogs. `Value` is the signed
 * value — or, for `delete`, the signed tombstone — by a device of the account's current Personal
 * Profile, naming this account, catalog and Id, its `Sequence` above the stored one. The portal
 * cannot read `Data`; it keeps the value as sent, and a contact's `Access` for access control.
 * Checked, written and the nonce recorded in one transaction, under the account's catalog lock.
 */
@Injectable()
export class CatalogUpdateTransaction implements Transaction {
  readonly name = 'CatalogUpdate';

  constructor(
    private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow([
      'Account',
      'Catalog',
      'Action',
      'Id',
      'Value',
      AUTHENTICATION,
    ]);
    const catalog = readCatalogName(f);
    const action = f.string('Action') as CatalogAction;
    if (!ACTIONS.includes(action)) f.fail(`"Action" must be one of ${ACTIONS.join(', ')}`);
    const id = readRetrievalKey(f, 'Id');
    const raw = f.object('Value');
    checkProfileSize(raw, this.config.MAX_PROFILE_BYTES, 'the catalog value');
    const auth = await this.authenticator.authenticate(f, this.name, context);

    const { value } = await mapMeshErrors(
      () => verifyCatalogValue(raw, auth.state.personal.profile),
      'the Value',
    );
    if (value.account !== auth.name.udf)
      throw mismatch('catalog.wrong-account', `the Value is for the account ${value.account}, not this one`);
    if (value.catalog !== catalog)
      throw mismatch('catalog.wrong-catalog', `the Value is of the catalog ${value.catalog}, not ${catalog}`);
    if (value.id !== id) throw mismatch('catalog.id-mismatch', `the Value's Id is ${value.id}, not ${id}`);
    // Stored as the three members of the JWS, whatever else the client's JSON had (readCatalogValue
    // refused other members anyway).
    const text = JSON.stringify({
      protected: raw['protected'],
      payload: raw['payload'],
      signature: raw['signature'],
    });
    const bytes = Buffer.byteLength(text, 'utf8');

    return this.dataSource.transaction(async (manager) => {
      const stored = await lockCatalogObject(manager, auth.name.udf, catalog, id);
      const outcome = applyCatalogEvent(stored, action, value);
      if (!outcome.ok)
        throw new GatewayError(MESH_ERROR_MAP[outcome.code], outcome.detail, { reason: outcome.code });
      const state = outcome.next.status;
      checkCatalogQuota(
        await catalogUsage(manager, auth.name.udf),
        stored === undefined ? undefined : Buffer.byteLength(stored.value, 'utf8'),
        bytes,
        this.config,
      );
      await putCatalogObject(manager, {
        account: auth.name.udf,
        catalog,
        id,
        state,
        sequence: value.sequence,
        value: text,
        ...(value.access === undefined ? {} : { access: value.access }),
      });
      await this.authenticator.recordNonce(manager, auth.name.udf, auth.claims);
      return { Catalog: catalog, Id: id, State: state, Sequence: value.sequence };
    });
  }
}

/** `Catalog`: one of the catalog names, else `request.invalid`. */
export function readCatalogName(f: RequestFields): CatalogName {
  const catalog = f.string('Catalog');
  if (!(CATALOG_NAMES as readonly string[]).includes(catalog))
    f.fail(`"Catalog" must be one of ${CATALOG_NAMES.join(', ')}`);
  return catalog as CatalogName;
}

/** A retrieval key (43 base64url characters), else `request.invalid`. */
export function readRetrievalKey(f: RequestFields, name: string): string {
  const id = f.string(name);
  if (!isRetrievalKey(id)) f.fail(`"${name}" must be a retrieval key (43 characters of A–Z a–z 0–9 - _)`);
  return id;
}

function mismatch(reason: string, detail: string): GatewayError {
  return new GatewayError('catalog.invalid', detail, { reason });
}
