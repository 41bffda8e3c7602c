import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { listCatalogConnections } from '@cryptomesh/persistence';
import { AUTHENTICATION, RequestAuthenticator } from '../auth/request-authenticator';
import type { MeshResponseFields } from '../protocol/envelope';
import { RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';

/** Most pending requests answered at once. */
const MAX_LISTED = 100;

/**
 * `ConnectPending` (administrator only, read-only): the account's pending connection requests, oldest
 * first, each with the device's signed profile and the nonce the new device chose: the administrator
 * device computes the witness to compare from them (issue #14, hole 1); the portal computes none.
 */
@Injectable()
export class ConnectPendingTransaction implements Transaction {
  readonly name = 'ConnectPending';

  constructor(
    private readonly dataSource: DataSource,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow(['Account', AUTHENTICATION]);
    const auth = await this.authenticator.authenticate(f, this.name, context, { administrator: true });
    const pending = await listCatalogConnections(this.dataSource.manager, auth.name.udf, MAX_LISTED);
    await this.authenticator.recordNonce(this.dataSource.manager, auth.name.udf, auth.claims);
    return {
      Account: auth.name.address,
      Requests: pending.map((p) => ({
        RequestId: p.id,
        DeviceId: p.deviceId,
        Device: p.device,
        Nonce: p.nonce,
        Created: p.createdMs,
      })),
    };
  }
}
