import {
  accountView,
  buildDeviceProfile,
  checkProfileSigner,
  connectNonce,
  connectWitness,
  isMeshError,
  readProfileOf,
  type MasterProfile,
  type PersonalProfile,
  type SignedProfile,
} from '@cryptomesh/mesh';
import { defaultRandom } from '@cryptomesh/crypto/portable';
import { ClientError } from './client-error';
import { generateDeviceKeys, loadDeviceKeys, saveDeviceKeys } from './device-keys';
import type { GatewayFields } from './gateway-client';
import type { MeshProfileManager, PortalOptions } from './profile-manager';
import {
  accountName,
  jwsOf,
  readProfileDocument,
  writeProfileDocument,
  type ActiveProfile,
} from './profile-document';

/**
 * The new device's side of a connection (002 §2.1.1: "To make use of an existing profile on a second
 * device…") — the bodies of MeshProfileManager.connect and connectStatus, which document the contracts.
 */

export async function startConnection(
  manager: MeshProfileManager,
  options: PortalOptions & { readonly account: string; readonly description?: string },
): Promise<{ requestId: string; deviceId: string; witness: string; account: string }> {
  const existing = await readProfileDocument(manager.store);
  if (existing !== undefined && existing.status !== 'connecting' && existing.status !== 'rejected')
    throw new ClientError('usage.invalid', `this home already holds the profile of ${existing.account}`, {
      check: 'local state',
    });
  const name = accountName(options.account);
  const gateway = manager.gateway(options.gatewayUrl);
  const hello = await gateway.hello();
  const portal = await manager.pin(options, gateway.portal, hello.queryUrl);
  const keys = generateDeviceKeys(manager.options.random);
  const device = await buildDeviceProfile(
    { encryption: keys.encryption, description: options.description ?? 'device' },
    keys.signature,
  );
  // The witness is this device's own computation over a nonce it chose (issue #14, hole 1): the
  // portal only relays the nonce, so it cannot make an administrator see this witness for another key.
  const nonce = connectNonce(manager.options.random ?? defaultRandom);
  const witness = connectWitness(name.accountUdf, device.profile, nonce);
  // The keys first: a crash after ConnectStart leaves only an orphan request, which expires.
  await saveDeviceKeys(manager.store, keys);
  const f = await gateway.send('ConnectStart', {
    Account: name.account,
    Device: jwsOf(device),
    Nonce: nonce,
  });
  const requestId = text(f, 'RequestId', gateway.portal);
  if (f.DeviceId !== device.profile.id)
    throw new ClientError(
      'verify.answer',
      `${gateway.portal} answered ConnectStart for device ${String(f.DeviceId)}`,
      {
        portal: gateway.portal,
        check: 'ConnectStart answer',
      },
    );
  await writeProfileDocument(manager.store, {
    status: 'connecting',
    ...name,
    portal,
    device,
    devices: [],
    connection: { requestId, witness },
  });
  return { requestId, deviceId: device.profile.id, witness, account: name.account };
}

export async function connectionStatus(
  manager: MeshProfileManager,
): Promise<{ result: 'pending' | 'rejected' | 'accepted'; fingerprint?: string }> {
  const doc = await readProfileDocument(manager.store);
  if (doc?.status === 'active') return { result: 'accepted', fingerprint: doc.master!.profile.id };
  if (doc === undefined || doc.connection === undefined)
    throw new ClientError('state.missing', 'this home has no connection request: run connect first');
  const session = await manager.sessionFor(doc, await loadDeviceKeys(manager.store), false);
  const f = await session.authenticated('ConnectStatus', { RequestId: doc.connection.requestId });
  if (f.Result === 'pending') return { result: 'pending' };
  if (f.Result === 'rejected') {
    await writeProfileDocument(manager.store, { ...doc, status: 'rejected' });
    return { result: 'rejected' };
  }
  const portal = session.gateway.portal;
  const bad = (why: string, cause?: unknown) =>
    new ClientError('verify.profile', `${portal} accepted this device with ${why}`, {
      portal,
      check: 'profile',
      evidence: { master: f.Master, personal: f.Personal },
      cause,
    });
  let master: SignedProfile<MasterProfile>;
  let personal: SignedProfile<PersonalProfile>;
  try {
    master = readProfileOf(f.Master, 'master');
    personal = readProfileOf(f.Personal, 'personal');
    await checkProfileSigner(master, accountView(master, undefined));
    await checkProfileSigner(personal, accountView(master, undefined));
  } catch (cause) {
    throw bad(`profiles that break the rules: ${isMeshError(cause) ? cause.message : String(cause)}`, cause);
  }
  const mine = personal.profile.devices.find((d) => d.id === doc.device.profile.id);
  if (
    personal.profile.master !== master.profile.id ||
    mine?.encryption.udf !== doc.device.profile.encryption.udf
  )
    throw bad('a Personal Profile that does not list it with its keys');
  const active: ActiveProfile = {
    status: 'active',
    account: doc.account,
    accountUdf: doc.accountUdf,
    portal: doc.portal,
    device: doc.device,
    devices: doc.devices,
    master,
    personal,
  };
  // The log must show what the gateway handed over (the Personal Profile may need a seal to come).
  const checked = await manager.sessionFor(active, session.keys);
  await manager.refresh(checked, active);
  return { result: 'accepted', fingerprint: master.profile.id };
}

function text(fields: GatewayFields, name: string, portal: string): string {
  const value = fields[name];
  if (typeof value !== 'string' || value === '')
    throw new ClientError('verify.answer', `${portal}: the answer has no "${name}"`, {
      portal,
      check: 'answer',
    });
  return value;
}
