import cluster, { type Worker } from 'node:cluster';
import pino, { type Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { integerVar } from '../config/env';

/**
 * Several processes of one stateless HTTP service (the gateway, the query service) behind one port,
 * with Node's cluster (docs/design/observability.md "Worker processes", issue #17): the primary
 * validates the configuration, forks WORKERS processes that each run the whole service, restarts a
 * worker that dies after it listened, stops every worker gracefully on SIGTERM/SIGINT, and answers
 * the workers' requests for the metrics of all of them. It holds no request, no database connection
 * and no key. The kernel's connections are handed to the workers round-robin (Node's default on
 * Linux); whatever a worker keeps in memory (rate-limit buckets, the per-account queue) is its own,
 * and the database's row locks are what make the workers safe side by side.
 */

/** The setting: how many processes serve the port (1: this process, no primary). */
export function workersConfigShape() {
  return { WORKERS: integerVar({ default: 1, min: 1, max: 64 }) };
}

/** How long after a worker died the primary starts its replacement: doubled after each failed start, up to the most. */
const RESTART_DELAY_MS = 1_000;
const RESTART_DELAY_MAX_MS = 30_000;
/** What a graceful stop may take beyond the workers' own SHUTDOWN_TIMEOUT_MS before they are killed. */
const STOP_MARGIN_MS = 2_000;

const METRICS_ASK = 'cryptomesh:metrics-ask';
const METRICS_ANSWER = 'cryptomesh:metrics-answer';

interface MetricsAsk {
  readonly type: typeof METRICS_ASK;
  readonly id: number;
}
interface MetricsAnswer {
  readonly type: typeof METRICS_ANSWER;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

export interface PrimaryOptions {
  readonly name: string;
  readonly workers: number;
  readonly logLevel: string;
  readonly shutdownTimeoutMs: number;
  /** Exit status of a worker whose configuration was refused: the primary exits with it too. */
  readonly configExitCode: number;
}

/** Whether this process is a worker forked by `runPrimary`. */
export function isServiceWorker(): boolean {
  return cluster.isWorker;
}

function primaryLogger(name: string, level: string): Logger {
  return pino({
    level,
    base: { service: name, pid: process.pid, role: 'primary' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label: string) => ({ level: label }) },
  });
}

/**
 * Runs the primary of a service of `options.workers` processes; returns at once (the process lives
 * on its workers and signals). The process exits 0 after a graceful stop, 1 when a worker failed to
 * start or a stop timed out, and with `configExitCode` when a worker refused its configuration.
 */
export function runPrimary(options: PrimaryOptions): void {
  const log = primaryLogger(options.name, options.logLevel);
  const aggregator = new AggregatorRegistry();
  const listened = new Set<number>();
  let stopping = false;
  let status = 0; // the exit status once every worker is gone
  let announced = false;

  const exit = (code: number): void => {
    log.flush(() => process.exit(code));
  };

  let restartDelayMs = RESTART_DELAY_MS;
  const fork = (): void => {
    const worker = cluster.fork();
    // An IPC send to a worker that just died errs on the worker object: logged, never fatal.
    worker.on('error', (error: Error) => log.warn({ msg: 'worker channel error', err: error.message }));
    worker.on('listening', (address: { port: number }) => {
      listened.add(worker.id);
      restartDelayMs = RESTART_DELAY_MS;
      if (!announced && listened.size >= options.workers) {
        announced = true;
        log.info({ msg: 'all workers listening', workers: options.workers, port: address.port });
      }
    });
  };

  const stopAll = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ msg: 'stopping workers', reason, workers: Object.keys(cluster.workers ?? {}).length });
    for (const worker of liveWorkers()) worker.process.kill('SIGTERM');
    setTimeout(() => {
      log.error({ msg: 'workers did not stop in time; killing them', timeoutMs: options.shutdownTimeoutMs });
      for (const worker of liveWorkers()) worker.process.kill('SIGKILL');
      exit(1);
    }, options.shutdownTimeoutMs + STOP_MARGIN_MS).unref();
    if (liveWorkers().length === 0) exit(status);
  };

  cluster.on('exit', (worker: Worker, code: number | null, signal: string | null) => {
    const started = listened.delete(worker.id);
    if (stopping) {
      if (code !== 0 && status === 0) status = 1;
      if (liveWorkers().length === 0) {
        log.info({ msg: 'stopped', workers: options.workers, status });
        exit(status);
      }
      return;
    }
    if (!started && !announced) {
      // At start a worker that never listened would fail again: the service cannot start.
      log.fatal({ msg: 'a worker failed to start; stopping', code, signal });
      status = code === options.configExitCode ? options.configExitCode : 1;
      stopAll('a worker failed to start');
      return;
    }
    // Once the service ran, a replacement that fails to start (a database outage) is retried with
    // a growing delay while the other workers go on serving.
    const inMs = restartDelayMs;
    if (!started) restartDelayMs = Math.min(RESTART_DELAY_MAX_MS, restartDelayMs * 2);
    log.error({
      msg: started ? 'a worker died; starting another' : 'a replacement worker failed to start; retrying',
      code,
      signal,
      inMs,
    });
    setTimeout(() => {
      if (!stopping) fork();
    }, inMs);
  });

  // Scrapes that arrive while a collection runs share it: a burst of /metrics requests costs one.
  let collecting: Promise<string> | undefined;
  const collect = (): Promise<string> => {
    collecting ??= aggregator.clusterMetrics().finally(() => {
      collecting = undefined;
    });
    return collecting;
  };
  const answer = (worker: Worker, reply: MetricsAnswer): void => {
    if (!worker.isConnected()) return;
    worker.send(reply, (error: Error | null) => {
      if (error) log.warn({ msg: 'a metrics answer was not delivered', err: error.message });
    });
  };
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMetricsAsk(message)) return;
    collect().then(
      (text) => answer(worker, { type: METRICS_ANSWER, id: message.id, text }),
      (error: unknown) => answer(worker, { type: METRICS_ANSWER, id: message.id, error: String(error) }),
    );
  });

  process.on('SIGTERM', () => stopAll('SIGTERM'));
  process.on('SIGINT', () => stopAll('SIGINT'));
  log.info({ msg: 'starting workers', workers: options.workers });
  for (let i = 0; i < options.workers; i += 1) fork();
}

function liveWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
}

function isMetricsAsk(message: unknown): message is MetricsAsk {
  return typeof message === 'object' && message !== null && (message as MetricsAsk).type === METRICS_ASK;
}

let nextAsk = 0;

/**
 * In a worker: the metrics of every worker of the service, summed by the primary (counters and
 * histograms add up; each default metric says how it combines). Rejects after `timeoutMs`.
 */
export function clusterMetrics(timeoutMs = 5_000): Promise<string> {
  const id = nextAsk++;
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      const answer = message as MetricsAnswer;
      if (answer?.type !== METRICS_ANSWER || answer.id !== id) return;
      done();
      if (answer.text !== undefined) resolve(answer.text);
      else reject(new Error(answer.error ?? 'no metrics'));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`the primary did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      process.off('message', onMessage);
    };
    process.on('message', onMessage);
    process.send?.({ type: METRICS_ASK, id } satisfies MetricsAsk);
  });
}
