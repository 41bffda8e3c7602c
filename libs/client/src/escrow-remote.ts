import {
  accountView,
  personalProfileId,
  type ApplicationProfile,
  type DeviceProfile,
  type MasterProfile,
  type PersonalProfile,
  type SignedProfile,
} from '@cryptomesh/mesh';
import type { AccountSession } from './account-session';
import { ClientError, isClientError } from './client-error';
import { portalErrorCode } from './gateway-client';
import { registerAccount } from './portal-switch';
import type { MeshProfileManager } from './profile-manager';
import type { ActiveProfile, ProfileDocument } from './profile-document';
import type { PortalTrust } from './trust';
import type { VerifiedProfile } from './verified-profile';
import { verifiedReader } from './verified-reader';

/** How long a read of the home's log at this member waits for a quorum of cosignatures. */

/**
 * Escrow recovery at a member of the federation that is not the account's home (issue #19 item 2;
 * docs/design/client.md "Escrow recovery at another member"): the member holds the blob (replicated
 * from the home, EscrowGet) but not the account, and the home may be gone. So, acting as the
 * escrow's recovery device (an administrator), this registers the account at the member the way
 * `mesh portal switch` does with the old portal unreachable: the Master, Personal, Device and
 * Application Profiles are read from THIS member's query service — its mirror of the home's log,
 * each read verified (checkpoint signed by the home's log key and cosigned to quorum, inclusion,
 * signing rule: client.md "Verified reads") — then CreateAccount with them (PoW as the member's Hello
 * demands) and Publish of each application. The account stays open at the old home (`mesh portal
 * switch` from an administrator closes it once the old home answers).
 *
 * Resolves false, doing nothing, when the member knows the account already (it is its home, or a
 * resumed recovery), or answers anything but `account.unknown` (recoverEscrow then reports it); and
 * rethrows that `account.unknown` when the member's log shows no such account from another portal
 * (an account deleted at its home: nothing to recover elsewhere).
 */
export async function registerFromMirror(
  manager: MeshProfileManager,
  recovering: AccountSession,
  doc: ProfileDocument,
  masterId: string,
  trust: PortalTrust,
  proofOfWorkLevel: number,
): Promise<boolean> {
  let unknown: unknown;
  try {
    await recovering.authenticated('Status');
    return false;
  } catch (error) {
    if (portalErrorCode(error) !== 'account.unknown') return false;
    unknown = error;
  }
  const read = verifiedReader(manager.options, trust, manager.store, doc.account);
  let masterRead: VerifiedProfile;
  try {
    masterRead = await read(masterId, 'master', undefined);
  } catch (error) {
    if (isClientError(error, 'portal.refused')) throw unknown;
    throw error;
  }
  if (masterRead.log === trust.home.id) throw unknown;
  const master = masterRead.signed as SignedProfile<MasterProfile>;
  const personal = (await read(personalProfileId(masterId), 'personal', accountView(master, undefined)))
    .signed as SignedProfile<PersonalProfile>;
  const view = accountView(master, personal);
  const devices: SignedProfile<DeviceProfile>[] = [];
  for (const entry of personal.profile.devices) {
    const device = (await read(entry.id, 'device', undefined)).signed as SignedProfile<DeviceProfile>;
    if (device.profile.encryption.udf === entry.encryption.udf) devices.push(device);
  }
  if (!devices.some((d) => d.profile.id === recovering.deviceId))
    throw new ClientError(
      'usage.invalid',
      `the recovery device of this escrow is not a device of ${doc.account} in ${masterRead.log}'s log: the escrow is void`,
      { portal: trust.home.id, check: 'recovery device' },
    );
  const applications: SignedProfile<ApplicationProfile>[] = [];
  for (const entry of personal.profile.applications)
    applications.push(
      (await read(entry.id, 'application', view)).signed as SignedProfile<ApplicationProfile>,
    );

  const active: ActiveProfile = { ...doc, master, personal, devices };
  await registerAccount(recovering, active, devices, proofOfWorkLevel);
  for (const signed of applications) await recovering.publish('create', signed);
  return true;
}
