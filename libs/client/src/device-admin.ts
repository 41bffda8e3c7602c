import {
  buildPersonalProfile,
  checkProfileSigner,
  connectWitness,
  isMeshError,
  deviceEntry,
  profileView,
  readProfileOf,
  type DeviceProfile,
  type SignedProfile,
} from '@cryptomesh/mesh';
import type { AccountSession } from './account-session';
import { loadMasterKey } from './device-keys';
import { nextPersonalInput, publishApplications, readApplications } from './application-data';
import { ClientError } from './client-error';
import { portalErrorCode, type GatewayFields } from './gateway-client';
import type { MeshProfileManager } from './profile-manager';
import { flatJws, jwsOf, requireAdministrator, writeProfileDocument } from './profile-document';
import { reencryptCatalogsIfReadable, type CatalogSyncOutcome } from './catalog-sync';

/**
 * The administrator's side of device connection (002 §2.1.1) — the bodies of MeshProfileManager's
 * pending, accept, devices and remove, which document the contracts.
 */

/** A connected device as the administrator sees it. */
export interface DeviceInfo {
  readonly id: string;
  readonly description?: string;
  /** Its key is one of the Master Profile's Administrators: it may accept and remove devices. */
  readonly administrator: boolean;
  /** It is the device this manager runs on. */
  readonly self: boolean;
}

/** A connection request waiting for an administrator (ConnectPending). */
export interface PendingDevice {
  readonly requestId: string;
  readonly deviceId: string;
  readonly description: string;
  /**
   * The witness computed HERE from the request's own Device Profile, the account and the nonce the new
   * device chose (issue #14, hole 1) — never the portal's word: compare it with what the new device
   * shows, then give it to `accept`.
   */
  readonly witness: string;
  readonly created: number;
}

type PendingRequest = PendingDevice & { readonly device: SignedProfile<DeviceProfile> };

async function pendingRequests(session: AccountSession): Promise<PendingRequest[]> {
  const f = await session.authenticated('ConnectPending');
  const portal = session.gateway.portal;
  const bad = (why: string, evidence: Record<string, unknown>, cause?: unknown) =>
    new ClientError('verify.answer', `${portal}: ConnectPending ${why}`, {
      portal,
      check: 'ConnectPending answer',
      evidence,
      cause,
    });
  if (!Array.isArray(f.Requests)) throw bad('has no Requests list', { answer: f });
  const out: PendingRequest[] = [];
  for (const r of f.Requests as GatewayFields[]) {
    let device: SignedProfile<DeviceProfile>;
    try {
      device = readProfileOf(r.Device, 'device');
      await checkProfileSigner(device, profileView([], []));
    } catch (cause) {
      throw bad('lists a request whose Device Profile is not self-signed', { request: r }, cause);
    }
    if (typeof r.RequestId !== 'string') throw bad('lists a request without RequestId', { request: r });
    let witness: string;
    try {
      witness = connectWitness(session.accountUdf, device.profile, r.Nonce as string);
    } catch (cause) {
      if (!isMeshError(cause)) throw cause;
      throw bad('lists a request whose witness cannot be computed (no valid Nonce)', { request: r }, cause);
    }
    out.push({
      requestId: r.RequestId,
      deviceId: device.profile.id,
      description: device.profile.description,
      witness,
      created: typeof r.Created === 'number' ? r.Created : 0,
      device,
    });
  }
  return out;
}

export async function pendingDevices(manager: MeshProfileManager): Promise<PendingDevice[]> {
  const { session } = await manager.open();
  return (await pendingRequests(session)).map(({ device: _device, ...rest }) => rest);
}

/**
 * ConnectClear (administrator; issue #15): rejects every pending request at once, e.g. when strangers
 * filled the account; the addresses they came from then cannot take the places again for a while.
 * Resolves to how many were rejected.
 */
export async function clearPendingDevices(manager: MeshProfileManager): Promise<number> {
  const { session } = await manager.open();
  const f = await session.authenticated('ConnectClear');
  const rejected = f.Rejected;
  if (typeof rejected !== 'number' || !Number.isSafeInteger(rejected) || rejected < 0) {
    const portal = session.gateway.portal;
    throw new ClientError('verify.answer', `${portal}: ConnectClear answered no count of rejected requests`, {
      portal,
      check: 'ConnectClear answer',
      evidence: { answer: f },
    });
  }
  return rejected;
}

/** A witness as people type it: case and surrounding space do not matter. */
function normaliseWitness(witness: string): string {
  return witness.trim().toUpperCase();
}

export async function acceptDevice(
  manager: MeshProfileManager,
  requestId: string,
  witness: string,
  options: { readonly administrator?: boolean } = {},
): Promise<DeviceInfo & { readonly catalogs: CatalogSyncOutcome }> {
  if (typeof witness !== 'string' || witness.trim() === '')
    throw new ClientError('usage.invalid', 'accept needs the witness the new device shows', {
      check: 'witness',
    });
  const opened = await manager.open();
  const session = opened.session;
  const doc = await manager.refresh(session, opened.doc);
  requireAdministrator(doc, session.deviceId);
  // `--admin` needs the master key (administrator-rights.ts): refused here, before anything is signed,
  // rather than after the device is connected.
  if (options.administrator === true && (await loadMasterKey(manager.store)) === undefined)
    throw new ClientError(
      'usage.invalid',
      'cannot accept as an administrator: that changes the Master Profile, which only the master key signs, and this device does not hold it',
      { check: 'master key' },
    );
  // pendingRequests recomputes each request's witness from its own Device Profile and nonce: a request
  // whose witness cannot be computed is refused there (verify.answer).
  const request = (await pendingRequests(session)).find((r) => r.requestId === requestId);
  if (request === undefined)
    throw new ClientError('usage.invalid', `no pending connection request ${requestId} for ${doc.account}`, {
      check: 'request',
    });
  // The device in the request is the device in the user's hand only if the witness this device
  // computes is the one the new device shows (issue #14, hole 1). Nothing is signed before this.
  if (normaliseWitness(request.witness) !== normaliseWitness(witness))
    throw new ClientError(
      'verify.witness',
      `${session.gateway.portal}: request ${requestId} lists device ${request.deviceId}, whose witness is ` +
        `${request.witness}, not ${witness}: it is not the device the user compared — refused`,
      {
        portal: session.gateway.portal,
        check: 'connection witness',
        evidence: { requestId, compared: witness, computed: request.witness, device: jwsOf(request.device) },
      },
    );
  // Read (and check against the current Personal Profile) before it changes.
  const contents = await readApplications(session, doc.master, doc.personal);
  const device = request.device.profile;
  const personal = await buildPersonalProfile(
    nextPersonalInput(doc.personal.profile, { add: [deviceEntry(device)] }),
    session.keys.signature,
  );
  const record = await session.authorise({
    operation: 'ConnectComplete',
    account: doc.accountUdf,
    personal,
    device: request.device,
  });
  await session.gateway.send('ConnectComplete', {
    Account: doc.account,
    RequestId: requestId,
    Accept: true,
    Personal: jwsOf(personal),
    Device: jwsOf(request.device),
    Authorisation: flatJws(record.authorisation),
  });
  // Accepted: a crash from here leaves the applications unreadable by the new device until the next
  // write of each (every write encrypts to the current devices).
  const devices = [...doc.devices.filter((d) => d.profile.id !== device.id), request.device];
  await writeProfileDocument(manager.store, { ...doc, personal, devices });
  await publishApplications(session, personal, contents, manager.store, doc.master.profile.escrow);
  // Then the catalogs (catalog-sync.ts): the same crash rule — the new device reads them once this
  // has run, or `mesh catalog sync` does.
  const catalogs = await reencryptCatalogsIfReadable({
    store: manager.store,
    session,
    doc: { ...doc, personal, devices },
  });
  if (options.administrator === true) {
    // A second record: a crash before it leaves an ordinary device, which `mesh device promote` makes
    // an administrator (the ConnectComplete record carries no Master Profile; PROTOCOL.md).
    const next = { ...doc, personal, devices };
    const master = await manager.nextMaster(next, { add: device.signature });
    await session.publish('update', master);
    await writeProfileDocument(manager.store, { ...next, master });
  }
  return {
    id: device.id,
    description: device.description,
    administrator: options.administrator === true,
    self: false,
    catalogs,
  };
}

export async function listDevices(manager: MeshProfileManager): Promise<DeviceInfo[]> {
  const opened = await manager.open();
  const doc = await manager.refresh(opened.session, opened.doc);
  const known = new Map([doc.device, ...doc.devices].map((d) => [d.profile.id, d.profile.description]));
  const admins = new Set(doc.master.profile.administrators.map((k) => k.udf));
  return doc.personal.profile.devices.map((d) => {
    const description = known.get(d.id);
    return {
      id: d.id,
      ...(description === undefined ? {} : { description }),
      administrator: admins.has(d.signature.udf),
      self: d.id === doc.device.profile.id,
    };
  });
}

export async function removeDevice(
  manager: MeshProfileManager,
  deviceId: string,
): Promise<{ readonly catalogs: CatalogSyncOutcome }> {
  const opened = await manager.open();
  const session = opened.session;
  const doc = await manager.refresh(session, opened.doc);
  requireAdministrator(doc, session.deviceId);
  const entry = doc.personal.profile.devices.find((d) => d.id === deviceId);
  if (entry === undefined)
    throw new ClientError('usage.invalid', `no device ${deviceId} is connected to ${doc.account}`, {
      check: 'device',
    });
  if (deviceId === doc.device.profile.id)
    throw new ClientError(
      'usage.invalid',
      'a device cannot remove itself: remove it from another administrator',
      {
        check: 'device',
      },
    );
  const contents = await readApplications(session, doc.master, doc.personal);
  const administrator = doc.master.profile.administrators.some((k) => k.udf === entry.signature.udf);
  // Checked before anything is signed: withdrawing its right needs the master key.
  const master = administrator ? await manager.nextMaster(doc, { remove: entry.signature.udf }) : doc.master;
  const personal = await buildPersonalProfile(
    nextPersonalInput(doc.personal.profile, { remove: [deviceId] }),
    session.keys.signature,
  );
  // The catalogs BEFORE the Personal Profile changes (catalog-sync.ts): every value re-signed by this
  // device and encrypted to the remaining devices only, while each still verifies — a value signed by
  // the device removed would verify for nobody afterwards. A crash from here to the publish leaves the
  // device connected but unable to read the catalogs; removing it again finishes.
  const catalogs = await reencryptCatalogsIfReadable(
    { store: manager.store, session, doc },
    { master, personal },
  );
  // From here the device can neither sign requests nor is it a recipient of any later write. The
  // Personal Profile goes first, signed by this device: the Master Profile that drops an administrator
  // must not orphan a Personal Profile that administrator signed (issue #19).
  await session.publish('update', personal);
  if (administrator) await session.publish('update', master);
  const devices = doc.devices.filter((d) => d.profile.id !== deviceId);
  await writeProfileDocument(manager.store, { ...doc, master, personal, devices });
  try {
    await session.publish('delete', deviceId);
  } catch (error) {
    // Its Device Profile was never published here (a recovery device's is), or is deleted already.
    const code = portalErrorCode(error);
    if (code !== 'not-found' && code !== 'persistence.conflict') throw error;
  }
  await publishApplications(session, personal, contents, manager.store, master.profile.escrow);
  return { catalogs };
}
