import { parseApplicationProfile } from './application-profile';
import { parseDeviceProfile } from './device-profile';
import { parseMasterProfile } from './master-profile';
import { MeshError } from './mesh-error';
import { parsePersonalProfile } from './personal-profile';
import { openEnvelope } from './profile-envelope';
import { PROFILE_TYPES, type Profile, type ProfileKind, type SignedProfile } from './profile-types';

const PARSERS: Readonly<Record<ProfileKind, (payload: unknown) => Profile>> = {
  master: parseMasterProfile,
  personal: parsePersonalProfile,
  device: parseDeviceProfile,
  application: parseApplicationProfile,
};

/** The profile kind a JWS `typ` names, if any. */
export function profileKindOfType(type: string | undefined): ProfileKind | undefined {
  return (Object.keys(PROFILE_TYPES) as ProfileKind[]).find((kind) => PROFILE_TYPES[kind] === type);
}

/**
 * Reads a signed profile WITHOUT checking its signature: header, `typ`, payload. Use checkProfileSigner
 * before trusting it. Throws 'profile.malformed', 'profile.unknown-type' or 'profile.bad-id'.
 */
export function readProfile(jws: unknown): SignedProfile {
  const envelope = openEnvelope(jws, 'the profile', 'profile.malformed');
  const kind = profileKindOfType(envelope.type);
  if (kind === undefined)
    throw new MeshError('profile.unknown-type', `typ ${JSON.stringify(envelope.type)} names no profile type`);
  return { jws: envelope.jws, signer: envelope.kid, profile: PARSERS[kind](envelope.payload) };
}

/** readProfile, and 'profile.unknown-type' unless the profile is of `kind`. */
export function readProfileOf<K extends ProfileKind>(
  jws: unknown,
  kind: K,
): SignedProfile<Extract<Profile, { kind: K }>> {
  const signed = readProfile(jws);
  if (signed.profile.kind !== kind)
    throw new MeshError(
      'profile.unknown-type',
      `expected a ${kind} profile, got a ${signed.profile.kind} profile`,
    );
  return signed as SignedProfile<Extract<Profile, { kind: K }>>;
}
