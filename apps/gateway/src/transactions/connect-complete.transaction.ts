import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  decideCatalogConnection,
  readCatalogConnection,
  type CatalogConnection,
} from '@cryptomesh/persistence';
import { AUTHENTICATION, RequestAuthenticator } from '../auth/request-authenticator';
import { jwsJson } from '../catalog/catalog-state';
import { RecordCommitter } from '../catalog/record-committer';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import type { MeshResponseFields } from '../protocol/envelope';
import { GatewayError } from '../protocol/gateway-error';
import {
  checkProfileSize,
  readAccountName,
  RequestFields,
  type AccountName,
} from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';
import { AUTHORISATION, readRecord } from './record-request';

/**
 * `ConnectComplete` (administrator only): the decision on a pending connection request.
 * - `Accept: true` is logged: the request carries the updated Personal Profile listing the new
 *   device and the device's own profile — exactly the one it submitted — authorised by an
 *   administrator device as a ConnectComplete record (mesh-model.md "Records"). The catalog change,
 *   the decision and the queued entry commit together.
 * - `Accept: false` is gateway state only (not logged), authenticated like any unlogged request.
 */
@Injectable()
export class ConnectCompleteTransaction implements Transaction {
  readonly name = 'ConnectComplete';

  constructor(
    private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly authenticator: RequestAuthenticator,
    private readonly committer: RecordCommitter,
  ) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name);
    const accept = f.boolean('Accept');
    return accept ? this.accept(f, context) : this.reject(f, context);
  }

  private async accept(f: RequestFields, context: RequestContext): Promise<MeshResponseFields> {
    f.allow(['Account', 'RequestId', 'Accept', 'Personal', 'Device', AUTHORISATION]);
    const name = readAccountName(f.string('Account'));
    const id = f.requestId('RequestId');
    const members = { Personal: f.object('Personal'), Device: f.object('Device') };
    checkProfileSize(members.Personal, this.config.MAX_PROFILE_BYTES, 'the Personal Profile');
    checkProfileSize(members.Device, this.config.MAX_PROFILE_BYTES, 'the Device Profile');
    const connection = await pending(this.dataSource.manager, name, id);
    const record = await readRecord('ConnectComplete', name, members, f.object(AUTHORISATION));
    if (record.operation !== 'ConnectComplete') throw new Error('unreachable: parsed another operation');
    if (!sameJws(jwsJson(record.device), connection.device))
      throw new GatewayError('publish.invalid', `the Device Profile is not the one request ${id} submitted`, {
        reason: 'connect.device-mismatch',
      });
    const state = await this.committer.commit(name, record, context, {
      inTransaction: async (manager, next) => {
        const decided = await decideCatalogConnection(manager, id, {
          status: 'accepted',
          personal: jwsJson(next.personal),
        });
        if (!decided) throw alreadyDecided(id);
      },
    });
    return { Account: name.address, RequestId: id, Result: 'accepted', Personal: jwsJson(state.personal) };
  }

  private async reject(f: RequestFields, context: RequestContext): Promise<MeshResponseFields> {
    f.allow(['Account', 'RequestId', 'Accept', AUTHENTICATION]);
    const id = f.requestId('RequestId');
    const auth = await this.authenticator.authenticate(f, this.name, context, { administrator: true });
    await pending(this.dataSource.manager, auth.name, id);
    await this.dataSource.transaction(async (manager) => {
      if (!(await decideCatalogConnection(manager, id, { status: 'rejected' }))) throw alreadyDecided(id);
      await this.authenticator.recordNonce(manager, auth.name.udf, auth.claims);
    });
    return { Account: auth.name.address, RequestId: id, Result: 'rejected' };
  }
}

/** The pending request `id` of the account; `not-found` or `persistence.conflict` (decided) otherwise. */
async function pending(manager: EntityManager, name: AccountName, id: string): Promise<CatalogConnection> {
  const connection = await readCatalogConnection(manager, name.udf, id);
  if (connection === undefined)
    throw new GatewayError('not-found', `no connection request ${id} for ${name.address}`);
  if (connection.status !== 'pending') throw alreadyDecided(id);
  return connection;
}

function alreadyDecided(id: string): GatewayError {
  return new GatewayError('persistence.conflict', `connection request ${id} was already decided`, {
    reason: 'connect.decided',
  });
}

function sameJws(a: Readonly<Record<string, string>>, b: unknown): boolean {
  const o = b as Record<string, unknown> | null;
  return o !== null && a.protected === o.protected && a.payload === o.payload && a.signature === o.signature;
}
