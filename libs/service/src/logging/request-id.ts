import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The header a request id arrives in and is answered in (docs/design/observability.md "Request ids"). */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Longest request id taken from a client; a longer one is replaced, never truncated. */
export const REQUEST_ID_MAX_LENGTH = 128;

/** Printable ASCII without spaces: safe in a header, a log line, a database column and a grep. */
const REQUEST_ID_PATTERN = /^[\x21-\x7e]+$/;

/**
 * The id a client proposed in `X-Request-Id`, if it is one this portal takes: a single header of
 * 1 to REQUEST_ID_MAX_LENGTH printable ASCII characters without spaces. Anything else (absent,
 * repeated, empty, too long, control characters, non-ASCII) resolves to undefined, and the caller
 * generates a fresh id: a bad header never refuses the request.
 */
export function acceptRequestId(header: string | readonly string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  if (header.length > REQUEST_ID_MAX_LENGTH || !REQUEST_ID_PATTERN.test(header)) return undefined;
  return header;
}

/**
 * The id of a request: the client's acceptable `X-Request-Id`, else a new UUID. Fastify's `genReqId`
 * (service-bootstrap.ts) uses it once per request: it is answered in `X-Request-Id`, bound by the
 * request's logger, and so the `requestId` on every line logged for the request.
 */
export function requestIdFor(req: IncomingMessage): string {
  return acceptRequestId(req.headers['x-request-id']) ?? randomUUID();
}

/** The id `requestIdFor` gave this raw request (undefined outside an HTTP request). */
export function requestIdOf(req: IncomingMessage): string | undefined {
  const id = (req as IncomingMessage & { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}
