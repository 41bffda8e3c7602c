import { isCryptoError, verifyJws, type SignatureVerdicts } from '@cryptomesh/crypto/portable';
import { MeshError } from './mesh-error';
import { findApplicationSigner } from './personal-profile';
import { keyHasId, type ProfileKey } from './profile-key';
import type { MasterProfile, PersonalProfile, SignedProfile } from './profile-types';

/**
 * The profiles a signing rule may need, already known to the caller (the gateway's database, an
 * auditor's mirrored state, a client's cache). MUST answer from memory: the checker does no I/O.
 */
export interface ProfileView {
  master(id: string): MasterProfile | undefined;
  personal(id: string): PersonalProfile | undefined;
}

/**
 * The key that 000 §6.4 authorises to sign `signed`, given its `kid`. Throws the code of the rule that
 * fails: 'rule.master-signer', 'rule.personal-signer' (or 'rule.unknown-master'), 'rule.device-signer',
 * 'rule.application-signer' (or 'rule.unknown-personal').
 */
export function authorisedSigner(signed: SignedProfile, view: ProfileView): ProfileKey {
  const { profile, signer } = signed;
  switch (profile.kind) {
    case 'master':
      if (!keyHasId(profile.signature, signer))
        throw new MeshError(
          'rule.master-signer',
          `Master Profile ${profile.id} is signed by ${signer}, not its master key`,
        );
      return profile.signature;
    case 'personal': {
      const master = view.master(profile.master);
      if (master === undefined)
        throw new MeshError('rule.unknown-master', `Master Profile ${profile.master} is not known`);
      const key = master.administrators.find((k) => keyHasId(k, signer));
      if (key === undefined)
        throw new MeshError(
          'rule.personal-signer',
          `Personal Profile ${profile.id} is signed by ${signer}, not an administrator key of ${master.id}`,
        );
      return key;
    }
    case 'device':
      if (!keyHasId(profile.signature, signer))
        throw new MeshError(
          'rule.device-signer',
          `Device Profile ${profile.id} is signed by ${signer}, not its own key`,
        );
      return profile.signature;
    case 'application': {
      const personal = view.personal(profile.personal);
      if (personal === undefined)
        throw new MeshError('rule.unknown-personal', `Personal Profile ${profile.personal} is not known`);
      const key = findApplicationSigner(personal, profile.id, profile.type, signer);
      if (key === undefined)
        throw new MeshError(
          'rule.application-signer',
          `Application Profile ${profile.id} is signed by ${signer}, which ${personal.id} does not authorise for it`,
        );
      return key;
    }
  }
}

/**
 * Checks a profile against 000 §6.4: the `kid` names the key its type demands (authorisedSigner), and
 * the signature verifies under that key ('profile.bad-signature' otherwise). Pure apart from the
 * signature check; resolves with the key that signed. `verdicts`: signature verdicts computed
 * elsewhere on exact bytes (`SignatureVerdicts` of @cryptomesh/crypto), else verified here.
 */
export async function checkProfileSigner(
  signed: SignedProfile,
  view: ProfileView,
  verdicts?: SignatureVerdicts,
): Promise<ProfileKey> {
  const key = authorisedSigner(signed, view);
  if (key.algorithm !== 'Ed25519' && key.algorithm !== 'Ed448')
    throw new MeshError('profile.malformed', 'a profile is signed with an Ed25519 or Ed448 key');
  try {
    await verifyJws(
      signed.jws,
      { algorithm: key.algorithm, publicKey: key.publicKey },
      verdicts === undefined ? {} : { verdicts },
    );
  } catch (cause) {
    if (isCryptoError(cause, 'jws.bad-signature'))
      throw new MeshError('profile.bad-signature', `the signature of ${signed.profile.id} does not verify`, {
        cause,
      });
    throw new MeshError('profile.malformed', `the JWS of ${signed.profile.id} is not acceptable`, { cause });
  }
  return key;
}

/** A view over a fixed set of profiles (tests, a client's cache, one account's state). */
export function profileView(
  masters: readonly MasterProfile[],
  personals: readonly PersonalProfile[],
): ProfileView {
  return {
    master: (id) => masters.find((m) => m.id === id),
    personal: (id) => personals.find((p) => p.id === id),
  };
}
