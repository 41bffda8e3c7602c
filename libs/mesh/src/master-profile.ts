import { keyUdf, type JwsSigningKey } from '@cryptomesh/crypto/portable';
import { JsonReader, type JsonObject } from './json';
import { MeshError } from './mesh-error';
import { profileKey, readProfileKey, type PublicKeyInput } from './profile-key';
import { signProfilePayload } from './profile-envelope';
import type { MasterProfile, SignedProfile } from './profile-types';

/** The identifier of a Master Profile: the UDF of its master signature key (000 §6.1). */
export function masterProfileId(signatureKey: PublicKeyInput): string {
  return keyUdf(signatureKey.algorithm, signatureKey.publicKey);
}

export interface MasterProfileInput {
  readonly administrators: readonly PublicKeyInput[];
  readonly escrow?: PublicKeyInput;
  readonly sequence?: number;
  readonly created: number;
}

/** The payload JSON of a Master Profile (mesh-model.md "Master Profile"). */
export function masterPayload(profile: MasterProfile): JsonObject {
  return {
    Id: profile.id,
    Signature: { ...profile.signature.jwk },
    Administrators: profile.administrators.map((k) => ({ ...k.jwk })),
    ...(profile.escrow === undefined ? {} : { Escrow: { ...profile.escrow.jwk } }),
    Sequence: profile.sequence,
    Created: profile.created,
  };
}

/**
 * Builds and signs a Master Profile with its own master signature key (000 §6.4), so it satisfies the
 * rule by construction. Throws 'input.invalid' for bad keys or an empty administrator list.
 */
export async function buildMasterProfile(
  input: MasterProfileInput,
  masterKey: JwsSigningKey & PublicKeyInput,
): Promise<SignedProfile<MasterProfile>> {
  if (input.administrators.length === 0)
    throw new MeshError('input.invalid', 'a Master Profile needs at least one administrator key');
  const signature = profileKey(masterKey, 'signature');
  const profile: MasterProfile = {
    kind: 'master',
    id: signature.udf,
    signature,
    administrators: input.administrators.map((k) => profileKey(k, 'signature')),
    ...(input.escrow === undefined ? {} : { escrow: profileKey(input.escrow, 'encryption') }),
    sequence: input.sequence ?? 0,
    created: input.created,
  };
  const jws = await signProfilePayload('master', masterPayload(profile), masterKey);
  return { jws, signer: signature.udf, profile };
}

/** Parses a Master Profile payload. Throws 'profile.malformed', or 'profile.bad-id'. */
export function parseMasterProfile(payload: unknown): MasterProfile {
  const r: JsonReader = JsonReader.object(payload, 'Master Profile', 'profile.malformed');
  r.members(['Id', 'Signature', 'Administrators', 'Escrow', 'Sequence', 'Created']);
  const id = r.string('Id');
  const signature = readProfileKey(r.raw('Signature'), 'signature', 'Signature', 'profile.malformed');
  const administrators = r
    .array('Administrators')
    .map((k, i) => readProfileKey(k, 'signature', `Administrators[${i}]`, 'profile.malformed'));
  if (administrators.length === 0) r.fail('"Administrators" is empty');
  const escrow = r.has('Escrow')
    ? readProfileKey(r.raw('Escrow'), 'encryption', 'Escrow', 'profile.malformed')
    : undefined;
  if (id !== signature.udf)
    throw new MeshError('profile.bad-id', `Master Profile Id ${id} is not its key's UDF`);
  return {
    kind: 'master',
    id,
    signature,
    administrators,
    ...(escrow === undefined ? {} : { escrow }),
    sequence: r.integer('Sequence'),
    created: r.integer('Created'),
  };
}
