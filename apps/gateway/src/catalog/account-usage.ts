import type { AccountState, SignedProfile } from '@cryptomesh/mesh';
import type { GatewayConfig } from '../gateway.config';
import { GatewayError } from '../protocol/gateway-error';

/** What an account holds at this portal, as its quotas count it (docs/design/gateway.md "Quotas"). */
export interface AccountUsage {
  /** Catalog objects, deleted ones included: each keeps its row (000 §3.2.1: a deleted id stays used). */
  readonly objects: number;
  /** Bytes of every active signed profile (its flattened JWS members); Master and Personal are objects too. */
  readonly bytes: number;
}

function jwsBytes(signed: SignedProfile): number {
  return signed.jws.protected.length + signed.jws.payload.length + signed.jws.signature.length;
}

/** The usage of `state`. Pure. */
export function accountUsage(state: AccountState): AccountUsage {
  let bytes = 0;
  for (const object of state.objects.values())
    if (object.status === 'active') bytes += jwsBytes(object.value);
  return { objects: state.objects.size, bytes };
}

/**
 * Throws GatewayError 'quota.exceeded' (413) when going from `before` to `after` grows a usage past
 * its quota. A change that does not grow a usage is always allowed, so an account over its quota
 * (after the operator lowered it) can still delete and shrink. A quota of 0 is no quota.
 */
export function checkAccountQuota(
  before: AccountState | undefined,
  after: AccountState,
  config: Pick<GatewayConfig, 'QUOTA_OBJECTS_PER_ACCOUNT' | 'QUOTA_BYTES_PER_ACCOUNT'>,
): void {
  const old = before === undefined ? { objects: 0, bytes: 0 } : accountUsage(before);
  const now = accountUsage(after);
  const objects = config.QUOTA_OBJECTS_PER_ACCOUNT;
  if (objects > 0 && now.objects > objects && now.objects > old.objects)
    throw new GatewayError(
      'quota.exceeded',
      `the account would hold ${now.objects} objects; this portal allows ${objects} per account (deleted ones count: their ids stay used)`,
      { reason: 'quota.objects' },
    );
  const bytes = config.QUOTA_BYTES_PER_ACCOUNT;
  if (bytes > 0 && now.bytes > bytes && now.bytes > old.bytes)
    throw new GatewayError(
      'quota.exceeded',
      `the account would hold ${now.bytes} bytes of profiles; this portal allows ${bytes} per account: delete or shrink something first`,
      { reason: 'quota.bytes' },
    );
}
