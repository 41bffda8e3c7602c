import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { readCatalogAccount } from '@cryptomesh/persistence';
import type { MeshResponseFields } from '../protocol/envelope';
import { GatewayError } from '../protocol/gateway-error';
import { readAccountName, RequestFields } from '../protocol/request-fields';
import type { Transaction } from '../protocol/transaction';

/**
 * `ValidateAccount` (unauthenticated, read-only): is the address well-formed, and is it free on this
 * portal? A malformed address is a normal answer (`Valid: false` with the reason), not a refusal.
 * An address once assigned — even to a deleted account — is never free again.
 */
@Injectable()
export class ValidateAccountTransaction implements Transaction {
  readonly name = 'ValidateAccount';

  constructor(private readonly dataSource: DataSource) {}

  async handle(body: Readonly<Record<string, unknown>>): Promise<MeshResponseFields> {
    const text = new RequestFields(body, this.name).allow(['Account']).string('Account');
    let name;
    try {
      name = readAccountName(text);
    } catch (error) {
      if (error instanceof GatewayError && error.code === 'account.invalid')
        return { Account: text, Valid: false, Available: false, Reason: error.message };
      throw error;
    }
    const taken = (await readCatalogAccount(this.dataSource.manager, name.udf)) !== undefined;
    return { Account: name.address, AccountUdf: name.udf, Valid: true, Available: !taken };
  }
}
