import type { Params } from 'nestjs-pino';

/**
 * Structured JSON logs on stdout, one object a line, with the service name on every line.
 * Probes (`/health`, `/metrics`) are not logged per request: they would drown everything else.
 */
export function loggerOptions(service: string, level: string): Params {
  return {
    pinoHttp: {
      level,
      base: { service, pid: process.pid },
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label: string) => ({ level: label }) },
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
