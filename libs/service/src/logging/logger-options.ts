import type { Params } from 'nestjs-pino';
import { requestIdFor } from './request-id';

/**
 * Structured JSON logs on stdout, one object a line, with the service name on every line.
 * Probes (`/health`, `/metrics`) are not logged per request: they would drown everything else.
 * Every request has an id (`requestIdFor`: the client's `X-Request-Id` if acceptable, else a new
 * one), and every line logged while serving it carries it as `requestId`
 * (docs/design/observability.md "Request ids").
 */
export function loggerOptions(service: string, level: string): Params {
  return {
    pinoHttp: {
      level,
      base: { service, pid: process.pid },
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label: string) => ({ level: label }) },
      genReqId: requestIdFor,
      // Lines logged while serving a request carry only its id, not the whole request again.
      quietReqLogger: true,
      customAttributeKeys: { reqId: 'requestId' },
      autoLogging: {
        ignore: (req) => {
          // Behind Nest's Fastify middleware `url` may be relative to the mount point.
          const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '';
          return url.startsWith('/health') || url.startsWith('/metrics');
        },
      },
      redact: ['req.headers.authorization', 'req.headers.cookie'],
    },
  };
}
