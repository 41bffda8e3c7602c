import { Inject, Injectable } from '@nestjs/common';
import { udfMatches } from '@cryptomesh/crypto';
import { checkProofOfWork, requestBodyUdf } from '@cryptomesh/mesh';
import { RecordCommitter } from '../catalog/record-committer';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import type { MeshResponseFields } from '../protocol/envelope';
import { GatewayError } from '../protocol/gateway-error';
import { mapMeshErrors } from '../protocol/mesh-error-map';
import { checkProfileSize, readAccountName, RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';
import { AUTHORISATION, readRecord } from './record-request';

/** Initial devices one CreateAccount may carry. */
const MAX_DEVICES = 16;

/**
 * `CreateAccount` (logged): the address, the account's Master and Personal Profiles and its first
 * Device Profiles, authorised by an administrator device they list (mesh-model.md "Records"), and —
 * when Hello's policy demands it (PROOF_OF_WORK_LEVEL > 0) — `ProofOfWork`, a nonce whose work UDF
 * over the statement shows that level (seed 002 §7.4). The address must be free on this portal.
 */
@Injectable()
export class CreateAccountTransaction implements Transaction {
  readonly name = 'CreateAccount';

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly committer: RecordCommitter,
  ) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow([
      'Account',
      'Master',
      'Personal',
      'Devices',
      AUTHORISATION,
      'ProofOfWork',
    ]);
    const name = readAccountName(f.string('Account'));
    const members = {
      Master: f.object('Master'),
      Personal: f.object('Personal'),
      Devices: f.array('Devices', MAX_DEVICES),
    };
    const max = this.config.MAX_PROFILE_BYTES;
    checkProfileSize(members.Master, max, 'the Master Profile');
    checkProfileSize(members.Personal, max, 'the Personal Profile');
    members.Devices.forEach((d, i) => checkProfileSize(d, max, `Devices[${i}]`));
    const proof = f.optionalString('ProofOfWork');
    const record = await readRecord('CreateAccount', name, members, f.object(AUTHORISATION));
    if (record.operation !== 'CreateAccount') throw new Error('unreachable: parsed another operation');
    if (name.fingerprint !== undefined && !udfMatches(name.fingerprint, record.master.profile.id))
      throw new GatewayError(
        'account.invalid',
        `${name.fingerprint} is not the new account's Master Profile`,
      );

    const level = this.config.PROOF_OF_WORK_LEVEL;
    if (level > 0) {
      if (proof === undefined)
        throw new GatewayError('pow.insufficient', `this portal demands a proof of work of level ${level}`, {
          reason: 'pow.insufficient',
        });
      await mapMeshErrors(() => checkProofOfWork(requestBodyUdf(record.statement), proof, level));
    }

    const state = await this.committer.commit(name, record, context, { create: true });
    return {
      Account: name.address,
      AccountUdf: name.udf,
      MasterId: state.master.profile.id,
      PersonalId: state.personal.profile.id,
    };
  }
}
