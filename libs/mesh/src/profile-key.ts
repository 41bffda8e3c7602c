import {
  acceptablePublicKey,
  isCryptoError,
  keyUdf,
  publicJwk,
  readJwk,
  type KeyAlgorithm,
  type OkpJwk,
} from '@cryptomesh/crypto/portable';
import { MeshError, type MeshErrorCode } from './mesh-error';

/** A public key as profiles carry it: the JWK (with `kid`) and what it decodes to. */
export interface ProfileKey {
  readonly algorithm: KeyAlgorithm;
  readonly publicKey: Uint8Array;
  /** The key's UDF, 140 bits (DESIGN.md "Profiles and keys"): the `kid` of what it signs. */
  readonly udf: string;
  /** The public JWK exactly as written into a payload: kty, crv, x, kid. */
  readonly jwk: OkpJwk;
}

/** A raw public key (a KeyPair fits). */
export interface PublicKeyInput {
  readonly algorithm: KeyAlgorithm;
  readonly publicKey: Uint8Array;
}

export type KeyUse = 'signature' | 'encryption';

const USES: Readonly<Record<KeyUse, readonly KeyAlgorithm[]>> = {
  signature: ['Ed25519', 'Ed448'],
  encryption: ['X25519', 'X448'],
};

// A key's UDF (a SHA-2-512 digest) and JWK are a pure function of its bytes, and an account's few
// keys come back in every profile it publishes: an auditor decodes them on every entry (issue #17,
// "fingerprints cached"). Kept by content, frozen, at most 4,096 (oldest out first).
const MAX_PROFILE_KEYS = 4096;
const profileKeys = new Map<string, ProfileKey>();

/** The profile form of a public key. Throws 'input.invalid' for a key of the wrong use or shape. */
export function profileKey(key: PublicKeyInput, use: KeyUse): ProfileKey {
  if (!USES[use].includes(key.algorithm))
    throw new MeshError('input.invalid', `a ${use} key is ${USES[use].join(' or ')}, got ${key.algorithm}`);
  const id = `${key.algorithm}:${String.fromCharCode(...key.publicKey)}`;
  const known = profileKeys.get(id);
  if (known !== undefined) return known;
  try {
    const publicKey = key.publicKey.slice();
    const made: ProfileKey = Object.freeze({
      algorithm: key.algorithm,
      publicKey,
      udf: keyUdf(key.algorithm, publicKey),
      jwk: Object.freeze(publicJwk(key.algorithm, publicKey)),
    });
    if (profileKeys.size >= MAX_PROFILE_KEYS) profileKeys.delete(profileKeys.keys().next().value as string);
    profileKeys.set(id, made);
    return made;
  } catch (cause) {
    throw new MeshError('input.invalid', `not a valid ${key.algorithm} public key`, { cause });
  }
}

/**
 * Reads a public JWK from a payload. MUST refuse a private key (`d`: a profile is public), a key of the
 * wrong use, a `kid` that is not the key's own UDF, and a signature key that breaks the strict EdDSA
 * rules (non-canonical or of small order, eddsa-rules.ts: such a key — the identity point — verifies
 * forged signatures); throws `code` (with the CryptoError as cause).
 */
export function readProfileKey(value: unknown, use: KeyUse, what: string, code: MeshErrorCode): ProfileKey {
  let algorithm: KeyAlgorithm;
  let publicKey: Uint8Array;
  try {
    if (typeof value === 'object' && value !== null && 'd' in value)
      throw new MeshError(code, `${what} holds a private key`);
    ({ algorithm, publicKey } = readJwk(value));
  } catch (cause) {
    if (cause instanceof MeshError) throw cause;
    const reason = isCryptoError(cause) ? cause.message : String(cause);
    throw new MeshError(code, `${what} is not a public JWK: ${reason}`, { cause });
  }
  if (!USES[use].includes(algorithm))
    throw new MeshError(code, `${what} must be a ${use} key, got ${algorithm}`);
  if ((algorithm === 'Ed25519' || algorithm === 'Ed448') && !acceptablePublicKey(algorithm, publicKey))
    throw new MeshError(code, `${what} is a weak ${algorithm} key (non-canonical or of small order)`);
  const key = profileKey({ algorithm, publicKey }, use);
  const kid = (value as { kid?: unknown }).kid;
  if (kid !== undefined && kid !== key.udf)
    throw new MeshError(code, `${what} has a "kid" that is not its UDF`);
  return key;
}

/** True when `kid` names `key` (exact 140-bit UDF, as signJws writes it). */
export function keyHasId(key: ProfileKey, kid: string): boolean {
  return key.udf === kid;
}
