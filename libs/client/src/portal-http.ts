import { ClientError } from './client-error';

/**
 * The `fetch` the SDK calls: the global `fetch` of browsers and Node ≥ 18, or a fake in tests (a
 * function that routes URLs to handlers). Only `method`, `headers`, `body` and `signal` are used.
 */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** How long one request to a portal may take, in milliseconds, unless the caller says otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The global `fetch`, called as a plain function: browsers throw "Illegal invocation" when `fetch`
 * is called as a method of another object, so it is never stored unbound.
 */
export const globalFetch: FetchLike = (url, init) => globalThis.fetch(url, init);

/** An HTTP answer whose body was read in full. */
export interface PortalAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  /** The answer's `Retry-After`, when it is a number of seconds. */
  readonly retryAfterSeconds?: number;
}

/** Who is asked and how long the request may take. */
export interface PortalRequestOptions {
  /** The name the errors give the portal (its id when known); defaults to the URL's origin. */
  readonly portal?: string;
  /** Bound on the whole request, body included; defaults to DEFAULT_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  readonly fetchImpl?: FetchLike;
}

/** A URL under a base URL that may or may not end with `/`. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/**
 * A portal's base URL as messages name it: the origin and the path as given (without a trailing `/`,
 * query or fragment), or the text itself when it does not parse. The path is kept so that a portal
 * given with a wrong path is named as given (issue #16: `--portal http://host:8080/wrong` was
 * reported as `http://host:8080`).
 */
export function portalUrlName(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
  } catch {
    return url;
  }
}

/** The origin of a URL for messages, or the text itself when it does not parse. */
export function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/**
 * One request to a portal, bounded by `timeoutMs` (AbortSignal.timeout). Resolves with the status
 * and the whole body for ANY status (the caller decides what a refusal is). MUST reject only with
 * ClientError `portal.unreachable` (network failure, timeout, a body that cannot be read), naming
 * the portal and, in the message, the URL. MUST NOT retry: retrying is the caller's decision.
 */
export async function portalRequest(
  url: string,
  init: RequestInit,
  options: PortalRequestOptions = {},
): Promise<PortalAnswer> {
  const portal = options.portal ?? urlOrigin(url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fetchImpl = options.fetchImpl ?? globalFetch;
  const method = init.method ?? 'GET';
  try {
    const response = await fetchImpl(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    const retryAfter = Number(response.headers.get('retry-after') ?? NaN);
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      text,
      ...(Number.isInteger(retryAfter) && retryAfter >= 0 ? { retryAfterSeconds: retryAfter } : {}),
    };
  } catch (cause) {
    const why = unreachableReason(cause, timeoutMs);
    throw new ClientError('portal.unreachable', `${method} ${url} failed: ${why}`, {
      portal,
      check: 'reach the portal',
      evidence: { url, method },
      cause,
    });
  }
}

/**
 * Why a request failed, in words: a timeout, or the platform's message with its cause — a platform
 * fetch says only "fetch failed"; what failed (a refused connection, a certificate that does not
 * chain to a trusted CA…) is in its cause.
 */
export function unreachableReason(cause: unknown, timeoutMs: number): string {
  // Not `instanceof`: the abort reason is a DOMException, which may come from another realm.
  const { name, message } = (typeof cause === 'object' && cause !== null ? cause : {}) as {
    name?: unknown;
    message?: unknown;
  };
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (typeof message !== 'string') return String(cause);
  const inner = (cause as { cause?: { message?: unknown } } | null)?.cause?.message;
  return typeof inner === 'string' && inner !== '' && inner !== message ? `${message}: ${inner}` : message;
}

/** `{ "error": { "code", "message" } }` of the query service, or the Mesh `Error`/`StatusDescription`. */
function refusalOf(text: string): { code?: string; message?: string } {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null) return {};
    const error = (value as { error?: unknown }).error;
    if (typeof error === 'object' && error !== null) {
      const { code, message } = error as { code?: unknown; message?: unknown };
      return {
        ...(typeof code === 'string' ? { code } : {}),
        ...(typeof message === 'string' ? { message } : {}),
      };
    }
    const [inner] = Object.values(value as Record<string, unknown>);
    if (typeof inner === 'object' && inner !== null) {
      const { Error: code, StatusDescription: message } = inner as {
        Error?: unknown;
        StatusDescription?: unknown;
      };
      return {
        ...(typeof code === 'string' ? { code } : {}),
        ...(typeof message === 'string' ? { message } : {}),
      };
    }
  } catch {
    // Not JSON: a proxy's page, say. The status alone is the refusal.
  }
  return {};
}

/**
 * The refusal a non-2xx answer means: ClientError `portal.refused` with the status and, when the
 * body says so, the portal's stable code and message (`evidence: { url, status, code?, message? }`).
 */
export function refusal(url: string, answer: PortalAnswer, portal?: string): ClientError {
  const { code, message } = refusalOf(answer.text);
  const said = code === undefined ? '' : `: ${code}${message === undefined ? '' : ` — ${message}`}`;
  return new ClientError('portal.refused', `${url} answered ${answer.status}${said}`, {
    portal: portal ?? urlOrigin(url),
    check: 'portal answer',
    evidence: {
      url,
      status: answer.status,
      ...(code === undefined ? {} : { code }),
      ...(message === undefined ? {} : { message }),
    },
  });
}

/** The refusal's stable code (`log.empty`, `profile.not-found`…), if the ClientError carries one. */
export function refusalCode(error: ClientError): string | undefined {
  const code = error.evidence?.['code'];
  return typeof code === 'string' ? code : undefined;
}
