import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { nodeEd25519 } from '@cryptomesh/crypto';
import type { CosignatureRecord } from '@cryptomesh/audit';
import {
  consistencyProof,
  formatAddCheckpoint,
  formatSignatureLine,
  isLogError,
  parseNote,
  verifyCosignature,
  type HashReader,
} from '@cryptomesh/log';
import type { OutsideWitnessRecord } from '@cryptomesh/persistence';
import { MetricsService, SerialTicker } from '@cryptomesh/service';
import type { OutsideWitness } from '../outside-witnesses.config';
import { FEDERATION_CONTEXT, type FederationContext } from './witness.service';

export const OUTSIDE_WITNESS_OPTIONS = Symbol('OUTSIDE_WITNESS_OPTIONS');
export const OUTSIDE_WITNESS_STORE = Symbol('OUTSIDE_WITNESS_STORE');
export const OWN_LOG = Symbol('OWN_LOG');

export interface OutsideWitnessOptions {
  readonly witnesses: readonly OutsideWitness[];
  readonly pollMs: number;
  readonly timeoutMs: number;
  readonly retryMaxMs: number;
  /** Injected for tests; the global fetch otherwise. */
  readonly fetch?: typeof fetch;
}

/** The port of `outside_witnesses` (adapter: `TypeOrmOutsideWitnessStore`). */
export interface OutsideWitnessStore {
  configure(witnesses: ReadonlyArray<{ name: string; url: string; witnessKey: string }>): Promise<void>;
  all(): Promise<OutsideWitnessRecord[]>;
  cosigned(name: string, size: number, cosignature: CosignatureRecord): Promise<void>;
  resync(name: string, size: number): Promise<void>;
  failed(name: string, error: string): Promise<void>;
}

/** This portal's own log as the submitter reads it: its latest seal and its stored tree nodes. */
export interface OwnLog extends HashReader {
  latestSeal(): Promise<{ part: number; size: number; note: string } | undefined>;
}

/** The most bytes of a witness's answer that are read (a few signature lines). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Submits this portal's newest seal to each outside witness the operator listed (C2SP
 * tlog-witness `add-checkpoint`, docs/design/federation.md "Outside witnesses"), and stores each
 * verified cosignature in `cosignatures` (witness `outside:<name>`), where `/logs/self/checkpoint`
 * appends it. It runs beside sealing, never in its path: the log-signer does not wait for it, and a
 * witness that is down only delays its own cosignatures. A 409 with the witness's size resyncs the
 * old size and retries at once; any other failure is counted (metric, log line, `/federation`) and
 * retried after a delay that doubles up to OUTSIDE_WITNESS_RETRY_MAX_MS. Rounds never overlap
 * (SerialTicker); each witness is asked at most once per round (twice after a 409).
 */
@Injectable()
export class OutsideWitnessService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('outside-witness');
  private readonly ticker = new SerialTicker(
    () => this.round(),
    (error) => this.logger.error({ msg: 'outside witness round failed', err: error }),
  );
  /** Owned by the round: consecutive failures and when each witness may be asked again. */
  private readonly backoff = new Map<string, { failures: number; notBefore: number }>();
  private readonly requests: Counter<'witness' | 'outcome'>;
  private readonly failing: Gauge<'witness'>;

  constructor(
    @Inject(OUTSIDE_WITNESS_OPTIONS) private readonly options: OutsideWitnessOptions,
    @Inject(OUTSIDE_WITNESS_STORE) private readonly store: OutsideWitnessStore,
    @Inject(OWN_LOG) private readonly log: OwnLog,
    @Inject(FEDERATION_CONTEXT) private readonly context: FederationContext,
    metrics: MetricsService,
  ) {
    this.requests = metrics.counter(
      'tlog_outside_witness_requests_total',
      'add-checkpoint requests to outside witnesses, by witness and outcome (cosigned, resync, conflict, failed)',
      ['witness', 'outcome'],
    );
    this.failing = new Gauge({
      name: 'tlog_outside_witness_consecutive_failures',
      help: 'Failed add-checkpoint requests to each outside witness since its last cosignature',
      labelNames: ['witness'],
      registers: [metrics.registry],
    });
    for (const w of options.witnesses) this.failing.set({ witness: w.name }, 0);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.store.configure(
      this.options.witnesses.map((w) => ({ name: w.name, url: w.url, witnessKey: w.key.text })),
    );
    if (this.options.witnesses.length > 0) this.ticker.start(this.options.pollMs);
  }

  async onModuleDestroy(): Promise<void> {
    await this.ticker.stop();
  }

  /** One round: the newest seal to every witness that has not cosigned it and is not backing off. */
  async round(): Promise<void> {
    const seal = await this.log.latestSeal();
    if (seal === undefined) return;
    const states = new Map((await this.store.all()).map((r) => [r.name, r]));
    const now = Date.now();
    await Promise.all(
      this.options.witnesses.map(async (witness) => {
        const state = states.get(witness.name);
        if (state?.part === seal.part) return;
        if ((this.backoff.get(witness.name)?.notBefore ?? 0) > now) return;
        try {
          await this.offer(witness, seal, state?.size ?? 0);
        } catch (error) {
          await this.fail(witness, error instanceof Error ? error.message : String(error));
        }
      }),
    );
  }

  private async offer(
    witness: OutsideWitness,
    seal: { part: number; size: number; note: string },
    knownSize: number,
  ): Promise<void> {
    let oldSize = knownSize;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (oldSize > seal.size) {
        return this.fail(
          witness,
          `the witness has cosigned size ${oldSize}, beyond this log's ${seal.size}`,
          'conflict',
        );
      }
      const proof =
        oldSize === 0 || oldSize === seal.size ? [] : await consistencyProof(this.log, oldSize, seal.size);
      const res = await (this.options.fetch ?? fetch)(`${witness.url}/add-checkpoint`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: formatAddCheckpoint({ oldSize, proof, checkpoint: seal.note }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const answer = (await res.text()).slice(0, MAX_ANSWER_BYTES);
      if (res.status === 200) return this.accept(witness, seal, answer);
      if (res.status === 409 && (res.headers.get('content-type') ?? '').startsWith('text/x.tlog.size')) {
        const size = /^(0|[1-9][0-9]{0,15})\n?$/.exec(answer);
        if (size === null)
          return this.fail(witness, `409 with a malformed size ${JSON.stringify(answer.slice(0, 40))}`);
        oldSize = Number(size[1]);
        await this.store.resync(witness.name, oldSize);
        this.requests.inc({ witness: witness.name, outcome: 'resync' });
        this.logger.log({ msg: 'outside witness resynced', witness: witness.name, size: oldSize });
        continue;
      }
      return this.fail(
        witness,
        `HTTP ${res.status}: ${answer.slice(0, 200).trim()}`,
        res.status === 409 ? 'conflict' : 'failed',
      );
    }
    return this.fail(witness, 'still 409 after a resync');
  }

  private async accept(
    witness: OutsideWitness,
    seal: { part: number; size: number; note: string },
    answer: string,
  ): Promise<void> {
    const text = parseNote(seal.note).text;
    let signatures;
    try {
      signatures = parseNote(`${text}\n${answer.endsWith('\n') ? answer : `${answer}\n`}`).signatures;
    } catch (error) {
      if (isLogError(error)) return this.fail(witness, `the answer is not signature lines: ${error.message}`);
      throw error;
    }
    for (const signature of signatures) {
      if (signature.name !== witness.key.name || signature.keyId !== witness.key.keyId) continue;
      let timestamp: number;
      try {
        timestamp = verifyCosignature(text, signature, witness.key, nodeEd25519);
      } catch (error) {
        if (isLogError(error)) continue;
        throw error;
      }
      await this.store.cosigned(witness.name, seal.size, {
        subject: this.context.portalId,
        part: seal.part,
        witness: `outside:${witness.name}`,
        seal: seal.note,
        line: formatSignatureLine(signature),
        cosignedAt: timestamp,
      });
      this.backoff.delete(witness.name);
      this.failing.set({ witness: witness.name }, 0);
      this.requests.inc({ witness: witness.name, outcome: 'cosigned' });
      return;
    }
    return this.fail(witness, 'no valid cosignature by the configured key in the answer');
  }

  private async fail(
    witness: OutsideWitness,
    error: string,
    outcome: 'failed' | 'conflict' = 'failed',
  ): Promise<void> {
    const failures = (this.backoff.get(witness.name)?.failures ?? 0) + 1;
    const delay = Math.min(this.options.retryMaxMs, this.options.pollMs * 2 ** Math.min(failures, 20));
    this.backoff.set(witness.name, { failures, notBefore: Date.now() + delay });
    this.failing.set({ witness: witness.name }, failures);
    this.requests.inc({ witness: witness.name, outcome });
    this.logger.warn({
      msg: 'outside witness failed',
      witness: witness.name,
      error,
      failures,
      retryInMs: delay,
    });
    await this.store
      .failed(witness.name, error)
      .catch((e: unknown) =>
        this.logger.error({ msg: 'could not record an outside witness failure', err: e }),
      );
  }
}
