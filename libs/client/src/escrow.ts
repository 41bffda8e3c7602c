import {
  decryptJwe,
  encryptJwe,
  fromBase64Url,
  isCryptoError,
  keyUdf,
  privateJwk,
  publicKeyOf,
  recoverSecret,
  splitSecret,
  toBase64Url,
  utf8,
  type KeyPair,
} from '@cryptomesh/crypto/portable';
import {
  buildDeviceProfile,
  buildPersonalProfile,
  checkProfileSigner,
  personalProfileId,
  profileView,
  readProfileOf,
  type MasterProfile,
  type SignedProfile,
} from '@cryptomesh/mesh';
import { nextPersonalInput, publishApplications, readApplications } from './application-data';
import { ClientError, isClientError } from './client-error';
import type { ClientStore } from './client-store';
import {
  deviceKeysJson,
  generateDeviceKeys,
  loadMasterKey,
  parseJson,
  readDeviceKeys,
  readPrivateKey,
  saveDeviceKeys,
  saveMasterKey,
  type DeviceKeys,
} from './device-keys';
import { registerFromMirror } from './escrow-remote';
import { portalErrorCode } from './gateway-client';
import { saveTrust } from './log-check';
import type { MeshProfileManager, PortalOptions } from './profile-manager';
import {
  accountName,
  jwsOf,
  PROFILE_DOCUMENT,
  requireAdministrator,
  writeProfileDocument,
  type ActiveProfile,
} from './profile-document';

/**
 * Offline escrow (000 §6.5.1, 002 §2.1.1 and §3.2.1). A random 256-bit escrow key is drawn; the blob
 * — the master key, the keys of a recovery device, the Master Profile and the account — is a JWE
 * (ECDH-ES+A256KW, A256GCM: docs/crypto.md "JWE profile") to the X25519 key whose private scalar is
 * the escrow key, stored at the portal with EscrowPut under that key's UDF, so it names no owner; the
 * escrow key is split into type-144 Shamir shares (UDF draft §4.5) for paper.
 *
 * Why a recovery device: the portal accepts a change only when it is authorised by a device of the
 * current Personal Profile (mesh-model.md "Records"), and application data is readable only by its
 * devices. The master key alone can do neither. So createEscrow connects a device whose keys exist
 * only inside the blob — an administrator (in the Master Profile) listed in the Personal Profile,
 * authorised for every application — and recovery acts as that device to connect the new one.
 * Removing that device (`mesh device remove`) voids the escrow.
 */

/** Where the escrow blobs made or recovered here are kept (encrypted): switching portal puts them again. */
export const ESCROW_DOCUMENTS = 'escrow/';
const BLOB_VERSION = 1;
const ESCROW_KEY_BYTES = 32;

/** What createEscrow hands the user: the shares to print; `key` names the blob at the portal. */
export interface EscrowShares {
  readonly key: string;
  readonly threshold: number;
  readonly shares: readonly string[];
  /** The recovery device connected for this escrow. */
  readonly deviceId: string;
}

/** An escrow blob as EscrowPut carries it. */
export interface EscrowBlob {
  readonly key: string;
  readonly blob: string;
}

/** The escrow blobs kept in this store. */
export async function readEscrowDocuments(store: ClientStore): Promise<EscrowBlob[]> {
  const out: EscrowBlob[] = [];
  for (const name of await store.list(ESCROW_DOCUMENTS)) {
    const text = await store.read(name);
    if (text === undefined) continue;
    const value = parseJson(text, name) as { Key?: unknown; Blob?: unknown } | null;
    if (typeof value?.Key !== 'string' || typeof value.Blob !== 'string')
      throw new ClientError('state.corrupt', `${name}: no escrow Key and Blob`, { check: name });
    out.push({ key: value.Key, blob: value.Blob });
  }
  return out;
}

function writeEscrowDocument(store: ClientStore, escrow: EscrowBlob): Promise<void> {
  const json = { Key: escrow.key, Blob: escrow.blob };
  return store.write(`${ESCROW_DOCUMENTS}${escrow.key}.json`, `${JSON.stringify(json, null, 2)}\n`);
}

/** The X25519 key pair whose private scalar is the escrow key, and its UDF (the blob's identifier). */
export function escrowKeyPair(secret: Uint8Array): { pair: KeyPair<'X25519'>; key: string } {
  const pair: KeyPair<'X25519'> = {
    algorithm: 'X25519',
    privateKey: secret,
    publicKey: publicKeyOf('X25519', secret),
  };
  return { pair, key: keyUdf('X25519', pair.publicKey) };
}

/** What a fresh device needs to rebuild the profile: the blob's plaintext. */
export interface EscrowContent {
  readonly account: string;
  readonly masterKey: KeyPair<'Ed25519'>;
  readonly recovery: DeviceKeys;
  readonly master: SignedProfile<MasterProfile>;
}

/** Encrypts `content` under `secret` (32 bytes): the EscrowPut `Key` and `Blob`. */
export async function sealEscrow(content: EscrowContent, secret: Uint8Array): Promise<EscrowBlob> {
  const { pair, key } = escrowKeyPair(secret);
  const plaintext = {
    Version: BLOB_VERSION,
    Account: content.account,
    MasterKey: privateJwk(content.masterKey),
    Recovery: deviceKeysJson(content.recovery),
    Master: jwsOf(content.master),
  };
  const jwe = await encryptJwe(utf8(JSON.stringify(plaintext)), [pair], { contentType: 'application/json' });
  return { key, blob: toBase64Url(utf8(JSON.stringify(jwe))) };
}

/**
 * Decrypts and reads a blob with the escrow key `secret`. Throws ClientError `verify.answer` (naming
 * `portal`) when it does not decrypt or is not an escrow of this SDK, `verify.profile` when its Master
 * Profile is not the master key's own.
 */
export async function openEscrow(blob: string, secret: Uint8Array, portal?: string): Promise<EscrowContent> {
  const fail = (why: string, cause?: unknown) =>
    new ClientError('verify.answer', `the escrow blob ${why}`, {
      check: 'escrow blob',
      ...(portal === undefined ? {} : { portal }),
      ...(cause === undefined ? {} : { cause }),
    });
  let value: Record<string, unknown>;
  try {
    const bytes = fromBase64Url(blob);
    if (bytes === undefined) throw fail('is not base64url');
    const jwe = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    const plaintext = await decryptJwe(jwe, { algorithm: 'X25519', privateKey: secret });
    value = JSON.parse(new TextDecoder().decode(plaintext)) as Record<string, unknown>;
  } catch (cause) {
    if (isClientError(cause)) throw cause;
    throw fail(
      `does not decrypt with the recovered key${isCryptoError(cause) ? `: ${cause.message}` : ''}`,
      cause,
    );
  }
  try {
    if (value.Version !== BLOB_VERSION || typeof value.Account !== 'string')
      throw new Error(`version ${String(value.Version)}`);
    const masterKey = readPrivateKey(value.MasterKey, 'Ed25519', 'the escrowed master key');
    const recovery = readDeviceKeys(value.Recovery, 'the escrowed recovery device');
    const master = readProfileOf(value.Master, 'master');
    if (master.profile.id !== keyUdf('Ed25519', masterKey.publicKey))
      throw new Error('another Master Profile');
    await checkProfileSigner(master, profileView([], []));
    return { account: value.Account, masterKey, recovery, master };
  } catch (cause) {
    throw fail(
      `is not a Mesh profile escrow: ${cause instanceof Error ? cause.message : String(cause)}`,
      cause,
    );
  }
}

/**
 * `mesh escrow create` (administrator holding the master key): connects a recovery device, stores the
 * blob at the home portal (EscrowPut) and resolves with the `shares` shares, any `threshold` of which
 * recover the profile. The blob is put first (an orphan blob, anonymous, is all a crash then leaves);
 * a crash after the profiles are published but before the shares are shown leaves a recovery device
 * nobody can use: remove it. `usage.invalid` for bad parameters (2 ≤ threshold ≤ shares ≤ 16, threshold
 * ≤ 15), a device that is no administrator or does not hold the master key.
 */
export async function createEscrow(
  manager: MeshProfileManager,
  parameters: { readonly threshold: number; readonly shares: number },
): Promise<EscrowShares> {
  const opened = await manager.open();
  const session = opened.session;
  const doc = await manager.refresh(session, opened.doc);
  requireAdministrator(doc, session.deviceId, 'escrow');
  const secret = session.random(ESCROW_KEY_BYTES);
  let shares: string[];
  try {
    shares = splitSecret(secret, parameters, session.random);
  } catch (cause) {
    throw new ClientError(
      'usage.invalid',
      `escrow: ${isCryptoError(cause) ? cause.message : String(cause)}`,
      {
        check: 'escrow parameters',
        cause,
      },
    );
  }
  const recovery = generateDeviceKeys(session.random);
  const master = await manager.nextMaster(doc, { add: recovery.signature });
  const masterKey = await loadMasterKeyOf(manager);
  const escrow = await sealEscrow({ account: doc.account, masterKey, recovery, master }, secret);
  await session.authenticated('EscrowPut', { Key: escrow.key, Blob: escrow.blob });
  await writeEscrowDocument(manager.store, escrow);

  const contents = await readApplications(session, doc.master, doc.personal);
  const device = await buildDeviceProfile(
    { encryption: recovery.encryption, description: 'offline escrow (paper shares)' },
    recovery.signature,
  );
  await session.publish('update', master);
  const personal = await buildPersonalProfile(
    nextPersonalInput(doc.personal.profile, { add: [recovery] }),
    session.keys.signature,
  );
  await session.publish('update', personal);
  await session.publish('create', device);
  const next: ActiveProfile = { ...doc, master, personal, devices: [...doc.devices, device] };
  await writeProfileDocument(manager.store, next);
  await publishApplications(session, personal, contents, manager.store, master.profile.escrow);
  return { key: escrow.key, threshold: parameters.threshold, shares, deviceId: device.profile.id };
}

async function loadMasterKeyOf(manager: MeshProfileManager): Promise<KeyPair<'Ed25519'>> {
  const key = await loadMasterKey(manager.store);
  if (key === undefined) throw new ClientError('usage.invalid', 'this device does not hold the master key');
  return key;
}

/**
 * `mesh escrow recover` on a fresh home: combines the shares, fetches the blob (EscrowGet) from the
 * portal (the home, or any member of its federation: the blob is replicated, and at a member that
 * does not know the account it is first registered there, escrow-remote.ts), decrypts it, and —
 * acting as the escrow's recovery device — makes this machine a new
 * administrator device: a Master Profile that lists its key (signed with the master key), a Personal
 * Profile that lists it, its Device Profile, and every application re-encrypted to include it. The
 * master key is kept here; the recovery keys are not. Resolves with the profile fingerprint.
 * `usage.invalid`: a home that holds a profile, shares that do not combine (too few, mixed, corrupt)
 * or that name no blob at this portal, another account than `account`, or a recovery device that
 * was removed from the profile.
 */
export async function recoverEscrow(
  manager: MeshProfileManager,
  shares: readonly string[],
  options: PortalOptions & { readonly account?: string; readonly description?: string },
): Promise<{ fingerprint: string; account: string; deviceId: string }> {
  if ((await manager.store.read(PROFILE_DOCUMENT)) !== undefined)
    throw new ClientError('usage.invalid', 'escrow recovery needs a fresh home: this one holds a profile');
  let secret: Uint8Array;
  try {
    secret = recoverSecret(shares);
  } catch (cause) {
    throw new ClientError(
      'usage.invalid',
      `the shares do not recover a key: ${isCryptoError(cause) ? cause.message : String(cause)}`,
      {
        check: 'escrow shares',
        cause,
      },
    );
  }
  if (secret.length !== ESCROW_KEY_BYTES)
    throw new ClientError(
      'usage.invalid',
      `the shares recover a ${secret.length * 8}-bit secret, not an escrow key`,
      {
        check: 'escrow shares',
      },
    );
  const gateway = manager.gateway(options.gatewayUrl);
  const hello = await gateway.hello();
  const { key } = escrowKeyPair(secret);
  let blob: string;
  try {
    const f = await gateway.send('EscrowGet', { Key: key });
    if (typeof f.Blob !== 'string')
      throw new ClientError('verify.answer', `${gateway.portal}: EscrowGet without a Blob`);
    blob = f.Blob;
  } catch (error) {
    if (portalErrorCode(error) !== 'not-found') throw error;
    throw new ClientError(
      'usage.invalid',
      `${gateway.portal} holds no escrow under the key these shares give: a wrong or mixed set of shares, or another portal`,
      {
        portal: gateway.portal,
        check: 'escrow shares',
        cause: error,
      },
    );
  }
  const content = await openEscrow(blob, secret, gateway.portal);
  const name = accountName(content.account);
  if (options.account !== undefined && accountName(options.account).account !== name.account)
    throw new ClientError('usage.invalid', `these shares escrow ${name.account}, not ${options.account}`, {
      check: 'account',
    });
  const { trust, portal } = await manager.discover(options, gateway.portal, hello.queryUrl);

  const masterId = content.master.profile.id;
  const provisional = {
    status: 'active' as const,
    ...name,
    portal,
    device: await buildDeviceProfile(
      { encryption: content.recovery.encryption, description: 'recovery' },
      content.recovery.signature,
    ),
    devices: [],
  };
  const recovering = await manager.sessionFor({ ...provisional }, content.recovery, trust);
  // At a member that is not the account's home (#19 item 2): registered here from its mirror first.
  await registerFromMirror(manager, recovering, provisional, masterId, trust, hello.proofOfWorkLevel);
  let master: SignedProfile<MasterProfile>;
  let personal;
  try {
    master = await recovering.master(masterId);
    personal = await recovering.personal(master, personalProfileId(masterId));
  } catch (error) {
    if (portalErrorCode(error) !== 'auth.unknown-device') throw error;
    throw new ClientError(
      'usage.invalid',
      `the recovery device of this escrow was removed from ${name.account}: the escrow is void`,
      {
        portal: portal.id,
        check: 'recovery device',
        cause: error,
      },
    );
  }
  const contents = await readApplications(recovering, master, personal);

  // The new device's keys and the master key first: what follows publishes them.
  const keys = generateDeviceKeys(recovering.random);
  await saveMasterKey(manager.store, content.masterKey);
  await saveDeviceKeys(manager.store, keys);
  const device = await buildDeviceProfile(
    { encryption: keys.encryption, description: options.description ?? 'recovered administrator device' },
    keys.signature,
  );
  const doc: ActiveProfile = { ...provisional, device, master, personal, devices: [] };
  const nextMaster = await manager.nextMaster(doc, { add: keys.signature });
  await recovering.publish('update', nextMaster);
  const nextPersonal = await buildPersonalProfile(
    nextPersonalInput(personal.profile, { add: [keys] }),
    keys.signature,
  );
  await recovering.publish('update', nextPersonal);
  const recovered: ActiveProfile = { ...doc, master: nextMaster, personal: nextPersonal };
  const session = await manager.sessionFor(recovered, keys, trust);
  await session.publish('create', device);
  await saveTrust(manager.store, trust);
  await writeProfileDocument(manager.store, recovered);
  await writeEscrowDocument(manager.store, { key, blob });
  await publishApplications(session, nextPersonal, contents, manager.store, nextMaster.profile.escrow);
  return { fingerprint: masterId, account: name.account, deviceId: device.profile.id };
}
