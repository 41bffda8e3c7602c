import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { contentDigestUdf, toBase64Url } from '@cryptomesh/crypto';
import { canonicalJson, checkProfileSigner, findDevice, profileView, readProfileOf } from '@cryptomesh/mesh';
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
import { checkPlainText } from '../protocol/text-rules';
import type { Transaction } from '../protocol/transaction';

/** The Content-ID of a connection witness (docs/design/gateway.md "Connecting a device"). */
export const CONNECT_WITNESS_CONTENT_ID = 'MeshConnectWitness';

/**
 * The short code both devices show so that the user can see that the administrator is approving
 * the device in hand: a 100-bit content digest UDF of the account UDF, the device's profile id and
 * the request id.
 */
export function connectWitness(accountUdf: string, deviceId: string, requestId: string): string {
  return contentDigestUdf(
    canonicalJson({ Account: accountUdf, Device: deviceId, Request: requestId }),
    CONNECT_WITNESS_CONTENT_ID,
    { bits: 100 },
  );
}

/**
 * `ConnectStart` (unauthenticated; the device is not connected yet): a new device submits its own
 * Device Profile (self-signed, 000 §6.4) for an account. The request waits for an administrator
 * (ConnectPending, ConnectComplete). Gateway state only: nothing is logged. Answers the request id
 * the device polls with (ConnectStatus) and the witness to compare.
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
    const f = new RequestFields(body, this.name).allow(['Account', 'Device']);
    const name = readAccountName(f.string('Account'));
    const value = f.object('Device');
    checkProfileSize(value, this.config.MAX_PROFILE_BYTES, 'the Device Profile');
    const device = await mapMeshErrors(async () => {
      const signed = readProfileOf(value, 'device');
      await checkProfileSigner(signed, profileView([], []));
      return signed;
    }, 'the Device Profile');
    checkPlainText(device.profile.description, "the Device Profile's Description");

    const { state } = await this.authenticator.activeAccount(this.dataSource.manager, name);
    if (findDevice(state.personal.profile, device.profile.id) !== undefined)
      throw new GatewayError('persistence.conflict', `device ${device.profile.id} is already connected`, {
        reason: 'persistence.exists',
      });
    const id = toBase64Url(randomBytes(16));
    const witness = connectWitness(name.udf, device.profile.id, id);
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
        witness,
      });
    });
    return { Account: name.address, RequestId: id, DeviceId: device.profile.id, Witness: witness };
  }
}
