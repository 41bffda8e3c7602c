import { setFlagsFromString } from 'node:v8';
import 'reflect-metadata';
import { DynamicModule, INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { IncomingMessage } from 'node:http';
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import { Logger } from 'nestjs-pino';
import type { Logger as RootLogger } from 'pino';
import { installSha2, nodeSha2 } from '@cryptomesh/crypto';
import { installSha256 } from '@cryptomesh/log';
import { isServiceWorker, runPrimary } from './cluster/service-cluster';
import { ConfigError } from './config/config-error';
import { boundRequestTime, connectionsCheckingIntervalFor, wasTimedOut } from './http/request-timeout';
import { RequestLogger, currentRootLogger, requestLoggerOf } from './logging/logger-options';
import { REQUEST_ID_HEADER, requestIdFor } from './logging/request-id';
import { MetricsService } from './metrics/metrics.service';
import { ROOT_LOGGER } from './service-identity';
import { readTlsMaterial } from './tls/tls-material';
import { gcMode } from './gc-mode';

/** Exit status for a configuration error (sysexits.h EX_CONFIG): distinct from a crash. */
export const EXIT_CONFIG = 78;

export interface CommonConfig {
  readonly HOST: string;
  readonly PORT: number;
  readonly LOG_LEVEL: string;
  readonly SHUTDOWN_TIMEOUT_MS: number;
  readonly REQUEST_TIMEOUT_MS: number;
  readonly TLS_CERT_FILE?: string | undefined;
  readonly TLS_KEY_FILE?: string | undefined;
  readonly TLS_CA_FILE?: string | undefined;
  /** V8's --heap-growing-percent (commonConfigShape); absent or 0: V8's own. */
  readonly HEAP_GROWING_PERCENT?: number;
}

export interface ServiceSpec<C extends CommonConfig> {
  readonly name: string;
  /** Parses and validates the environment; MUST throw ConfigError for a bad or missing value. */
  readonly loadConfig: (env: NodeJS.ProcessEnv) => C;
  readonly module: (config: C) => DynamicModule;
  /** Largest request body accepted, in bytes (Fastify answers 413 beyond it); default 1 MiB. */
  readonly bodyLimitBytes?: (config: C) => number;
  /**
   * The proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges): a request from one
   * of them gets as its address (`request.ip`) the last address in the header that is not one of
   * them. None: the socket's address, whatever the headers say.
   */
  readonly trustedProxies?: (config: C) => readonly string[];
  /** False leaves body parsing to `beforeListen` (Nest then registers no JSON parser of its own). */
  readonly bodyParser?: boolean;
  /** Runs after the application is created and before it listens (e.g. to attach Kafka). */
  readonly beforeListen?: (app: INestApplication, config: C) => Promise<void>;
  /** Runs once the server listens, with its URL (the portal prints its banner for people). */
  readonly afterListen?: (url: string, config: C) => void;
  /**
   * How many processes serve the port (cluster/service-cluster.ts); only for services that keep no
   * state a second process would contradict. Unset or 1: this process serves it alone.
   */
  readonly workers?: (config: C) => number;
  /** Runs after a graceful shutdown closed the application (e.g. to stop an embedded database). */
  readonly afterClose?: () => Promise<void>;
}

export interface RunningService {
  readonly app: NestFastifyApplication;
  readonly url: string;
}

/**
 * Creates the service's Nest application on Fastify and listens. Throws ConfigError before
 * anything starts when the environment is wrong. The caller owns the application's lifetime
 * (tests close it; `runService` wires it to signals).
 */
export async function createService<C extends CommonConfig>(
  spec: ServiceSpec<C>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningService> {
  const config = spec.loadConfig(env);
  keepHeapTight(config.HEAP_GROWING_PERCENT ?? 0);
  const tls = readTlsMaterial(config);
  useServerHashes();
  const trustedProxies = spec.trustedProxies?.(config) ?? [];
  const checkInterval = connectionsCheckingIntervalFor(config.REQUEST_TIMEOUT_MS);
  const adapter = new FastifyAdapter({
    bodyLimit: spec.bodyLimitBytes?.(config) ?? 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
    // The access lines are ours (instrumentHttp): Fastify would write its own through request.log.
    logController: new LogController({ disableRequestLogging: true }),
    ...(trustedProxies.length === 0 ? {} : { trustProxy: [...trustedProxies] }),
    http: { connectionsCheckingInterval: checkInterval },
    ...(tls === undefined
      ? {}
      : {
          https: {
            key: tls.key,
            cert: tls.cert,
            connectionsCheckingInterval: checkInterval,
          },
        }),
  });
  const app = await NestFactory.create<NestFastifyApplication>(spec.module(config), adapter, {
    bufferLogs: true,
    abortOnError: false,
    bodyParser: spec.bodyParser ?? true,
  });
  app.useLogger(quietStartup(app.get(Logger)));
  boundRequestTime(app.getHttpAdapter().getInstance(), config.REQUEST_TIMEOUT_MS);
  instrumentHttp(app);
  if (spec.beforeListen) await spec.beforeListen(app, config);
  await app.listen(config.PORT, config.HOST);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const scheme = tls === undefined ? 'http' : 'https';
  const url = `${scheme}://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  app.get(Logger).log(
    tls === undefined
      ? { msg: 'listening', url, tls: false, gc: gcMode() }
      : {
          msg: 'listening',
          url,
          tls: true,
          certificate: tls.subject,
          validTo: tls.validTo.toISOString(),
          gc: gcMode(),
        },
    spec.name,
  );
  spec.afterListen?.(url, config);
  return { app, url };
}

/**
 * A server hashes with OpenSSL (issue #17): UDF fingerprints, content digests and every Merkle tree
 * hash of this process, through the libraries' SHA-2 ports. The results are the same as the portable
 * @noble/hashes' (sha2-port.spec.ts); only the speed differs.
 */
export function useServerHashes(): void {
  installSha2(nodeSha2);
  installSha256(nodeSha2.sha256);
}

/**
 * Nest's start-up chatter — a line per module loaded and per route mapped, some 45 lines — goes to
 * `debug`: at the default level the log shows what an operator acts on (issue #16). Everything else
 * is passed on unchanged.
 */
const STARTUP_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

function quietStartup(logger: Logger): LoggerService {
  return {
    log: (message: unknown, ...rest: unknown[]) => {
      const context = rest[rest.length - 1];
      if (typeof context === 'string' && STARTUP_CONTEXTS.has(context)) logger.debug(message, ...rest);
      else logger.log(message, ...rest);
    },
    error: (message: unknown, ...rest: unknown[]) => logger.error(message, ...rest),
    warn: (message: unknown, ...rest: unknown[]) => logger.warn(message, ...rest),
    debug: (message: unknown, ...rest: unknown[]) => logger.debug(message, ...rest),
    verbose: (message: unknown, ...rest: unknown[]) => logger.verbose(message, ...rest),
    fatal: (message: unknown, ...rest: unknown[]) => logger.fatal(message, ...rest),
  };
}

/** How long an exit waits for the log lines written before it, at most. */
const LOG_FLUSH_MS = 2_000;

/**
 * Exits with `code` once the log lines written so far are out. pino writes stdout asynchronously
 * (sonic-boom): a line whose write is still in flight when `process.exit` runs is lost — the
 * flush at exit writes only what is still queued, not what a worker thread holds — and on a busy
 * machine that was the last line, `stopped` (found under CPU contention, issue #15).
 */
export function exitAfterLogs(code: number): void {
  const exit = () => process.exit(code);
  setTimeout(exit, LOG_FLUSH_MS).unref();
  const root = currentRootLogger();
  if (root === undefined) {
    exit();
    return;
  }
  try {
    root.flush(exit);
  } catch {
    exit();
  }
}

/**
 * The `main` of every service: validate configuration (one line and exit 78 when wrong), start,
 * and shut down gracefully on SIGTERM/SIGINT — readiness goes to 503, the HTTP server stops
 * taking requests, modules release their connections — or exit 1 after SHUTDOWN_TIMEOUT_MS.
 */
export async function runService<C extends CommonConfig>(spec: ServiceSpec<C>): Promise<void> {
  let config: C;
  try {
    config = spec.loadConfig(process.env);
    readTlsMaterial(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${spec.name}: configuration error: ${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
  const workers = spec.workers?.(config) ?? 1;
  if (workers > 1 && !isServiceWorker()) {
    runPrimary({
      name: spec.name,
      workers,
      logLevel: config.LOG_LEVEL,
      shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      configExitCode: EXIT_CONFIG,
    });
    return;
  }
  let running: RunningService;
  try {
    running = await createService(spec, process.env);
  } catch (error) {
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', time: new Date().toISOString(), service: spec.name, msg: 'start failed', err: describe(error) })}\n`,
    );
    process.exit(1);
  }
  const logger = running.app.get(Logger);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.log({ msg: 'shutting down', signal }, spec.name);
    setTimeout(() => {
      logger.error({ msg: 'shutdown timed out; exiting', timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, spec.name);
      exitAfterLogs(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    running.app
      .close()
      .then(() => spec.afterClose?.())
      .then(
        () => {
          logger.log({ msg: 'stopped' }, spec.name);
          exitAfterLogs(0);
        },
        (error: unknown) => {
          logger.error({ msg: 'error during shutdown', err: describe(error) }, spec.name);
          exitAfterLogs(1);
        },
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A worker whose primary is gone (killed, not stopped) stops too rather than serve unsupervised.
  if (isServiceWorker()) process.on('disconnect', () => stop('SIGTERM'));
}

/**
 * Per-request metrics, and the request id: taken from an acceptable `X-Request-Id` or generated
 * (`requestIdFor`), answered in `X-Request-Id`, and — Fastify's id being the one the request logger
 * binds — on every log line of the request (docs/design/observability.md "Request ids").
 */
function instrumentHttp(app: NestFastifyApplication): void {
  const metrics = app.get(MetricsService);
  const root = app.get<RootLogger>(ROOT_LOGGER);
  const fastify = app.getHttpAdapter().getInstance();
  // Fastify asks for the id before any hook or middleware runs: the raw request gets the id
  // (`requestIdOf`) and its logger (what nestjs-pino binds to the request's context) at once.
  fastify.setGenReqId((raw) => {
    const id = requestIdFor(raw);
    Object.assign(raw, { id, log: new RequestLogger(root, id) });
    return id;
  });
  // Fastify's request.log is that same logger: middie copies request.log onto the raw request
  // before Nest's middleware binds it to the request's context, so a Fastify child would replace
  // ours (with Fastify's logger off, a no-op: every line logged in a request was lost).
  fastify.setChildLoggerFactory(
    (_logger, _bindings, _options, raw) => requestLoggerOf(raw) as unknown as FastifyBaseLogger,
  );
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    // An answer that never finishes (the client hung up, or boundRequestTime cut a stalled body)
    // runs no onResponse hook: its access line is written when the connection closes.
    reply.raw.once('close', () => {
      if (!answered.has(request.raw)) logUnanswered(request, reply, root);
    });
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    answered.add(request.raw);
    const route = request.routeOptions.url ?? 'unmatched';
    const method = request.method;
    metrics.httpRequests.inc({ method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method, route }, reply.elapsedTime / 1000);
    logAccess(request, reply, root);
    done();
  });
}

/** Requests whose onResponse hook ran: their access line is written. */
const answered = new WeakSet<IncomingMessage>();

/** The access line of a request that was never answered in full: `request aborted` or `request timed out`. */
function logUnanswered(request: FastifyRequest, reply: FastifyReply, root: RootLogger): void {
  if (!root.isLevelEnabled('info') || isProbe(request)) return;
  const log = requestLoggerOf(request.raw) ?? new RequestLogger(root, request.id);
  const timedOut = wasTimedOut(request.raw);
  log.info(
    {
      req: { id: request.id, method: request.method, url: request.url, remoteAddress: request.ip },
      res: { statusCode: timedOut ? 408 : null },
      responseTime: Math.round(reply.elapsedTime * 1000) / 1000,
    },
    timedOut ? 'request timed out' : 'request aborted',
  );
}

/**
 * The access line of a request (docs/design/observability.md "Request ids"): `request completed`
 * at `info`, or `request errored` at `error` for a 5xx answer, with the request's id, method, path
 * and client address, the status and the response time in ms. No headers: nothing secret is logged.
 * Probes (`/health`, `/metrics`) are not logged: they would drown everything else.
 */
function logAccess(request: FastifyRequest, reply: FastifyReply, root: RootLogger): void {
  const failed = reply.statusCode >= 500;
  if (!root.isLevelEnabled(failed ? 'error' : 'info') || isProbe(request)) return;
  const log = requestLoggerOf(request.raw) ?? new RequestLogger(root, request.id);
  const line = {
    req: { id: request.id, method: request.method, url: request.url, remoteAddress: request.ip },
    res: { statusCode: reply.statusCode },
    responseTime: Math.round(reply.elapsedTime * 1000) / 1000,
  };
  if (failed) log.error(line, 'request errored');
  else log.info(line, 'request completed');
}

/** `/health…` and `/metrics`, by the route that answered (an absolute-form URL cannot hide one). */
function isProbe(request: FastifyRequest): boolean {
  const path = request.routeOptions.url ?? request.url;
  return path.startsWith('/health') || path === '/metrics';
}

function describe(error: unknown): { message: string; stack?: string } {
  return error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) };
}

/**
 * The heap's growth between major collections (issue #17; docs/design/federation.md "Memory"): under
 * load, what a request or a verified part allocates is promoted to the old generation and is garbage
 * soon after; with V8's own growing factor (up to 4× the live heap when allocation is fast) that
 * garbage was most of a busy service's peak RSS. V8 reads the flag at each major collection, so
 * setting it before the application starts is enough. 0 leaves V8's heuristics alone.
 */
function keepHeapTight(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
