import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { countCatalogConnections, readCatalogObjects } from '@cryptomesh/persistence';
import { AUTHENTICATION, RequestAuthenticator } from '../auth/request-authenticator';
import { jwsJson } from '../catalog/catalog-state';
import type { MeshResponseFields } from '../protocol/envelope';
import { RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';

/**
 * `Status` (authenticated, read-only): the account's state as this portal holds it — its current
 * Master and Personal Profiles, every object of its catalog with its persistence state, and how
 * many connection requests await an administrator.
 */
@Injectable()
export class StatusTransaction implements Transaction {
  readonly name = 'Status';

  constructor(
    private readonly dataSource: DataSource,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow(['Account', AUTHENTICATION]);
    const auth = await this.authenticator.authenticate(f, this.name, context);
    const manager = this.dataSource.manager;
    const objects = await readCatalogObjects(manager, auth.name.udf);
    const pending = await countCatalogConnections(manager, auth.name.udf);
    await this.authenticator.recordNonce(manager, auth.name.udf, auth.claims);
    return {
      Account: auth.name.address,
      AccountUdf: auth.name.udf,
      AccountStatus: auth.account.status,
      Master: jwsJson(auth.state.master),
      Personal: jwsJson(auth.state.personal),
      Objects: objects.map((o) => ({ Id: o.objectId, Kind: o.kind, State: o.state })),
      PendingConnections: pending,
    };
  }
}
