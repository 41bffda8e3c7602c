import type { FetchLike } from './portal-http';

/** The longest Retry-After honoured: a portal that asks for more is reported, not waited for. */
export const MAX_RETRY_AFTER_S = 30;
/** How many times one request is sent again after a 429. */
export const MAX_RETRIES = 8;

export interface RetryOptions {
  /** Resolves after `ms`; MUST reject with the signal's reason when `signal` aborts first. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told once per wait, e.g. "portal asks to wait 1 s (rate limited) …". */
  readonly progress?: (line: string) => void;
}

/**
 * A fetch that honours a portal's `429 Too Many Requests` (002 §7.6 rate limits: the gateway answers
 * `rate.limited` with Retry-After): it waits as asked and sends the same request again, up to
 * MAX_RETRIES times and only for a Retry-After of at most MAX_RETRY_AFTER_S. Safe because a 429 means
 * the portal did not process the request. The request's own signal (the SDK's per-request timeout)
 * still bounds the whole, waits included. Any other answer, and the last 429, is returned as it is:
 * the SDK turns it into its `portal.refused`. The profile manager sends several requests per command
 * (read, check, publish, re-encrypt): without this a burst would fail a command halfway.
 */
export function retryRateLimited(fetchImpl: FetchLike, options: RetryOptions): FetchLike {
  return async (url, init) => {
    for (let attempt = 0; ; attempt++) {
      const response = await fetchImpl(url, init);
      if (response.status !== 429 || attempt >= MAX_RETRIES) return response;
      const seconds = retryAfterSeconds(response.headers.get('retry-after'));
      if (seconds === undefined || seconds > MAX_RETRY_AFTER_S) return response;
      await response.body?.cancel();
      options.progress?.(`the portal asks to wait ${seconds} s (rate limited) …`);
      await options.sleep(seconds * 1000, init?.signal ?? undefined);
    }
  };
}

/** Retry-After as delay-seconds (RFC 9110 §10.2.3); an HTTP date or anything else is undefined. */
function retryAfterSeconds(value: string | null): number | undefined {
  if (value === null || !/^\d{1,6}$/.test(value.trim())) return undefined;
  return Math.max(1, Number(value.trim()));
}

/** setTimeout as a promise that rejects with the signal's reason when it aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
