import type { JwsSigningKey } from '@cryptomesh/crypto/portable';
import { JsonReader, type JsonObject } from './json';
import { MeshError } from './mesh-error';
import { profileKey, readProfileKey, type PublicKeyInput } from './profile-key';
import { signProfilePayload } from './profile-envelope';
import type { DeviceProfile, SignedProfile } from './profile-types';

export interface DeviceProfileInput {
  readonly encryption: PublicKeyInput;
  readonly description: string;
}

/** The payload JSON of a Device Profile (mesh-model.md "Device Profile"). */
export function devicePayload(profile: DeviceProfile): JsonObject {
  return {
    Id: profile.id,
    Signature: { ...profile.signature.jwk },
    Encryption: { ...profile.encryption.jwk },
    Description: profile.description,
  };
}

/**
 * Builds a Device Profile and signs it with its own device signature key (000 §6.4), so it satisfies
 * the rule by construction. Its identifier is the UDF of that key.
 */
export async function buildDeviceProfile(
  input: DeviceProfileInput,
  deviceKey: JwsSigningKey & PublicKeyInput,
): Promise<SignedProfile<DeviceProfile>> {
  const signature = profileKey(deviceKey, 'signature');
  const profile: DeviceProfile = {
    kind: 'device',
    id: signature.udf,
    signature,
    encryption: profileKey(input.encryption, 'encryption'),
    description: input.description,
  };
  const jws = await signProfilePayload('device', devicePayload(profile), deviceKey);
  return { jws, signer: signature.udf, profile };
}

/** Parses a Device Profile payload. Throws 'profile.malformed', or 'profile.bad-id'. */
export function parseDeviceProfile(payload: unknown): DeviceProfile {
  const r: JsonReader = JsonReader.object(payload, 'Device Profile', 'profile.malformed');
  r.members(['Id', 'Signature', 'Encryption', 'Description']);
  const id = r.string('Id');
  const signature = readProfileKey(r.raw('Signature'), 'signature', 'Signature', 'profile.malformed');
  const encryption = readProfileKey(r.raw('Encryption'), 'encryption', 'Encryption', 'profile.malformed');
  const description = r.raw('Description');
  if (typeof description !== 'string') r.fail('"Description" must be a string');
  if (id !== signature.udf)
    throw new MeshError('profile.bad-id', `Device Profile Id ${id} is not its key's UDF`);
  return { kind: 'device', id, signature, encryption, description };
}
