import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import pino, { type DestinationStream, type Logger } from 'pino';

/** The root logger of this process: the last one `createRootLogger` made (one per service). */
let current: Logger | undefined;

/**
 * Structured JSON logs on stdout, one object a line, with the service name and pid on every line
 * (docs/design/observability.md). Made once per service by ServiceModule.
 */
export function createRootLogger(service: string, level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service, pid: process.pid },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  current = destination === undefined ? pino(options) : pino(options, destination);
  return current;
}

/** The process's root logger, if one was made: what an exit flushes. */
export function currentRootLogger(): Logger | undefined {
  return current;
}

/**
 * nestjs-pino over `root`, without pino-http: the request's logger is the `RequestLogger` that
 * `instrumentHttp` (service-bootstrap.ts) makes with the request id and gives Fastify as
 * `request.log`, which Nest's middleware binds to the request's context; the access line is written
 * by its `onResponse` hook, or when the connection closes unanswered. pino-http made a child logger, a response listener and a serialised
 * request for every request, whatever the level: 40 % of a checkpoint read's CPU (issue #17).
 */
export function loggerOptions(root: Logger, requestContext = true): Params {
  return { pinoHttp: { logger: root }, useExisting: true, ...(requestContext ? {} : { forRoutes: [] }) };
}

type LevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * The logger of one request: every line it writes carries the request's id as `requestId`. The
 * child logger that binds it is made only when a line is written at an enabled level, so a request
 * that logs nothing (most of them, at `warn`) costs one small object. It has what nestjs-pino's
 * PinoLogger uses of a pino logger: the level methods, `child`, `isLevelEnabled` and `level`.
 */
export class RequestLogger {
  private bound: Logger | undefined;

  constructor(
    private readonly root: Logger,
    readonly requestId: string,
  ) {}

  get level(): string {
    return this.root.level;
  }

  isLevelEnabled(level: string): boolean {
    return this.root.isLevelEnabled(level);
  }

  child(bindings: Record<string, unknown>): Logger {
    return this.logger().child(bindings);
  }

  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }

  private write(level: LevelName, args: unknown[]): void {
    if (!this.root.isLevelEnabled(level)) return;
    const logger = this.logger();
    const write: (...a: unknown[]) => void = logger[level].bind(logger);
    write(...args);
  }

  private logger(): Logger {
    return (this.bound ??= this.root.child({ requestId: this.requestId }));
  }
}

/** The RequestLogger `instrumentHttp` hung on a raw request, if any. */
export function requestLoggerOf(req: IncomingMessage): RequestLogger | undefined {
  const log = (req as IncomingMessage & { log?: unknown }).log;
  return log instanceof RequestLogger ? log : undefined;
}

/** Where a line about a request is written: the level methods of a Nest Logger or a RequestLogger. */
export interface LineLogger {
  error(line: object): void;
  warn(line: object): void;
  log(line: object): void;
}

/**
 * A logger for the lines written while serving `req`, for a service that binds no request context
 * (ServiceModuleOptions.requestContext false, docs/design/observability.md "Request ids"): each line
 * carries the request's id and `context`, as a line of Nest's Logger in that context would. Without
 * the request's logger (a request that did not pass instrumentHttp), `fallback`.
 */
export function requestLines(req: IncomingMessage, context: string, fallback: LineLogger): LineLogger {
  const log = requestLoggerOf(req);
  if (log === undefined) return fallback;
  return {
    error: (line) => log.error({ ...line, context }),
    warn: (line) => log.warn({ ...line, context }),
    log: (line) => log.info({ ...line, context }),
  };
}
