import 'reflect-metadata';
import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { ConfigError } from './config/config-error';
import { REQUEST_ID_HEADER, requestIdFor } from './logging/request-id';
import { MetricsService } from './metrics/metrics.service';
import { readTlsMaterial } from './tls/tls-material';

/** Exit status for a configuration error (sysexits.h EX_CONFIG): distinct from a crash. */
export const EXIT_CONFIG = 78;

export interface CommonConfig {
  readonly HOST: string;
  readonly PORT: number;
  readonly LOG_LEVEL: string;
  readonly SHUTDOWN_TIMEOUT_MS: number;
  readonly TLS_CERT_FILE?: string | undefined;
  readonly TLS_KEY_FILE?: string | undefined;
  readonly TLS_CA_FILE?: string | undefined;
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
  const tls = readTlsMaterial(config);
  const trustedProxies = spec.trustedProxies?.(config) ?? [];
  const adapter = new FastifyAdapter({
    bodyLimit: spec.bodyLimitBytes?.(config) ?? 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
    ...(trustedProxies.length === 0 ? {} : { trustProxy: [...trustedProxies] }),
    ...(tls === undefined ? {} : { https: { key: tls.key, cert: tls.cert } }),
  });
  const app = await NestFactory.create<NestFastifyApplication>(spec.module(config), adapter, {
    bufferLogs: true,
    abortOnError: false,
    bodyParser: spec.bodyParser ?? true,
  });
  app.useLogger(app.get(Logger));
  instrumentHttp(app);
  if (spec.beforeListen) await spec.beforeListen(app, config);
  await app.listen(config.PORT, config.HOST);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const scheme = tls === undefined ? 'http' : 'https';
  const url = `${scheme}://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  app
    .get(Logger)
    .log(
      tls === undefined
        ? { msg: 'listening', url, tls: false }
        : { msg: 'listening', url, tls: true, certificate: tls.subject, validTo: tls.validTo.toISOString() },
      spec.name,
    );
  return { app, url };
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
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    running.app
      .close()
      .then(() => spec.afterClose?.())
      .then(
        () => {
          logger.log({ msg: 'stopped' }, spec.name);
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ msg: 'error during shutdown', err: describe(error) }, spec.name);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * Per-request metrics, and the request id: taken from an acceptable `X-Request-Id` or generated
 * (`requestIdFor`), answered in `X-Request-Id`, and — Fastify's id being the one the request logger
 * binds — on every log line of the request (docs/design/observability.md "Request ids").
 */
function instrumentHttp(app: NestFastifyApplication): void {
  const metrics = app.get(MetricsService);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.setGenReqId(requestIdFor);
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const method = request.method;
    metrics.httpRequests.inc({ method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method, route }, reply.elapsedTime / 1000);
    done();
  });
}

function describe(error: unknown): { message: string; stack?: string } {
  return error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) };
}
