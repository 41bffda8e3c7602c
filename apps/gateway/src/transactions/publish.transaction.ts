import { Inject, Injectable } from '@nestjs/common';
import { RecordCommitter } from '../catalog/record-committer';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import type { MeshResponseFields } from '../protocol/envelope';
import { checkProfileSize, readAccountName, RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';
import { AUTHORISATION, readRecord } from './record-request';

/**
 * `Publish` (logged): one event of the persistence model (000 §3.2.1) on one object of the account —
 * `create`, `update` or `delete` — under the two-part rule: the request is authorised by a device of
 * the account, and the value is signed by the key its type demands (000 §6.4). Which profile types
 * may be created, updated or deleted is the Mesh model's (mesh-model.md "Account state").
 */
@Injectable()
export class PublishTransaction implements Transaction {
  readonly name = 'Publish';

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly committer: RecordCommitter,
  ) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow(['Account', 'Action', 'Id', 'Value', AUTHORISATION]);
    const name = readAccountName(f.string('Account'));
    const action = f.string('Action');
    if (action !== 'create' && action !== 'update' && action !== 'delete')
      f.fail('"Action" must be "create", "update" or "delete"');
    const id = f.string('Id');
    const members: Record<string, unknown> = { Action: action, Id: id };
    if (action === 'delete') {
      if (f.has('Value')) f.fail('a delete carries no "Value"');
    } else {
      const value = f.object('Value');
      checkProfileSize(value, this.config.MAX_PROFILE_BYTES, 'the Value');
      members.Value = value;
    }
    const record = await readRecord('Publish', name, members, f.object(AUTHORISATION));
    const state = await this.committer.commit(name, record, context);
    const object = state.objects.get(id);
    return { Account: name.address, Id: id, Action: action, State: object?.status ?? 'undefined' };
  }
}
