import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { rejectCatalogConnections } from '@cryptomesh/persistence';
import { AUTHENTICATION, RequestAuthenticator } from '../auth/request-authenticator';
import type { MeshResponseFields } from '../protocol/envelope';
import { RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';

/**
 * `ConnectClear` (administrator only; gateway state, not logged): rejects every pending connection
 * request of the account at once (issue #15). Whoever filled the account with ConnectStarts cannot
 * take the places again from the same addresses: a rejected request keeps counting against its
 * address for CONNECT_REQUEST_TTL_MS (ConnectStartTransaction), so the real device, from another
 * address, then gets through. Answers how many requests were rejected.
 */
@Injectable()
export class ConnectClearTransaction implements Transaction {
  readonly name = 'ConnectClear';

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
    const rejected = await this.dataSource.transaction(async (manager) => {
      const n = await rejectCatalogConnections(manager, auth.name.udf);
      await this.authenticator.recordNonce(manager, auth.name.udf, auth.claims);
      return n;
    });
    return { Account: auth.name.address, Rejected: rejected };
  }
}
