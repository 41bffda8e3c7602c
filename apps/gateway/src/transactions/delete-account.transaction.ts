import { Injectable } from '@nestjs/common';
import { RecordCommitter } from '../catalog/record-committer';
import type { MeshResponseFields } from '../protocol/envelope';
import { readAccountName, RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';
import { AUTHORISATION, readRecord } from './record-request';

/**
 * `DeleteAccount` (logged): authorised by an administrator device. Every object of the account
 * becomes inactive; the address stays assigned (never reused by this portal).
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
    await this.committer.commit(name, record, context);
    return { Account: name.address, AccountStatus: 'deleted' };
  }
}
