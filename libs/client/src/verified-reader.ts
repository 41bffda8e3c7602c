import type { ProfileKind, ProfileView } from '@cryptomesh/mesh';
import type { ClientStore } from './client-store';
import { isClientError } from './client-error';
import { DEFAULT_LOG_WAIT_MS } from './log-check';
import type { ProfileManagerOptions } from './profile-manager';
import type { PortalTrust } from './trust';
import { fetchVerifiedProfile, type VerifiedProfile } from './verified-profile';

const QUORUM_RETRY_MS = 500;

/** Reads one profile of the reader's account, with proof: `(id, kind, known)` as fetchVerifiedProfile takes them. */
export type VerifiedReader = (
  id: string,
  kind: ProfileKind,
  known: ProfileView | undefined,
) => Promise<VerifiedProfile>;

/**
 * Verified reads of the profiles of `address` through `trust`'s home query service (whatever log
 * holds them: its own, or its mirror of the account's home), each waiting up to the log wait
 * (`logWaitMs`) for a quorum of cosignatures of the newest seal — a seal is cosigned within a
 * heartbeat of it. Any other failure is thrown as fetchVerifiedProfile throws it.
 */
export function verifiedReader(
  options: ProfileManagerOptions,
  trust: PortalTrust,
  store: ClientStore,
  address: string,
): VerifiedReader {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? (() => Date.now());
  return async (id, kind, known) => {
    const deadline = now() + (options.logWaitMs ?? DEFAULT_LOG_WAIT_MS);
    for (;;) {
      try {
        return await fetchVerifiedProfile(`mmm:${id}:${address}`, {
          trust,
          via: trust.home,
          store,
          kind,
          ...(known === undefined ? {} : { known }),
          ...(options.fetchImpl === undefined ? {} : { fetchImpl: options.fetchImpl }),
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
          ...(options.proofs === undefined ? {} : { proofs: options.proofs }),
        });
      } catch (error) {
        if (!isClientError(error, 'verify.quorum') || now() >= deadline) throw error;
        await sleep(QUORUM_RETRY_MS);
      }
    }
  };
}
