import { isCryptoError } from '@cryptomesh/crypto';
import { isMeshError, type MeshErrorCode } from '@cryptomesh/mesh';
import { GatewayError, type GatewayErrorCode } from './gateway-error';

/**
 * The one place where the Mesh model's refusals become the gateway's (STYLE.md §6: the core never
 * throws HTTP errors; the edge maps codes). Each MeshError code maps to one GatewayError code — and
 * so one HTTP status — and is returned as the answer's `Reason`. A code missing here would fail
 * to compile: the table is total over MeshErrorCode.
 */
export const MESH_ERROR_MAP: Readonly<Record<MeshErrorCode, GatewayErrorCode>> = {
  'input.invalid': 'request.invalid',
  'profile.malformed': 'profile.invalid',
  'profile.unknown-type': 'profile.invalid',
  'profile.bad-id': 'profile.invalid',
  'profile.bad-signature': 'profile.bad-signature',
  'rule.master-signer': 'profile.wrong-signer',
  'rule.personal-signer': 'profile.wrong-signer',
  'rule.device-signer': 'profile.wrong-signer',
  'rule.application-signer': 'profile.wrong-signer',
  'rule.unknown-master': 'profile.wrong-signer',
  'rule.unknown-personal': 'profile.wrong-signer',
  'persistence.exists': 'persistence.conflict',
  'persistence.undefined': 'persistence.conflict',
  'persistence.inactive': 'persistence.conflict',
  'publish.not-allowed': 'publish.not-allowed',
  'publish.id-mismatch': 'publish.invalid',
  'publish.wrong-account': 'publish.invalid',
  'publish.stale-sequence': 'persistence.conflict',
  'publish.device-not-listed': 'publish.invalid',
  'account.exists': 'account.exists',
  'account.unknown': 'account.unknown',
  'account.deleted': 'account.unknown',
  'account.moved': 'account.moved',
  'request.malformed': 'auth.malformed',
  'request.mismatch': 'auth.mismatch',
  'request.wrong-portal': 'auth.wrong-portal',
  'request.unknown-device': 'auth.unknown-device',
  'request.bad-signature': 'auth.bad-signature',
  'request.stale': 'auth.stale',
  'request.future': 'auth.stale',
  'request.replayed': 'auth.replayed',
  'request.not-administrator': 'auth.not-administrator',
  'connect.bad-nonce': 'request.invalid',
  'connect.witness-mismatch': 'request.invalid',
  'pow.insufficient': 'pow.insufficient',
  'pow.exhausted': 'internal',
  'record.malformed': 'request.invalid',
  'record.wrong-account': 'request.invalid',
  'catalog.invalid': 'catalog.invalid',
  'catalog.unknown-device': 'catalog.wrong-signer',
  'catalog.bad-signature': 'catalog.bad-signature',
  'catalog.sequence': 'persistence.conflict',
  'inbound.invalid': 'inbound.invalid',
  'inbound.too-large': 'request.too-large',
  'inbound.wrong-sender': 'inbound.wrong-sender',
  'inbound.unknown-device': 'inbound.wrong-sender',
  'inbound.bad-signature': 'inbound.bad-signature',
};

/**
 * `error` as a GatewayError: a MeshError by the table above, a CryptoError of a malformed account
 * address, UDF or URI as `account.invalid`/`request.invalid`; anything else unchanged (the
 * controller answers it `internal`). `what` prefixes the message ("the Value", "the request").
 */
export function toGatewayError(error: unknown, what?: string): unknown {
  if (error instanceof GatewayError) return error;
  const prefix = what === undefined ? '' : `${what}: `;
  if (isMeshError(error))
    return new GatewayError(
      MESH_ERROR_MAP[error.code],
      `${prefix}${error.message}`,
      { reason: error.code },
      {
        cause: error,
      },
    );
  if (isCryptoError(error)) {
    const code: GatewayErrorCode = error.code === 'account.malformed' ? 'account.invalid' : 'request.invalid';
    return new GatewayError(code, `${prefix}${error.message}`, { reason: error.code }, { cause: error });
  }
  return error;
}

/** Runs `fn`, rethrowing its refusal as a GatewayError (see toGatewayError). */
export async function mapMeshErrors<T>(fn: () => Promise<T> | T, what?: string): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toGatewayError(error, what);
  }
}
