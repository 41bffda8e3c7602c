import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { INBOUND_ID_PATTERN } from '@cryptomesh/mesh';
import { deleteInbound } from '@cryptomesh/persistence';
import { AUTHENTICATION, RequestAuthenticator } from '../auth/request-authenticator';
import type { MeshResponseFields } from '../protocol/envelope';
import { RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';

/** Envelope Ids one InboundDelete names at most. */
export const INBOUND_DELETE_MAX = 100;

/**
 * `InboundDelete` (authenticated; docs/design/inbound.md): deletes items of the account's spool by
 * envelope Id. The envelope is erased; a tombstone stays until INBOUND_MAX_AGE_MS, so that a replay
 * of the same envelope is not delivered again. `Deleted` is how many of the Ids were waiting (an Id
 * deleted before, or never received, counts 0: a repeated delete is harmless). Deleted and the
 * nonce recorded in one transaction.
 */
@Injectable()
export class InboundDeleteTransaction implements Transaction {
  readonly name = 'InboundDelete';

  constructor(
    private readonly dataSource: DataSource,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow(['Account', 'Ids', AUTHENTICATION]);
    const ids = f.array('Ids', INBOUND_DELETE_MAX);
    if (ids.length === 0) f.fail('"Ids" names at least one envelope Id');
    for (const id of ids)
      if (typeof id !== 'string' || !INBOUND_ID_PATTERN.test(id))
        f.fail('"Ids" must hold envelope Ids (22 characters of A–Z a–z 0–9 - _)');
    const auth = await this.authenticator.authenticate(f, this.name, context);
    const deleted = await this.dataSource.transaction(async (manager) => {
      const n = await deleteInbound(manager, auth.name.udf, ids as string[]);
      await this.authenticator.recordNonce(manager, auth.name.udf, auth.claims);
      return n;
    });
    return { Deleted: deleted };
  }
}
