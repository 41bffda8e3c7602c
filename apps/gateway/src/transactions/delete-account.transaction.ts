import { Injectable } from '@nestjs/common';
import { eraseAccountCatalogs, rejectCatalogConnections } from '@cryptomesh/persistence';
import { RecordCommitter } from '../catalog/record-committer';
import type { MeshResponseFields } from '../protocol/envelope';
import { readAccountName, RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';
import { AUTHORISATION, readRecord } from './record-request';

/**
 * `DeleteAccount` (logged): authorised by an administrator device. Every object of the account
 * becomes inactive; its pending connection requests are rejected; the address stays assigned (never
 * reused by this portal: every auditor would flag a CreateAccount of the same account UDF,
 * `account.deleted`). Its catalogs and inbound spool are erased (docs/design/inbound.md). Escrow blobs stay: they name no account (EscrowPut), so the portal cannot tell
 * which are this account's (docs/decisions.md "#19").
 */
@Injectable()
export class DeleteAccountTransaction implements Transaction {
  readonly name = 'DeleteAccount';

  constructor(private readonly committer: RecordCommitter) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow(['Account', AUTHORISATION]);
    const name = readAccountName(f.string('Account'));
    const record = await readRecord('DeleteAccount', name, {}, f.object(AUTHORISATION));
    // The account's pending connection requests end with it, in the same transaction: their devices'
    // ConnectStatus answers `rejected` rather than `pending` until they expire (issue #19).
    await this.committer.commit(name, record, context, {
      inTransaction: async (manager) => {
        await rejectCatalogConnections(manager, name.udf);
        // Its catalogs and inbound spool are private data of the account, not logged: they go with it.
        await eraseAccountCatalogs(manager, name.udf);
      },
    });
    return { Account: name.address, AccountStatus: 'deleted' };
  }
}
