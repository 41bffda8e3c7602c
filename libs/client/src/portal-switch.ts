import {
  readProfileOf,
  requestBodyUdf,
  solveProofOfWorkAsync,
  type ApplicationProfile,
  type DeviceProfile,
  type SignedProfile,
} from '@cryptomesh/mesh';
import { moveAccount } from './account-close';
import {
  carryCatalogs,
  reconcileLostCatalogs,
  snapshotCatalogs,
  type CatalogMoveOutcome,
  type CatalogSnapshot,
} from './catalog-move';
import type { AccountSession } from './account-session';
import { ClientError, isClientError } from './client-error';
import { readEscrowDocuments } from './escrow';
import { portalErrorCode, type GatewayFields } from './gateway-client';
import { saveTrust } from './log-check';
import type { MeshProfileManager, PortalOptions } from './profile-manager';
import { storeProfileMemory } from './profile-memory';
import {
  flatJws,
  jwsOf,
  readApplicationDocuments,
  requireAdministrator,
  writeProfileDocument,
  type ActiveProfile,
  type PortalRef,
} from './profile-document';

/**
 * CreateAccount of `doc`'s Master and Personal Profiles and `devices` at the session's portal, with a
 * proof of work at `level` over the statement (docs/PROTOCOL.md "CreateAccount"), authorised by the
 * session's (administrator) device. An `account.exists` refusal where Status shows this very Master
 * Profile (a registration resumed after a lost answer) is success.
 */
export async function registerAccount(
  session: AccountSession,
  doc: ActiveProfile,
  devices: readonly SignedProfile<DeviceProfile>[],
  level: number,
): Promise<void> {
  const record = await session.authorise({
    operation: 'CreateAccount',
    account: doc.accountUdf,
    master: doc.master,
    personal: doc.personal,
    devices,
  });
  const body: GatewayFields = {
    Account: doc.account,
    Master: jwsOf(doc.master),
    Personal: jwsOf(doc.personal),
    Devices: devices.map(jwsOf),
    Authorisation: flatJws(record.authorisation),
    ...(level > 0
      ? {
          ProofOfWork: await solveProofOfWorkAsync(requestBodyUdf(record.statement), level, {
            random: session.random,
          }),
        }
      : {}),
  };
  try {
    await session.gateway.send('CreateAccount', body);
  } catch (error) {
    if (portalErrorCode(error) !== 'account.exists') throw error;
    const status = await session.authenticated('Status').catch(() => undefined);
    if (masterIdOf(status) !== doc.master.profile.id) throw error;
  }
}

function masterIdOf(status: GatewayFields | undefined): string | undefined {
  try {
    return status?.Master === undefined ? undefined : readProfileOf(status.Master, 'master').profile.id;
  } catch {
    return undefined;
  }
}

/** The portal's Status of this account, or undefined when the portal does not know the account. */
async function statusAt(session: AccountSession): Promise<GatewayFields | undefined> {
  try {
    return await session.authenticated('Status');
  } catch (error) {
    if (portalErrorCode(error) === 'account.unknown') return undefined;
    throw error;
  }
}

/**
 * `mesh portal switch` (002 §7.8 — no user capture): registers the same profile at another portal
 * and makes it the home portal. The profiles come from the current home portal when it answers, else
 * from this device's copies (profile.json, apps/) — so a portal that is gone does not hold the profile
 * hostage. At the new portal: CreateAccount with the same Master Profile, the current Personal Profile
 * and the Device Profiles known here (an administrator device; PoW as its Hello demands), then Publish
 * of every application profile it does not hold, the escrow blobs kept here put again, and every
 * catalog object read (verified) at the old portal written there with the same values
 * (catalog-move.ts; when the old portal cannot be read, the objects this device saw are reported lost
 * and its copy of the catalog key is written there). When the
 * account is already there with this Master Profile (another device switched first, or a resumed
 * switch) nothing is registered again and any device may switch. Then an administrator device closes
 * the account at the old portal with a signed MoveAccount naming the new home's origin
 * (federation.md "Which value is current"): from then on the old portal refuses every request for it
 * (`account.moved`) — a device removed later cannot act there — and its log tells every auditor and
 * client where the account went. This client remembers the move (profile-memory.ts), so that it
 * refuses a value served from the old log. An old portal that is down, or a device that is no
 * administrator, leaves the account there open (`closed: false`; switching again from an
 * administrator closes it). Only then are trust.json and profile.json pointed at the new portal: a
 * crash before leaves the old portal home — and when the old account was closed already, switching
 * again resumes from this device's copies. The other devices keep using the old portal until each
 * switches too; the old portal refuses them `account.moved`, which tells them to.
 * `usage.invalid` when the account there belongs to another profile, or registering needs an
 * administrator device.
 */
export async function switchPortal(
  manager: MeshProfileManager,
  options: PortalOptions,
): Promise<{ portal: PortalRef; closed: boolean; catalogs: CatalogMoveOutcome }> {
  const opened = await manager.open();
  let doc = opened.doc;
  let applications: SignedProfile<ApplicationProfile>[] = [];
  let devices: SignedProfile<DeviceProfile>[] = [...doc.devices];
  let catalogs: CatalogSnapshot | undefined;
  try {
    doc = await manager.refresh(opened.session, doc);
    for (const entry of doc.personal.profile.applications) {
      const signed = await opened.session.application(doc.master, doc.personal, entry.id);
      if (signed !== undefined) applications.push(signed);
    }
    devices = await knownDevices(opened.session, doc);
    // Every catalog object, verified — before anything is written anywhere (a value that does not
    // verify stops the switch: verify.catalog).
    catalogs = await snapshotCatalogs({ store: manager.store, session: opened.session, doc });
  } catch (error) {
    // A portal that is gone, or that closed the account (a resumed switch): this device's copies.
    if (!isClientError(error, 'portal.unreachable') && portalErrorCode(error) !== 'account.moved')
      throw error;
    const ids = new Set(doc.personal.profile.applications.map((a) => a.id));
    applications = (await readApplicationDocuments(manager.store)).filter((a) => ids.has(a.profile.id));
  }

  const gateway = manager.gateway(options.gatewayUrl);
  const hello = await gateway.hello();
  const { trust, portal } = await manager.discover(options, gateway.portal, hello.queryUrl);
  const moved: ActiveProfile = { ...doc, portal, devices };
  const session = await manager.sessionFor(moved, opened.session.keys, false);

  let status = await statusAt(session);
  if (status !== undefined && masterIdOf(status) !== doc.master.profile.id)
    throw new ClientError('usage.invalid', `${doc.account} at ${portal.id} belongs to another profile`, {
      portal: portal.id,
      check: 'account',
    });
  if (status === undefined) {
    requireAdministrator(doc, session.deviceId, `${doc.account} is not registered at ${portal.id} yet`);
    const listed = new Set(doc.personal.profile.devices.map((d) => d.id));
    const sent = [doc.device, ...devices].filter((d) => listed.has(d.profile.id));
    await registerAccount(session, moved, sent, hello.proofOfWorkLevel);
    status = await session.authenticated('Status');
  }
  await catchUp(session, moved, status);
  const held = activeObjects(status);
  for (const signed of applications)
    if (!held.has(signed.profile.id)) await session.publish('create', signed);
  for (const escrow of await readEscrowDocuments(manager.store)) {
    try {
      await session.authenticated('EscrowPut', { Key: escrow.key, Blob: escrow.blob });
    } catch (error) {
      if (portalErrorCode(error) !== 'persistence.conflict') throw error; // already there
    }
  }
  // The catalogs (catalog-move.ts), before the old portal closes the account and erases them.
  const account = { store: manager.store, session, doc: moved };
  const catalogMove =
    catalogs === undefined ? await reconcileLostCatalogs(account) : await carryCatalogs(account, catalogs);

  // Close the account at the old portal (a no-op when it is the new one: switching to home again).
  const old = opened.doc.portal.id;
  let closed = false;
  if (old !== portal.id && isAdministrator(doc, opened.session.deviceId)) {
    closed = (await moveAccount(opened.session, trust.home.origin)) === 'closed';
    if (closed) {
      const memory = storeProfileMemory(manager.store);
      for (const signed of [doc.master, doc.personal])
        await memory.moved(signed.profile.id, signed.profile.sequence, old, portal.id);
    }
  }

  // The commit point: from here the new portal is home.
  await saveTrust(manager.store, trust);
  await writeProfileDocument(manager.store, moved);
  const verified = await manager.sessionFor(moved, opened.session.keys, trust);
  await manager.refresh(verified, moved);
  return { portal, closed, catalogs: catalogMove };
}

function isAdministrator(doc: ActiveProfile, deviceId: string): boolean {
  return doc.master.profile.administrators.some((k) => k.udf === deviceId);
}

/** Publishes this device's newer Master or Personal Profile where the portal holds an older one. */
async function catchUp(session: AccountSession, doc: ActiveProfile, status: GatewayFields): Promise<void> {
  for (const [mine, theirs] of [
    [doc.master, status.Master],
    [doc.personal, status.Personal],
  ] as const) {
    let held: number;
    try {
      held = readProfileOf(theirs, mine.profile.kind).profile.sequence;
    } catch {
      continue; // a Status without it: nothing to compare
    }
    if (mine.profile.sequence > held) await session.publish('update', mine);
  }
}

function activeObjects(status: GatewayFields): Set<string> {
  const objects = Array.isArray(status.Objects) ? (status.Objects as GatewayFields[]) : [];
  return new Set(objects.filter((o) => o.State === 'active').map((o) => String(o.Id)));
}

/** The Device Profiles of every listed device: those kept here, the others read from the portal. */
async function knownDevices(
  session: AccountSession,
  doc: ActiveProfile,
): Promise<SignedProfile<DeviceProfile>[]> {
  const kept = new Map(doc.devices.map((d) => [d.profile.id, d]));
  const out: SignedProfile<DeviceProfile>[] = [];
  for (const entry of doc.personal.profile.devices) {
    if (entry.id === doc.device.profile.id) continue;
    const known = kept.get(entry.id) ?? (await session.device(entry.id));
    if (known !== undefined && known.profile.encryption.udf === entry.encryption.udf) out.push(known);
  }
  return out;
}
