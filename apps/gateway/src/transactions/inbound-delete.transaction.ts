import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { INBOUND_ID_PATTERN } from '@cryptomesh/mesh';
import { deleteInbound } from '@cryptomesh/persistence';
import { AUTHENTICATION, RequestAuthenticator } from '../auth/request-authenticator';
import type { MeshResponseFields } from '../protocol/envelope';
import { RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';

/** Items one InboundDelete names at most. */
export const INBOUND_DELETE_MAX = 100;
/** An account UDF as the envelopes carry it: base32 groups of four, dash-separated (bounded). */
const ACCOUNT_UDF_PATTERN = /^[A-Z2-7]{4}(-[A-Z2-7]{1,4}){1,40}$/;

/**
 * `InboundDelete` (authenticated; docs/design/inbound.md): deletes items of the account's spool, each
 * named by its sender's account UDF and its envelope Id — the spool's key: an Id alone could name a
 * contact's item and a stranger's that copied its Id off a topic. The envelope is erased; a tombstone
 * stays until INBOUND_MAX_AGE_MS and an hour, so that a replay of the same envelope is not delivered
 * again. `Deleted` is how many of the items were waiting (one deleted before, or never received,
 * counts 0: a repeated delete is harmless). Deleted and the nonce recorded in one transaction.
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
    const f = new RequestFields(body, this.name).allow(['Account', 'Items', AUTHENTICATION]);
    const raw = f.array('Items', INBOUND_DELETE_MAX);
    if (raw.length === 0) f.fail('"Items" names at least one item');
    const items = raw.map((item) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        return f.fail('"Items" holds objects {"FromAccount", "Id"}');
      const { FromAccount: from, Id: id, ...rest } = item as Record<string, unknown>;
      if (Object.keys(rest).length > 0) return f.fail('an item of "Items" has only "FromAccount" and "Id"');
      if (typeof id !== 'string' || !INBOUND_ID_PATTERN.test(id))
        return f.fail('an item\'s "Id" is an envelope Id (22 characters of A–Z a–z 0–9 - _)');
      if (typeof from !== 'string' || !ACCOUNT_UDF_PATTERN.test(from))
        return f.fail('an item\'s "FromAccount" is the sender\'s account UDF');
      return { fromAccount: from, id };
    });
    const auth = await this.authenticator.authenticate(f, this.name, context);
    const deleted = await this.dataSource.transaction(async (manager) => {
      const n = await deleteInbound(manager, auth.name.udf, items);
      await this.authenticator.recordNonce(manager, auth.name.udf, auth.claims);
      return n;
    });
    return { Deleted: deleted };
  }
}
