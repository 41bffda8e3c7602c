import {
  isCryptoError,
  readJwsHeader,
  signJws,
  type FlattenedJws,
  type JwsSigningKey,
} from '@cryptomesh/crypto/portable';
import { canonicalJson, decodeJsonObject, type JsonObject } from './json';
import { MeshError, type MeshErrorCode } from './mesh-error';
import { PROFILE_TYPES, type ProfileKind } from './profile-types';

/**
 * Signs a payload as a flattened JWS (DESIGN.md "Profiles and keys"): the payload is the JCS canonical
 * JSON of `payload`, the protected header {alg: EdDSA, kid: <key UDF>, typ}. Deterministic.
 * Throws 'input.invalid' for a key signJws refuses.
 */
export async function signPayload(payload: object, type: string, key: JwsSigningKey): Promise<FlattenedJws> {
  try {
    return await signJws(canonicalJson(payload), key, { type });
  } catch (cause) {
    throw new MeshError('input.invalid', 'cannot sign with this key', { cause });
  }
}

/** Signs a profile payload with the `typ` of its kind. */
export function signProfilePayload(
  kind: ProfileKind,
  payload: JsonObject,
  key: JwsSigningKey,
): Promise<FlattenedJws> {
  return signPayload(payload, PROFILE_TYPES[kind], key);
}

/** What an envelope holds before any signature is checked. */
export interface OpenedEnvelope {
  readonly jws: FlattenedJws;
  readonly kid: string;
  readonly type: string | undefined;
  readonly payload: Record<string, unknown>;
}

/**
 * Reads a flattened JWS of this library without verifying it: the header (crypto's readJwsHeader rules)
 * and the JSON object payload. Throws `code` with the CryptoError as cause.
 */
export function openEnvelope(value: unknown, what: string, code: MeshErrorCode): OpenedEnvelope {
  let kid: string;
  let type: string | undefined;
  try {
    ({ kid, typ: type } = readJwsHeader(value));
  } catch (cause) {
    if (!isCryptoError(cause)) throw cause;
    throw new MeshError(code, `${what} is not a profile JWS: ${cause.message}`, { cause });
  }
  const jws = value as FlattenedJws;
  const payload = decodeJsonObject(jws.payload, `${what} payload`, code);
  return {
    jws: { protected: jws.protected, payload: jws.payload, signature: jws.signature },
    kid,
    type,
    payload,
  };
}
