import { decryptJwe, isCryptoError } from '@cryptomesh/crypto/portable';
import {
  applicationProfileId,
  buildApplicationProfile,
  profileKey,
  type ApplicationEntryInput,
  type ApplicationProfile,
  type DeviceEntry,
  type DeviceEntryInput,
  type JsonObject,
  type MasterProfile,
  type PersonalProfile,
  type PersonalProfileInput,
  type ProfileKey,
  type PublicKeyInput,
  type SignedProfile,
} from '@cryptomesh/mesh';
import type { AccountSession } from './account-session';
import { ClientError } from './client-error';
import type { ClientStore } from './client-store';
import type { DeviceKeys } from './device-keys';
import { writeApplicationDocument } from './profile-document';

/**
 * Application data shared by the devices of a profile (000 §6.3, 002 §4): an Application Profile's
 * `Private` is a JWE to the encryption key of every device the Personal Profile authorises for the
 * application — the devices whose signature key is among the application entry's `Signers`. This SDK
 * authorises every connected device for every application: a device joins them all when it is
 * accepted and leaves them all when it is removed, and the private data is then re-encrypted (each
 * JWE draws a fresh content key, so re-encryption is the rotation 002 asks for when a device leaves).
 */

/** The devices of `personal` authorised for application `id` (its Signers' devices). */
export function applicationDevices(personal: PersonalProfile, id: string): DeviceEntry[] {
  const entry = personal.applications.find((a) => a.id === id);
  if (entry === undefined) return [];
  const signers = new Set(entry.signers.map((k) => k.udf));
  return personal.devices.filter((d) => signers.has(d.signature.udf));
}

/** The identifier of this account's application `type`/`name`. */
export function applicationId(personal: PersonalProfile, type: string, name: string): string {
  return applicationProfileId(personal.id, type, name);
}

/**
 * A Personal Profile's content with a change to its devices: `add` connects devices and authorises
 * them for every application; `remove` (device ids) disconnects devices and withdraws them from every
 * application; `applications` replaces the application entries first. The caller signs the result
 * with an administrator key at `sequence + 1`.
 */
export function nextPersonalInput(
  personal: PersonalProfile,
  change: {
    readonly add?: readonly DeviceEntryInput[];
    readonly remove?: readonly string[];
    readonly applications?: readonly ApplicationEntryInput[];
  },
): PersonalProfileInput {
  const removed = new Set(change.remove ?? []);
  const added = (change.add ?? []).map((d) => profileKey(d.signature, 'signature'));
  const devices = [...personal.devices.filter((d) => !removed.has(d.id)), ...(change.add ?? [])];
  const base: readonly ApplicationEntryInput[] = change.applications ?? personal.applications;
  const applications = base.map((a) => {
    const kept: PublicKeyInput[] = a.signers.filter((k) => !removed.has(profileKey(k, 'signature').udf));
    const ids = new Set(kept.map((k) => profileKey(k, 'signature').udf));
    return { id: a.id, type: a.type, signers: [...kept, ...added.filter((k) => !ids.has(k.udf))] };
  });
  return { master: personal.master, sequence: personal.sequence + 1, devices, applications };
}

/**
 * The private data of an Application Profile, decrypted with this device's encryption key; undefined
 * when the profile has none. Throws ClientError `state.missing` when this device is not one of its
 * recipients (not yet accepted, or removed before the data was written), `verify.profile` when the
 * JWE does not decrypt or is not a JSON object.
 */
export async function openApplication(
  signed: SignedProfile<ApplicationProfile>,
  keys: DeviceKeys,
  portal?: string,
): Promise<JsonObject | undefined> {
  const jwe = signed.profile.private;
  if (jwe === undefined) return undefined;
  let plaintext: Uint8Array;
  try {
    plaintext = await decryptJwe(jwe, keys.encryption);
  } catch (cause) {
    if (isCryptoError(cause, 'jwe.no-recipient'))
      throw new ClientError(
        'state.missing',
        `this device holds no key to the ${signed.profile.type} data: it is not (or no longer) one of its devices`,
        { check: 'application key', cause, ...(portal === undefined ? {} : { portal }) },
      );
    throw new ClientError(
      'verify.profile',
      `the ${signed.profile.type} data of ${signed.profile.id} does not decrypt`,
      {
        check: 'application data',
        cause,
        ...(portal === undefined ? {} : { portal }),
      },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(plaintext));
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ClientError(
      'verify.profile',
      `the ${signed.profile.type} data of ${signed.profile.id} is not a JSON object`,
      {
        check: 'application data',
        ...(portal === undefined ? {} : { portal }),
      },
    );
  return value as JsonObject;
}

/** What an Application Profile holds, before it is encrypted and signed. */
export interface ApplicationContent {
  readonly type: string;
  readonly name: string;
  readonly public?: JsonObject;
  readonly private?: JsonObject;
}

/**
 * Builds Application Profile `content` of `personal`, its private data encrypted to every device
 * authorised for it and to the Master Profile's online escrow key `escrow` when it has one (000
 * §6.5.2: "as if it was another device"; online-escrow.ts), signed by `signer`. Throws ClientError `usage.invalid` when `personal` does not
 * authorise `signer` for the application (000 §6.4) or authorises no device to read it.
 */
export async function sealApplication(
  personal: PersonalProfile,
  content: ApplicationContent,
  signer: DeviceKeys,
  escrow?: ProfileKey,
): Promise<SignedProfile<ApplicationProfile>> {
  const id = applicationId(personal, content.type, content.name);
  const entry = personal.applications.find((a) => a.id === id);
  const signerId = profileKey(signer.signature, 'signature').udf;
  if (entry === undefined || !entry.signers.some((k) => k.udf === signerId))
    throw new ClientError(
      'usage.invalid',
      `this device is not authorised to write the ${content.type} application`,
      {
        check: 'application signer',
      },
    );
  const devices = applicationDevices(personal, id);
  if (content.private !== undefined && devices.length === 0)
    throw new ClientError(
      'usage.invalid',
      `no device is authorised to read the ${content.type} application`,
      {
        check: 'application recipients',
      },
    );
  return buildApplicationProfile(
    {
      personal: personal.id,
      type: content.type,
      name: content.name,
      public: content.public ?? {},
      ...(content.private === undefined
        ? {}
        : {
            private: content.private,
            // An agent key that is a device's key too is that one recipient (a JWE lists a key once).
            recipients: [
              ...devices.map((d) => d.encryption),
              ...(escrow === undefined || devices.some((d) => d.encryption.udf === escrow.udf)
                ? []
                : [escrow]),
            ],
          }),
    },
    signer.signature,
  );
}

/**
 * The content of every application of `personal` that the portal holds, decrypted with `opener`
 * (default: the session's device). Each profile is checked against `personal` — read them BEFORE
 * publishing a Personal Profile that withdraws the device that last signed one.
 */
export async function readApplications(
  session: AccountSession,
  master: SignedProfile<MasterProfile>,
  personal: SignedProfile<PersonalProfile>,
  opener: DeviceKeys = session.keys,
): Promise<ApplicationContent[]> {
  const out: ApplicationContent[] = [];
  for (const entry of personal.profile.applications) {
    const current = await session.application(master, personal, entry.id);
    if (current === undefined) continue;
    const data = await openApplication(current, opener, session.gateway.portal);
    out.push({
      type: current.profile.type,
      name: current.profile.name,
      public: current.profile.public,
      ...(data === undefined ? {} : { private: data }),
    });
  }
  return out;
}

/**
 * Publishes (update) each of `contents` re-encrypted to the devices `personal` now authorises (and to
 * the Master Profile's online escrow key `escrow`, when it names one: pass it always), signed
 * and authorised by the session's device, and keeps each in `store`. A crash part-way leaves the later
 * applications encrypted to the old device set until the next write of each (every write encrypts to
 * the current devices) or until this is run again; no data is lost.
 */
export async function publishApplications(
  session: AccountSession,
  personal: SignedProfile<PersonalProfile>,
  contents: readonly ApplicationContent[],
  store: ClientStore,
  escrow?: ProfileKey,
): Promise<void> {
  for (const content of contents) {
    const next = await sealApplication(personal.profile, content, session.keys, escrow);
    await session.publish('update', next);
    await writeApplicationDocument(store, next);
  }
}
