import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  checkRequestNonce,
  readProfileOf,
  readRequest,
  verifyRequest,
  type PersonalProfile,
} from '@cryptomesh/mesh';
import { readCatalogAccount, readCatalogConnection } from '@cryptomesh/persistence';
import { AUTHENTICATION, RequestAuthenticator } from '../auth/request-authenticator';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import type { MeshResponseFields } from '../protocol/envelope';
import { GatewayError } from '../protocol/gateway-error';
import { mapMeshErrors } from '../protocol/mesh-error-map';
import { readAccountName, RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';

/**
 * `ConnectStatus` (authenticated by the NEW device): the device that called ConnectStart polls its
 * request. It is not a device of the account yet, so its `Authentication` is checked against the
 * Device Profile it submitted (same signed-request format, same clock window and replay refusal).
 * Once accepted, the answer carries the account's Master Profile and the updated Personal Profile
 * that lists the device.
 */
@Injectable()
export class ConnectStatusTransaction implements Transaction {
  readonly name = 'ConnectStatus';

  constructor(
    private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow(['Account', 'RequestId', AUTHENTICATION]);
    if (!f.has(AUTHENTICATION))
      throw new GatewayError(
        'auth.missing',
        `${this.name} must carry "${AUTHENTICATION}", signed by the new device`,
      );
    const name = readAccountName(f.string('Account'));
    const id = f.requestId('RequestId');
    const manager = this.dataSource.manager;
    const connection = await readCatalogConnection(manager, name.udf, id);
    if (connection === undefined)
      throw new GatewayError('not-found', `no connection request ${id} for ${name.address}`);
    const verified = await mapMeshErrors(async () => {
      const device = readProfileOf(connection.device, 'device').profile;
      // The submitting device as the only "device" the request may be signed by.
      const applicant: PersonalProfile = {
        kind: 'personal',
        id: connection.id,
        master: '',
        sequence: 0,
        devices: [{ id: device.id, signature: device.signature, encryption: device.encryption }],
        applications: [],
      };
      checkRequestNonce(readRequest(f.body[AUTHENTICATION]));
      return verifyRequest(f.body[AUTHENTICATION], {
        request: this.name,
        portal: this.config.LOG_ORIGIN,
        account: name.udf,
        body: f.without(AUTHENTICATION),
        personal: applicant,
        now: context.receivedAtMs,
        maxSkewMs: this.config.CLOCK_SKEW_MS,
      });
    }, 'the request');
    await this.authenticator.refuseSeen(manager, name.udf, verified.claims);
    const account =
      connection.status === 'accepted' ? await readCatalogAccount(manager, name.udf) : undefined;
    await this.authenticator.recordNonce(manager, name.udf, verified.claims);
    return {
      Account: name.address,
      RequestId: id,
      Result: connection.status,
      ...(connection.status === 'accepted' ? { Personal: connection.personal, Master: account?.master } : {}),
    };
  }
}
