import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { INBOUND_KINDS, type InboundKind } from '@cryptomesh/mesh';
import { listInbound } from '@cryptomesh/persistence';
import { AUTHENTICATION, RequestAuthenticator } from '../auth/request-authenticator';
import type { MeshResponseFields } from '../protocol/envelope';
import { RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';
import { readCursor } from './catalog-get.transaction';

/** Items in one InboundList answer at most. */
export const INBOUND_PAGE = 100;

/**
 * `InboundList` (authenticated, read-only; docs/design/inbound.md): the items waiting in the
 * account's spool — not deleted — oldest first, optionally of one `Kind`, from the paging cursor
 * `After`; `Next` when more follow. Each item carries the envelope as it was posted: the device
 * verifies it against the sender's profile read with proof and decrypts its `Body` (where the
 * addresses are: the envelope names accounts by UDF only); `Portal` is the sender's home portal (the
 * origin), `Received` when this portal took it (Unix ms).
 */
@Injectable()
export class InboundListTransaction implements Transaction {
  readonly name = 'InboundList';

  constructor(
    private readonly dataSource: DataSource,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow(['Account', 'Kind', 'After', AUTHENTICATION]);
    const kind = f.optionalString('Kind');
    if (kind !== undefined && !(INBOUND_KINDS as readonly string[]).includes(kind))
      f.fail(`"Kind" must be one of ${INBOUND_KINDS.join(', ')}`);
    const after = readCursor(f);
    const auth = await this.authenticator.authenticate(f, this.name, context);
    const rows = await listInbound(this.dataSource.manager, auth.name.udf, {
      limit: INBOUND_PAGE + 1,
      ...(kind === undefined ? {} : { kind: kind as InboundKind }),
      ...(after === undefined ? {} : { after }),
    });
    const page = rows.slice(0, INBOUND_PAGE);
    await this.authenticator.recordNonce(this.dataSource.manager, auth.name.udf, auth.claims);
    return {
      Items: page.map((row) => {
        return {
          Id: row.id,
          Kind: row.kind,
          FromAccount: row.fromAccount,
          FromMaster: row.fromMaster,
          Portal: row.origin,
          Received: row.received,
          Envelope: JSON.parse(row.envelope) as unknown,
        };
      }),
      ...(rows.length > INBOUND_PAGE ? { Next: page[page.length - 1]!.seq } : {}),
    };
  }
}
