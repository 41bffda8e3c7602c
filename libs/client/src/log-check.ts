import type { FlattenedJws } from '@cryptomesh/crypto/portable';
import type { LogCheck } from './account-session';
import { ClientError, isClientError } from './client-error';
import type { ClientStore } from './client-store';
import { refusalCode, type FetchLike } from './portal-http';
import type { ProofSource } from './query-client';
import { TRUST_DOCUMENT, trustFromJson, trustToJson, type PortalTrust } from './trust';
import { fetchVerifiedProfile } from './verified-profile';

/** How long a read waits for the log to show what the gateway served, unless told otherwise. */
export const DEFAULT_LOG_WAIT_MS = 15_000;
/** How often it asks the query service again meanwhile. */
export const LOG_POLL_MS = 250;

export interface LogCheckOptions {
  readonly trust: PortalTrust;
  /** Holds the checkpoints seen (`checkpoints/<log id>.json`), advanced by every verified read. */
  readonly store: ClientStore;
  /** The account address: profiles are looked up as `mmm:<id>:<account>`. */
  readonly account: string;
  readonly fetchImpl?: FetchLike;
  readonly timeoutMs?: number;
  /** Bound on the wait for the log to catch up with the gateway (a seal interval or two). */
  readonly waitMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Where the proofs come from (fetchVerifiedProfile's `proofs`; default `auto`). */
  readonly proofs?: ProofSource;
}

const sameJws = (a: FlattenedJws, b: FlattenedJws): boolean =>
  a.protected === b.protected && a.payload === b.payload && a.signature === b.signature;

/**
 * The LogCheck of client.md "Verified reads": the home portal's query service must serve, with every
 * check of fetchVerifiedProfile (checkpoint signature, cosignature quorum, consistency with the last
 * checkpoint seen, inclusion, signing rule), exactly the value the gateway served. A gateway answers
 * before its log is sealed, so the check waits up to `waitMs` for the log to catch up (`log.behind`:
 * an older value is not checked, since the caller's newer profiles need not authorise it); a value the
 * log still does not show then — or shows differently — is `verify.profile`, with both values as evidence.
 * Any verify.* failure of the log itself is thrown at once.
 */
export function verifiedLogCheck(options: LogCheckOptions): LogCheck {
  const now = options.now ?? (() => Date.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const waitMs = options.waitMs ?? DEFAULT_LOG_WAIT_MS;
  const portal = options.trust.home.id;
  return async (served, known) => {
    const deadline = now() + waitMs;
    const udf = `mmm:${served.profile.id}:${options.account}`;
    for (;;) {
      let logged: FlattenedJws | undefined;
      try {
        const verified = await fetchVerifiedProfile(udf, {
          trust: options.trust,
          via: options.trust.home,
          store: options.store,
          kind: served.profile.kind,
          known,
          expected: served.jws,
          ...(options.fetchImpl === undefined ? {} : { fetchImpl: options.fetchImpl }),
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
          ...(options.proofs === undefined ? {} : { proofs: options.proofs }),
        });
        // fetchVerifiedProfile answers only with the expected value; checked again all the same.
        if (sameJws(verified.signed.jws, served.jws)) return;
        logged = verified.signed.jws;
      } catch (error) {
        // Not sealed yet: the query service knows no such profile (or no seal at all) so far, or
        // still an older value of it — or, right after a portal switch, only the value of the log
        // the account left (its mirror), which this client refuses (verify.stale) until the new
        // home's own log holds the registration. Or sealed but not cosigned yet: peers cosign a
        // seal within a heartbeat of it. Each passes with time; anything else is a failed check at
        // once. At the deadline a missing quorum or a stale value stands as itself, an older value
        // as verify.profile below.
        if (isClientError(error, 'log.behind')) logged = error.evidence?.['logged'] as FlattenedJws;
        else {
          const notYet =
            (isClientError(error, 'portal.refused') && refusalCode(error) === 'profile.not-found') ||
            isClientError(error, 'verify.quorum') ||
            isClientError(error, 'verify.stale');
          if (!notYet || now() >= deadline) throw error;
        }
      }
      if (now() >= deadline)
        throw new ClientError(
          'verify.profile',
          `${portal} serves ${served.profile.kind} profile ${served.profile.id} that its verified log ` +
            `${logged === undefined ? 'does not hold' : 'shows with another value'} after ${waitMs} ms`,
          {
            portal,
            check: 'profile in the log',
            evidence: {
              id: served.profile.id,
              served: { ...served.jws },
              ...(logged === undefined ? {} : { logged: { ...logged } }),
            },
          },
        );
      await sleep(LOG_POLL_MS);
    }
  };
}

/** The pinned trust of this home (trust.json), or undefined when none is pinned. */
export async function loadTrust(store: ClientStore): Promise<PortalTrust | undefined> {
  const text = await store.read(TRUST_DOCUMENT);
  return text === undefined ? undefined : trustFromJson(text);
}

/** Pins `trust` (trust.json). */
export function saveTrust(store: ClientStore, trust: PortalTrust): Promise<void> {
  return store.write(TRUST_DOCUMENT, trustToJson(trust));
}
