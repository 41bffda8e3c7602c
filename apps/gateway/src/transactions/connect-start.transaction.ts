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
  countCatalogConnectionsFrom,
  expireCatalogConnections,
  insertCatalogConnection,
  readCatalogAccount,
} from '@cryptomesh/persistence';
import { RequestAuthenticator } from '../auth/request-authenticator';
import { jwsJson } from '../catalog/catalog-state';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { clientSource } from '../protocol/client-source';
import type { MeshResponseFields } from '../protocol/envelope';
import { GatewayError } from '../protocol/gateway-error';
import { mapMeshErrors } from '../protocol/mesh-error-map';
import { checkProfileSize, readAccountName, RequestFields } from '../protocol/request-fields';
import { checkPlainText } from '../protocol/text-rules';
import type { RequestContext, Transaction } from '../protocol/transaction';

/**
 * `ConnectStart` (unauthenticated; the device is not connected yet): a new device submits its own
 * Device Profile (self-signed, 000 §6.4) for an account. The request waits for an administrator
 * (ConnectPending, ConnectComplete). Gateway state only: nothing is logged. Answers the request id
 * the device polls with (ConnectStatus). The `Nonce` (16 random bytes, base64url) is the new device's
 * own choice: the gateway stores and relays it, and computes no witness — each device computes the
 * witness the user compares from the account, the Device Profile and this nonce (issue #14, hole 1;
 * `connectWitness` of @cryptomesh/mesh), so a portal cannot show its own device under the real one's.
 *
 * Anyone may call it, so nobody may fill an account with it (issue #15): an account holds at most
 * MAX_PENDING_CONNECTIONS pending requests, one client address (`clientSource`: an IPv6 address by its
 * /64) at most MAX_PENDING_CONNECTIONS_PER_ADDRESS of them — its rejected ones counting for
 * CONNECT_REQUEST_TTL_MS, so that the owner's ConnectClear frees the places for another address, not
 * for the same ones again. A refusal is 429 `rate.limited` (Reason connect.address-limit or
 * connect.account-limit) and stores nothing.
 */
@Injectable()
export class ConnectStartTransaction implements Transaction {
  readonly name = 'ConnectStart';

  constructor(
    private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
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
    checkPlainText(device.profile.description, "the Device Profile's Description");

    const { state } = await this.authenticator.activeAccount(this.dataSource.manager, name);
    if (findDevice(state.personal.profile, device.profile.id) !== undefined)
      throw new GatewayError('persistence.conflict', `device ${device.profile.id} is already connected`, {
        reason: 'persistence.exists',
      });
    const id = newRequestId();
    const source = clientSource(context.clientAddress);
    await this.dataSource.transaction(async (manager) => {
      // The account row lock serialises ConnectStarts of one account, so the cap holds exactly.
      await readCatalogAccount(manager, name.udf, { lock: true });
      const ttlMs = this.config.CONNECT_REQUEST_TTL_MS;
      await expireCatalogConnections(manager, name.udf, ttlMs);
      const perAddress = this.config.MAX_PENDING_CONNECTIONS_PER_ADDRESS;
      if ((await countCatalogConnectionsFrom(manager, name.udf, source, ttlMs)) >= perAddress)
        throw new GatewayError(
          'rate.limited',
          `this address already made ${perAddress} connection requests for the account that are pending or were rejected`,
          { reason: 'connect.address-limit', retryAfterSeconds: Math.ceil(ttlMs / 1000) },
        );
      if ((await countCatalogConnections(manager, name.udf)) >= this.config.MAX_PENDING_CONNECTIONS)
        throw new GatewayError(
          'rate.limited',
          `the account already has ${this.config.MAX_PENDING_CONNECTIONS} pending connection requests`,
          { reason: 'connect.account-limit', retryAfterSeconds: 60 },
        );
      await insertCatalogConnection(manager, {
        id,
        accountUdf: name.udf,
        deviceId: device.profile.id,
        device: jwsJson(device),
        nonce,
        source,
      });
    });
    return { Account: name.address, RequestId: id, DeviceId: device.profile.id, Nonce: nonce };
  }
}

/**
 * A connection request's id: 128 random bits, base64url — never starting with '-', which a command
 * line (`mesh device accept ID`) would take for an option (one id in 64 did: found as a failing test).
 */
export function newRequestId(): string {
  for (;;) {
    const id = toBase64Url(randomBytes(16));
    if (!id.startsWith('-')) return id;
  }
}
