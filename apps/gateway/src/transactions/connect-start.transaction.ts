import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { toBase64Url } from '@cryptomesh/crypto';
import {
  checkProfileSigner,
  findDevice,
  profileView,
  readConnectNonce,
  readProfileOf,
} from '@cryptomesh/mesh';
import {
  countCatalogConnections,
  expireCatalogConnections,
  insertCatalogConnection,
  readCatalogAccount,
} from '@cryptomesh/persistence';
import { RequestAuthenticator } from '../auth/request-authenticator';
import { jwsJson } from '../catalog/catalog-state';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import type { MeshResponseFields } from '../protocol/envelope';
import { GatewayError } from '../protocol/gateway-error';
import { mapMeshErrors } from '../protocol/mesh-error-map';
import { checkProfileSize, readAccountName, RequestFields } from '../protocol/request-fields';
import type { Transaction } from '../protocol/transaction';

/**
 * `ConnectStart` (unauthenticated; the device is not connected yet): a new device submits its own
 * Device Profile (self-signed, 000 §6.4) for an account. The request waits for an administrator
 * (ConnectPending, ConnectComplete). Gateway state only: nothing is logged. Answers the request id
 * the device polls with (ConnectStatus). The `Nonce` (16 random bytes, base64url) is the new device's
 * own choice: the gateway stores and relays it, and computes no witness — each device computes the
 * witness the user compares from the account, the Device Profile and this nonce (issue #14, hole 1;
 * `connectWitness` of @cryptomesh/mesh), so a portal cannot show its own device under the real one's.
 */
@Injectable()
export class ConnectStartTransaction implements Transaction {
  readonly name = 'ConnectStart';

  constructor(
    private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async handle(body: Readonly<Record<string, unknown>>): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow(['Account', 'Device', 'Nonce']);
    const name = readAccountName(f.string('Account'));
    const nonce = await mapMeshErrors(() => readConnectNonce(f.string('Nonce')), 'the Nonce');
    const value = f.object('Device');
    checkProfileSize(value, this.config.MAX_PROFILE_BYTES, 'the Device Profile');
    const device = await mapMeshErrors(async () => {
      const signed = readProfileOf(value, 'device');
      await checkProfileSigner(signed, profileView([], []));
      return signed;
    }, 'the Device Profile');

    const { state } = await this.authenticator.activeAccount(this.dataSource.manager, name);
    if (findDevice(state.personal.profile, device.profile.id) !== undefined)
      throw new GatewayError('persistence.conflict', `device ${device.profile.id} is already connected`, {
        reason: 'persistence.exists',
      });
    const id = toBase64Url(randomBytes(16));
    await this.dataSource.transaction(async (manager) => {
      // The account row lock serialises ConnectStarts of one account, so the cap holds exactly.
      await readCatalogAccount(manager, name.udf, { lock: true });
      await expireCatalogConnections(manager, name.udf, this.config.CONNECT_REQUEST_TTL_MS);
      if ((await countCatalogConnections(manager, name.udf)) >= this.config.MAX_PENDING_CONNECTIONS)
        throw new GatewayError(
          'rate.limited',
          `the account already has ${this.config.MAX_PENDING_CONNECTIONS} pending connection requests`,
          { retryAfterSeconds: 60 },
        );
      await insertCatalogConnection(manager, {
        id,
        accountUdf: name.udf,
        deviceId: device.profile.id,
        device: jwsJson(device),
        nonce,
      });
    });
    return { Account: name.address, RequestId: id, DeviceId: device.profile.id, Nonce: nonce };
  }
}
