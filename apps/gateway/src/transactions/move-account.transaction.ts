import { Injectable } from '@nestjs/common';
import { eraseAccountCatalogs } from '@cryptomesh/persistence';
import { RecordCommitter } from '../catalog/record-committer';
import type { MeshResponseFields } from '../protocol/envelope';
import { readAccountName, RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';
import { AUTHORISATION, readRecord } from './record-request';

/**
 * `MoveAccount` (logged; docs/PROTOCOL.md "MoveAccount", federation.md "Which value is current"):
 * an administrator device closes the account at this portal, naming its new home by log origin
 * (`To`). The signed record is logged here so that every auditor and every client can see where the
 * account went; from then on every request for the account is refused `account.moved`, and auditors
 * refuse any later record of it in this log. Every object of the account becomes inactive here, its
 * catalogs and inbound spool are erased; the address stays assigned (never reused by this portal).
 */
@Injectable()
export class MoveAccountTransaction implements Transaction {
  readonly name = 'MoveAccount';

  constructor(private readonly committer: RecordCommitter) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow(['Account', 'To', AUTHORISATION]);
    const name = readAccountName(f.string('Account'));
    const to = f.string('To');
    const record = await readRecord('MoveAccount', name, { To: to }, f.object(AUTHORISATION));
    // The catalogs and the spool are not logged, so no new home can read them from here: the
    // devices carry their copy of the catalogs over (`mesh catalog sync`); they are erased here with
    // the move, in its transaction (docs/design/inbound.md "What a portal that disappears costs").
    await this.committer.commit(name, record, context, {
      inTransaction: async (manager) => {
        await eraseAccountCatalogs(manager, name.udf);
      },
    });
    return { Account: name.address, AccountStatus: 'moved', To: to };
  }
}
