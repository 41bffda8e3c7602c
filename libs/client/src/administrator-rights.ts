import {
  buildMasterProfile,
  buildPersonalProfile,
  type MasterProfile,
  type PublicKeyInput,
  type SignedProfile,
} from '@cryptomesh/mesh';
import type { ClientStore } from './client-store';
import { nextPersonalInput } from './application-data';
import { loadMasterKey } from './device-keys';
import { ClientError } from './client-error';
import type { DeviceInfo } from './device-admin';
import type { MeshProfileManager } from './profile-manager';
import { requireAdministrator, writeProfileDocument, type ActiveProfile } from './profile-document';
import type { AccountSession } from './account-session';

/**
 * Granting and withdrawing administrator rights (issue #19; 000 §6.1, §6.4). An administrator is a
 * device whose signature key the Master Profile lists in `Administrators`: it signs the Personal
 * Profile, so it approves and removes devices. Changing that list is a new Master Profile (Sequence + 1)
 * signed with the master key and published by an administrator device — the portal and every auditor
 * refuse it from anyone else (`request.not-administrator`). The master key is never handed to a
 * promoted device: a demoted device would keep it and could promote itself again (docs/decisions.md
 * "#19"). So promote and demote run on an administrator that holds the master key (the device that
 * created the profile, or recovered it from escrow).
 */

/**
 * What promote and demote need before anything is signed: a fresh profile, this device an
 * administrator holding the master key, and `deviceId` a device of the current Personal Profile.
 * `usage.invalid` otherwise.
 */
async function prepare(
  manager: MeshProfileManager,
  deviceId: string,
  act: string,
): Promise<{ session: AccountSession; doc: ActiveProfile; signatureUdf: string }> {
  const opened = await manager.open();
  const session = opened.session;
  const doc = await manager.refresh(session, opened.doc);
  requireAdministrator(doc, session.deviceId, `cannot ${act} ${deviceId}`);
  if ((await loadMasterKey(manager.store)) === undefined)
    throw new ClientError(
      'usage.invalid',
      `cannot ${act} ${deviceId}: administrator rights change the Master Profile, which only the master key signs, and this device does not hold it`,
      { check: 'master key' },
    );
  const entry = doc.personal.profile.devices.find((d) => d.id === deviceId);
  if (entry === undefined)
    throw new ClientError('usage.invalid', `no device ${deviceId} is connected to ${doc.account}`, {
      check: 'device',
    });
  return { session, doc, signatureUdf: entry.signature.udf };
}

function info(doc: ActiveProfile, deviceId: string, administrator: boolean): DeviceInfo {
  const description = [doc.device, ...doc.devices].find((d) => d.profile.id === deviceId)?.profile
    .description;
  return {
    id: deviceId,
    ...(description === undefined ? {} : { description }),
    administrator,
    self: deviceId === doc.device.profile.id,
  };
}

/**
 * Makes connected device `deviceId` an administrator: the next Master Profile lists its signature key.
 * `usage.invalid` (nothing sent) when this device is no administrator, does not hold the master key,
 * or `deviceId` is not connected or already an administrator.
 */
export async function promoteDevice(manager: MeshProfileManager, deviceId: string): Promise<DeviceInfo> {
  const { session, doc, signatureUdf } = await prepare(manager, deviceId, 'promote');
  if (doc.master.profile.administrators.some((k) => k.udf === signatureUdf))
    throw new ClientError('usage.invalid', `device ${deviceId} is an administrator already`, {
      check: 'device',
    });
  const entry = doc.personal.profile.devices.find((d) => d.id === deviceId)!;
  const master = await manager.nextMaster(doc, { add: entry.signature });
  await session.publish('update', master);
  await writeProfileDocument(manager.store, { ...doc, master });
  return info(doc, deviceId, true);
}

/**
 * Withdraws the administrator right of another device `deviceId`: when that device signed the current
 * Personal Profile, the same profile re-signed by this device first (Sequence + 1), then the next
 * Master Profile without its key. The device stays connected and keeps reading and writing the
 * applications. `usage.invalid` (nothing sent) when this device is no administrator or does not hold
 * the master key, `deviceId` is this device, not connected or no administrator, or it is the last
 * administrator — an account without one could never change its devices again (000 §6.4).
 */
export async function demoteDevice(manager: MeshProfileManager, deviceId: string): Promise<DeviceInfo> {
  const { session, doc, signatureUdf } = await prepare(manager, deviceId, 'demote');
  const administrators = doc.master.profile.administrators;
  if (!administrators.some((k) => k.udf === signatureUdf))
    throw new ClientError('usage.invalid', `device ${deviceId} is no administrator`, { check: 'device' });
  if (administrators.length === 1)
    throw new ClientError(
      'usage.invalid',
      `device ${deviceId} is the last administrator of ${doc.account}: promote another device first`,
      { check: 'last administrator' },
    );
  if (signatureUdf === session.deviceId)
    throw new ClientError(
      'usage.invalid',
      'a device cannot withdraw its own administrator right: demote it from another administrator',
      { check: 'device' },
    );
  // The Personal Profile must stay signed by an administrator (000 §6.4; the portal and auditors
  // refuse a Master Profile that orphans it): when the demoted device signed it, re-sign it here
  // first — this device is an administrator under both Master Profiles.
  let personal = doc.personal;
  if (personal.signer === signatureUdf) {
    personal = await buildPersonalProfile(nextPersonalInput(personal.profile, {}), session.keys.signature);
    await session.publish('update', personal);
    await writeProfileDocument(manager.store, { ...doc, personal });
  }
  const master = await manager.nextMaster(doc, { remove: signatureUdf });
  await session.publish('update', master);
  await writeProfileDocument(manager.store, { ...doc, personal, master });
  return info(doc, deviceId, false);
}

/**
 * The next Master Profile, signed with the master key this device holds (`store`): `add`/`remove` an
 * administrator key. `usage.invalid` when this device does not hold the master key.
 */
export async function nextMasterProfile(
  store: ClientStore,
  doc: ActiveProfile,
  change: { readonly add?: PublicKeyInput; readonly remove?: string },
): Promise<SignedProfile<MasterProfile>> {
  const masterKey = await loadMasterKey(store);
  if (masterKey === undefined)
    throw new ClientError(
      'usage.invalid',
      'only the device that holds the master key can change the administrators',
      {
        check: 'master key',
      },
    );
  const m = doc.master.profile;
  const administrators = [
    ...m.administrators.filter((k) => k.udf !== change.remove),
    ...(change.add === undefined ? [] : [change.add]),
  ];
  return buildMasterProfile(
    {
      administrators,
      ...(m.escrow ? { escrow: m.escrow } : {}),
      ...(m.escrowConsent ? { escrowConsent: m.escrowConsent } : {}),
      sequence: m.sequence + 1,
      created: m.created,
    },
    masterKey,
  );
}
