import { acceptablePublicKey, keyUdf, type JwsSigningKey } from '@cryptomesh/crypto/portable';
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
  /** The escrow consent key: required with `escrow`, refused without it. */
  readonly escrowConsent?: PublicKeyInput;
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
    ...(profile.escrowConsent === undefined ? {} : { EscrowConsent: { ...profile.escrowConsent.jwk } }),
    Sequence: profile.sequence,
    Created: profile.created,
  };
}

/**
 * The online escrow entry's own rule (docs/decisions.md "Online escrow"): an escrow key comes with a
 * consent key and neither without the other, and the consent key is no administrator key nor the
 * master key (it exists only on the user's paper: a device holding it could consent for the user),
 * and no weak (small-order) key, which would verify forged consent — the parser refuses that too.
 * Returns why not, or undefined.
 */
export function escrowEntryProblem(
  profile: Pick<MasterProfile, 'signature' | 'administrators' | 'escrow' | 'escrowConsent'>,
): string | undefined {
  if ((profile.escrow === undefined) !== (profile.escrowConsent === undefined))
    return profile.escrow === undefined
      ? '"EscrowConsent" without "Escrow"'
      : '"Escrow" without "EscrowConsent" (the agent could not tell the user\'s consent)';
  const consent = profile.escrowConsent;
  if (consent === undefined) return undefined;
  if ([profile.signature, ...profile.administrators].some((k) => k.udf === consent.udf))
    return '"EscrowConsent" is the master key or an administrator key';
  // readProfileKey refuses a weak key in a payload; the builder's profileKey does not check it.
  if (consent.algorithm !== 'Ed25519' && consent.algorithm !== 'Ed448') return undefined; // never: a signature key
  if (!acceptablePublicKey(consent.algorithm, consent.publicKey))
    return '"EscrowConsent" is a weak key (non-canonical or of small order)';
  return undefined;
}

/**
 * Builds and signs a Master Profile with its own master signature key (000 §6.4), so it satisfies the
 * rule by construction. Throws 'input.invalid' for bad keys, an empty administrator list or an
 * escrow entry escrowEntryProblem refuses.
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
    ...(input.escrowConsent === undefined
      ? {}
      : { escrowConsent: profileKey(input.escrowConsent, 'signature') }),
    sequence: input.sequence ?? 0,
    created: input.created,
  };
  const problem = escrowEntryProblem(profile);
  if (problem !== undefined) throw new MeshError('input.invalid', `Master Profile: ${problem}`);
  const jws = await signProfilePayload('master', masterPayload(profile), masterKey);
  return { jws, signer: signature.udf, profile };
}

/** Parses a Master Profile payload. Throws 'profile.malformed', or 'profile.bad-id'. */
export function parseMasterProfile(payload: unknown): MasterProfile {
  const r: JsonReader = JsonReader.object(payload, 'Master Profile', 'profile.malformed');
  r.members(['Id', 'Signature', 'Administrators', 'Escrow', 'EscrowConsent', 'Sequence', 'Created']);
  const id = r.string('Id');
  const signature = readProfileKey(r.raw('Signature'), 'signature', 'Signature', 'profile.malformed');
  const administrators = r
    .array('Administrators')
    .map((k, i) => readProfileKey(k, 'signature', `Administrators[${i}]`, 'profile.malformed'));
  if (administrators.length === 0) r.fail('"Administrators" is empty');
  const escrow = r.has('Escrow')
    ? readProfileKey(r.raw('Escrow'), 'encryption', 'Escrow', 'profile.malformed')
    : undefined;
  const escrowConsent = r.has('EscrowConsent')
    ? readProfileKey(r.raw('EscrowConsent'), 'signature', 'EscrowConsent', 'profile.malformed')
    : undefined;
  const problem = escrowEntryProblem({ signature, administrators, escrow, escrowConsent });
  if (problem !== undefined) r.fail(problem);
  if (id !== signature.udf)
    throw new MeshError('profile.bad-id', `Master Profile Id ${id} is not its key's UDF`);
  return {
    kind: 'master',
    id,
    signature,
    administrators,
    ...(escrow === undefined ? {} : { escrow }),
    ...(escrowConsent === undefined ? {} : { escrowConsent }),
    sequence: r.integer('Sequence'),
    created: r.integer('Created'),
  };
}
