import { contentDigestUdf, utf8, type JwsSigningKey } from '@cryptomesh/crypto/portable';
import { JsonReader, type JsonObject } from './json';
import { MeshError } from './mesh-error';
import { keyHasId, profileKey, readProfileKey, type ProfileKey, type PublicKeyInput } from './profile-key';
import { signProfilePayload } from './profile-envelope';
import type { ApplicationEntry, DeviceEntry, PersonalProfile, SignedProfile } from './profile-types';

/** The Content-ID of a Personal Profile identifier (mesh-model.md "Identifiers"). */
export const PERSONAL_PROFILE_CONTENT_ID = 'MeshPersonalProfile';

/**
 * The identifier of the Personal Profile of a Master Profile: the content digest UDF, Content-ID
 * 'MeshPersonalProfile', of the master identifier's UTF-8. One per Master Profile, stable for ever
 * (000 §6.1), and distinct from the master identifier so both can live in one catalog.
 */
export function personalProfileId(masterId: string): string {
  return contentDigestUdf(utf8(masterId), PERSONAL_PROFILE_CONTENT_ID);
}

export interface DeviceEntryInput {
  readonly signature: PublicKeyInput;
  readonly encryption: PublicKeyInput;
}

export interface ApplicationEntryInput {
  readonly id: string;
  readonly type: string;
  readonly signers: readonly PublicKeyInput[];
}

export interface PersonalProfileInput {
  readonly master: string;
  readonly sequence: number;
  readonly devices: readonly DeviceEntryInput[];
  readonly applications?: readonly ApplicationEntryInput[];
}

/** The entry that connects a device with these keys. */
export function deviceEntry(input: DeviceEntryInput): DeviceEntry {
  const signature = profileKey(input.signature, 'signature');
  return { id: signature.udf, signature, encryption: profileKey(input.encryption, 'encryption') };
}

/** The payload JSON of a Personal Profile (mesh-model.md "Personal Profile"). */
export function personalPayload(profile: PersonalProfile): JsonObject {
  return {
    Id: profile.id,
    Master: profile.master,
    Sequence: profile.sequence,
    Devices: profile.devices.map((d) => ({
      Id: d.id,
      Signature: { ...d.signature.jwk },
      Encryption: { ...d.encryption.jwk },
    })),
    Applications: profile.applications.map((a) => ({
      Id: a.id,
      Type: a.type,
      Signers: a.signers.map((k) => ({ ...k.jwk })),
    })),
  };
}

/**
 * Builds a Personal Profile and signs it with `adminKey`. The signing rule (000 §6.4: an administrator
 * key of the Master Profile) is NOT checked here — checkProfileSigner does that.
 */
export async function buildPersonalProfile(
  input: PersonalProfileInput,
  adminKey: JwsSigningKey & PublicKeyInput,
): Promise<SignedProfile<PersonalProfile>> {
  const profile = checkPersonal({
    kind: 'personal',
    id: personalProfileId(input.master),
    master: input.master,
    sequence: input.sequence,
    devices: input.devices.map(deviceEntry),
    applications: (input.applications ?? []).map((a) => ({
      id: a.id,
      type: a.type,
      signers: a.signers.map((k) => profileKey(k, 'signature')),
    })),
  });
  const jws = await signProfilePayload('personal', personalPayload(profile), adminKey);
  return { jws, signer: profileKey(adminKey, 'signature').udf, profile };
}

function checkPersonal(profile: PersonalProfile): PersonalProfile {
  const fail = (message: string): never => {
    throw new MeshError('profile.malformed', `Personal Profile: ${message}`);
  };
  if (new Set(profile.devices.map((d) => d.id)).size !== profile.devices.length)
    fail('a device is listed twice');
  if (new Set(profile.applications.map((a) => a.id)).size !== profile.applications.length)
    fail('an application is listed twice');
  return profile;
}

/** Parses a Personal Profile payload. Throws 'profile.malformed', or 'profile.bad-id'. */
export function parsePersonalProfile(payload: unknown): PersonalProfile {
  const r: JsonReader = JsonReader.object(payload, 'Personal Profile', 'profile.malformed');
  r.members(['Id', 'Master', 'Sequence', 'Devices', 'Applications']);
  const id = r.string('Id');
  const master = r.string('Master');
  const devices = r.array('Devices').map((value, i): DeviceEntry => {
    const d = JsonReader.object(value, `Devices[${i}]`, 'profile.malformed').members([
      'Id',
      'Signature',
      'Encryption',
    ]);
    const signature = readProfileKey(
      d.raw('Signature'),
      'signature',
      `Devices[${i}].Signature`,
      'profile.malformed',
    );
    const entryId = d.string('Id');
    if (entryId !== signature.udf) d.fail('"Id" is not the UDF of its signature key');
    const encryption = readProfileKey(
      d.raw('Encryption'),
      'encryption',
      `Devices[${i}].Encryption`,
      'profile.malformed',
    );
    return { id: entryId, signature, encryption };
  });
  const applications = r.array('Applications').map((value, i): ApplicationEntry => {
    const a = JsonReader.object(value, `Applications[${i}]`, 'profile.malformed').members([
      'Id',
      'Type',
      'Signers',
    ]);
    return {
      id: a.string('Id'),
      type: a.string('Type'),
      signers: a
        .array('Signers')
        .map((k, j) =>
          readProfileKey(k, 'signature', `Applications[${i}].Signers[${j}]`, 'profile.malformed'),
        ),
    };
  });
  if (id !== personalProfileId(master))
    throw new MeshError('profile.bad-id', `Personal Profile Id ${id} is not derived from Master ${master}`);
  return checkPersonal({
    kind: 'personal',
    id,
    master,
    sequence: r.integer('Sequence'),
    devices,
    applications,
  });
}

/** The connected device whose signature key has UDF `kid`, if any. */
export function findDevice(personal: PersonalProfile, kid: string): DeviceEntry | undefined {
  return personal.devices.find((d) => keyHasId(d.signature, kid));
}

/** The key that `kid` names among the keys authorised to sign Application Profile `id` of `type`. */
export function findApplicationSigner(
  personal: PersonalProfile,
  id: string,
  type: string,
  kid: string,
): ProfileKey | undefined {
  const entry = personal.applications.find((a) => a.id === id && a.type === type);
  return entry?.signers.find((k) => keyHasId(k, kid));
}
