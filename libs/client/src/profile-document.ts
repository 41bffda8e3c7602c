import {
  accountUdf,
  isCryptoError,
  normaliseAccountAddress,
  type FlattenedJws,
} from '@cryptomesh/crypto/portable';
import {
  isMeshError,
  readProfileOf,
  type ApplicationProfile,
  type DeviceProfile,
  type MasterProfile,
  type PersonalProfile,
  type ProfileKind,
  type SignedProfile,
} from '@cryptomesh/mesh';
import { ClientError } from './client-error';
import type { ClientStore } from './client-store';
import { parseJson } from './device-keys';

/** The document of the profile this home holds (docs/design/client.md "State"). */
export const PROFILE_DOCUMENT = 'profile.json';

/**
 * Where the profile stands on this device:
 * - `registering`: keys and profiles made, CreateAccount not yet answered (createProfile resumes it);
 * - `connecting`: ConnectStart sent, the administrator has not decided (connectStatus polls);
 * - `rejected`: the administrator refused this device (connect may start again);
 * - `active`: this device is listed in the Personal Profile this document holds.
 */
export type ProfileStatus = 'registering' | 'connecting' | 'rejected' | 'active';

/** The home portal: where requests go and where reads are verified. */
export interface PortalRef {
  readonly gatewayUrl: string;
  readonly queryUrl: string;
  /** Its `PortalId` (Hello). */
  readonly id: string;
}

/**
 * profile.json. The profiles are as last checked by this device (their signing rules held when they
 * were stored); the store is this device's own, so they are not checked again when read back.
 */
export interface ProfileDocument {
  readonly status: ProfileStatus;
  /** The normalised account address. */
  readonly account: string;
  readonly accountUdf: string;
  readonly portal: PortalRef;
  /** This device's own Device Profile. */
  readonly device: SignedProfile<DeviceProfile>;
  readonly master?: SignedProfile<MasterProfile>;
  readonly personal?: SignedProfile<PersonalProfile>;
  /** Other devices' Device Profiles seen (accepted here, or fetched): CreateAccount re-sends them. */
  readonly devices: readonly SignedProfile<DeviceProfile>[];
  /** The pending connection request of a `connecting` device. */
  readonly connection?: { readonly requestId: string; readonly witness: string };
}

/** A profile document whose Master and Personal Profiles are known. */
export type ActiveProfile = ProfileDocument & {
  readonly master: SignedProfile<MasterProfile>;
  readonly personal: SignedProfile<PersonalProfile>;
};

/** The flattened JWS of a signed profile, as requests and documents carry it. */
export function jwsOf(signed: SignedProfile): FlattenedJws {
  return flatJws(signed.jws);
}

/** Exactly the three members of a flattened JWS (a request carries nothing else). */
export function flatJws(jws: FlattenedJws): FlattenedJws {
  return { protected: jws.protected, payload: jws.payload, signature: jws.signature };
}

/** The normalised address and UDF of an account, or ClientError `usage.invalid`. */
export function accountName(address: string): { account: string; accountUdf: string } {
  try {
    const account = normaliseAccountAddress(address);
    return { account, accountUdf: accountUdf(account) };
  } catch (cause) {
    const why = isCryptoError(cause) ? cause.message : String(cause);
    throw new ClientError('usage.invalid', `not an account address: ${why}`, { check: 'account', cause });
  }
}

/** Writes profile.json (not secret: it holds public profiles only). */
export function writeProfileDocument(store: ClientStore, doc: ProfileDocument): Promise<void> {
  const json = {
    Status: doc.status,
    Account: doc.account,
    AccountUdf: doc.accountUdf,
    Portal: { GatewayUrl: doc.portal.gatewayUrl, QueryUrl: doc.portal.queryUrl, Id: doc.portal.id },
    Device: jwsOf(doc.device),
    ...(doc.master === undefined ? {} : { Master: jwsOf(doc.master) }),
    ...(doc.personal === undefined ? {} : { Personal: jwsOf(doc.personal) }),
    Devices: doc.devices.map(jwsOf),
    ...(doc.connection === undefined
      ? {}
      : { Connection: { RequestId: doc.connection.requestId, Witness: doc.connection.witness } }),
  };
  return store.write(PROFILE_DOCUMENT, `${JSON.stringify(json, null, 2)}\n`);
}

/** profile.json, or undefined when this home holds no profile. Throws `state.corrupt` when unreadable. */
export async function readProfileDocument(store: ClientStore): Promise<ProfileDocument | undefined> {
  const text = await store.read(PROFILE_DOCUMENT);
  if (text === undefined) return undefined;
  const value = parseJson(text, PROFILE_DOCUMENT);
  const fail = (why: string, cause?: unknown): never => {
    throw new ClientError('state.corrupt', `${PROFILE_DOCUMENT}: ${why}`, { check: PROFILE_DOCUMENT, cause });
  };
  if (typeof value !== 'object' || value === null) return fail('not a JSON object');
  const v = value as Record<string, unknown>;
  const text_ = (x: unknown, name: string): string => (typeof x === 'string' ? x : fail(`no "${name}"`));
  const signed = <K extends ProfileKind>(x: unknown, kind: K, name: string) => {
    try {
      return readProfileOf(x, kind);
    } catch (cause) {
      return fail(
        `"${name}" is not a ${kind} profile: ${isMeshError(cause) ? cause.message : String(cause)}`,
        cause,
      );
    }
  };
  const status = text_(v.Status, 'Status');
  if (!['registering', 'connecting', 'rejected', 'active'].includes(status)) fail(`unknown Status ${status}`);
  const portal = (v.Portal ?? {}) as Record<string, unknown>;
  const connection = v.Connection as Record<string, unknown> | undefined;
  const devices = Array.isArray(v.Devices) ? v.Devices : fail('no "Devices" list');
  const doc: ProfileDocument = {
    status: status as ProfileStatus,
    account: text_(v.Account, 'Account'),
    accountUdf: text_(v.AccountUdf, 'AccountUdf'),
    portal: {
      gatewayUrl: text_(portal.GatewayUrl, 'Portal.GatewayUrl'),
      queryUrl: text_(portal.QueryUrl, 'Portal.QueryUrl'),
      id: text_(portal.Id, 'Portal.Id'),
    },
    device: signed(v.Device, 'device', 'Device'),
    ...(v.Master === undefined ? {} : { master: signed(v.Master, 'master', 'Master') }),
    ...(v.Personal === undefined ? {} : { personal: signed(v.Personal, 'personal', 'Personal') }),
    devices: devices.map((d, i) => signed(d, 'device', `Devices[${i}]`)),
    ...(connection === undefined
      ? {}
      : {
          connection: {
            requestId: text_(connection.RequestId, 'Connection.RequestId'),
            witness: text_(connection.Witness, 'Connection.Witness'),
          },
        }),
  };
  if ((doc.status === 'active' || doc.status === 'registering') && (!doc.master || !doc.personal))
    fail(`a ${doc.status} profile without its Master and Personal Profiles`);
  return doc;
}

/**
 * The active profile of this home. Throws ClientError `state.missing` when there is none (or this
 * device is not connected yet), `state.corrupt` when profile.json cannot be read.
 */
export async function requireActiveProfile(store: ClientStore): Promise<ActiveProfile> {
  const doc = await readProfileDocument(store);
  if (doc === undefined)
    throw new ClientError(
      'state.missing',
      `no ${PROFILE_DOCUMENT}: create a profile or connect this device first`,
      {
        check: PROFILE_DOCUMENT,
      },
    );
  if (doc.status !== 'active' || doc.master === undefined || doc.personal === undefined)
    throw new ClientError(
      'state.missing',
      `the profile of ${doc.account} is ${doc.status} on this device, not active`,
      {
        check: PROFILE_DOCUMENT,
      },
    );
  return doc as ActiveProfile;
}

/** `usage.invalid` unless `deviceId` is one of the Master Profile's Administrators (`why` prefixes it). */
export function requireAdministrator(doc: ActiveProfile, deviceId: string, why?: string): void {
  if (!doc.master.profile.administrators.some((k) => k.udf === deviceId))
    throw new ClientError(
      'usage.invalid',
      `${why === undefined ? '' : `${why}: `}this is not an administrator device of ${doc.account}`,
      { check: 'administrator' },
    );
}

/** The document name of an application's last seen profile: `apps/<type>.json` (`apps/<type>.<name>.json`). */
export function applicationDocument(type: string, name: string): string {
  return name === 'default' ? `apps/${type}.json` : `apps/${type}.${name}.json`;
}

/** Keeps the last Application Profile seen (for `mesh portal switch` when the old portal is gone). */
export function writeApplicationDocument(
  store: ClientStore,
  signed: SignedProfile<ApplicationProfile>,
): Promise<void> {
  const { type, name, id } = signed.profile;
  const json = { Id: id, Type: type, Name: name, Profile: jwsOf(signed) };
  return store.write(applicationDocument(type, name), `${JSON.stringify(json, null, 2)}\n`);
}

/** Every application profile kept in `apps/`; a document that cannot be read is `state.corrupt`. */
export async function readApplicationDocuments(
  store: ClientStore,
): Promise<SignedProfile<ApplicationProfile>[]> {
  const out: SignedProfile<ApplicationProfile>[] = [];
  for (const name of await store.list('apps/')) {
    const text = await store.read(name);
    if (text === undefined) continue;
    const value = parseJson(text, name) as { Profile?: unknown } | null;
    try {
      out.push(readProfileOf(value?.Profile, 'application'));
    } catch (cause) {
      throw new ClientError('state.corrupt', `${name}: no application profile`, { check: name, cause });
    }
  }
  return out;
}
