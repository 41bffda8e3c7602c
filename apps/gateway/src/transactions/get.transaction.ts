import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { parseMeshUri, parseUdf } from '@cryptomesh/crypto';
import { readCatalogAccount, readCatalogObject } from '@cryptomesh/persistence';
import { RequestAuthenticator, AUTHENTICATION } from '../auth/request-authenticator';
import type { MeshResponseFields } from '../protocol/envelope';
import { GatewayError } from '../protocol/gateway-error';
import { toGatewayError } from '../protocol/mesh-error-map';
import { readAccountName, RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';

/**
 * `Get` (authenticated, read-only): the current signed value of one profile, named by its identifier
 * or by an `mmm:<id>[:<account>]` URI (002 §3.3.3). The catalog is per account: without an account
 * in the URI the requester's own account is searched. A deleted or unknown object is `not-found`.
 */
@Injectable()
export class GetTransaction implements Transaction {
  readonly name = 'Get';

  constructor(
    private readonly dataSource: DataSource,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow(['Account', 'Id', AUTHENTICATION]);
    const target = readTarget(f.string('Id'));
    const auth = await this.authenticator.authenticate(f, this.name, context);

    let accountUdf = auth.name.udf;
    if (target.account !== undefined) {
      const other = await readCatalogAccount(this.dataSource.manager, readAccountName(target.account).udf);
      if (other === undefined || other.status !== 'active') throw notFound(target.id);
      accountUdf = other.accountUdf;
    }
    const object = await readCatalogObject(this.dataSource.manager, accountUdf, target.id);
    if (object === undefined || object.state !== 'active') throw notFound(target.id);
    // Last, so that a refused Get leaves no trace; a replay racing this one is refused here.
    await this.authenticator.recordNonce(this.dataSource.manager, auth.name.udf, auth.claims);
    return { Id: object.objectId, Kind: object.kind, Value: object.value };
  }
}

function readTarget(text: string): { id: string; account?: string } {
  try {
    if (/^mmm:/i.test(text)) {
      const uri = parseMeshUri(text);
      return uri.account === undefined
        ? { id: uri.fingerprint }
        : { id: uri.fingerprint, account: uri.account.address };
    }
    return { id: parseUdf(text).text };
  } catch (error) {
    const refusal = toGatewayError(error, '"Id"');
    if (refusal instanceof GatewayError)
      throw new GatewayError('request.invalid', refusal.message, refusal.details);
    throw refusal;
  }
}

function notFound(id: string): GatewayError {
  return new GatewayError('not-found', `no active profile ${id}`);
}
