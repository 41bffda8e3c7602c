import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/**
 * Bounds the time a client may take to send one whole request (issue #16: headers sent, body
 * stalled, a connection was held for more than 330 s). MUST close the connection — answering
 * `408 Request Timeout` when nothing was answered yet — of any request whose headers are not all
 * received within `timeoutMs` of the connection's request start, or whose body is not all received
 * within `timeoutMs` of its headers. A request that completed in time is never affected, however
 * long its handler runs.
 *
 * Node's own `requestTimeout` did not cut a body that stalls once the request was dispatched
 * (checked on Node 20), so the body is bounded here; the headers are bounded by Node's
 * `headersTimeout`, which its connection checker enforces every `checkIntervalMs`.
 */
export function boundRequestTime(fastify: FastifyInstance, timeoutMs: number): void {
  fastify.server.headersTimeout = timeoutMs;
  fastify.server.requestTimeout = timeoutMs;
  fastify.addHook('onRequest', (request, reply, done) => {
    const raw = request.raw;
    // A request without Content-Length or Transfer-Encoding has no body (RFC 9112 §6.3): nothing
    // of it is left to stall once its headers are in, so no timer (most requests are such GETs).
    if (raw.complete || !mayHaveBody(raw)) {
      done();
      return;
    }
    const timer = setTimeout(() => {
      if (raw.complete) return;
      const socket = raw.socket;
      timedOut.add(raw);
      if (!reply.raw.headersSent && socket.writable)
        socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroySoon();
    }, timeoutMs);
    timer.unref();
    reply.raw.once('close', () => clearTimeout(timer));
    done();
  });
}

/** True unless the request's framing says it has no body (no Transfer-Encoding, no or zero Content-Length). */
function mayHaveBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Requests `boundRequestTime` cut (answered 408, or closed): their access line says so. */
const timedOut = new WeakSet<IncomingMessage>();

/** True when `boundRequestTime` cut this request for taking too long to arrive. */
export function wasTimedOut(raw: IncomingMessage): boolean {
  return timedOut.has(raw);
}

/** How often Node checks its connections for `headersTimeout`: often enough for the bound to hold. */
export function connectionsCheckingIntervalFor(timeoutMs: number): number {
  return Math.max(50, Math.min(1_000, Math.floor(timeoutMs / 4)));
}
