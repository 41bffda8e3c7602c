import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { integerVar } from '../config/env';
import type { SignatureCheck } from '@cryptomesh/crypto';
import { encodeChecks } from './check-codec';
import { WORKER_SOURCE } from './signature-worker';

/**
 * The setting (issue #17): how many worker threads verify signatures for the auditors (the
 * replication service's mirror, the log-signer's re-check). 0 verifies in the service's own thread.
 * Default: one per core but the one the service's own thread needs (the rule re-check in order),
 * at least 1 and at most 4 — each worker is a V8 isolate of ~10 MB. One worker verifies the two
 * signatures of an entry in less time than the re-check of the entry takes in the service's thread.
 */
export function signatureWorkersConfigShape() {
  const cores = availableParallelism();
  return {
    SIGNATURE_WORKERS: integerVar({ default: Math.max(1, Math.min(4, cores - 1)), min: 0, max: 32 }),
  };
}

export interface SignaturePoolOptions {
  /** Worker threads, ≥ 1. */
  readonly size: number;
  /** A batch a worker has not answered within this long fails, and the worker is replaced (default 30 s). */
  readonly timeoutMs?: number;
  /** A worker crashed, was stopped for a timeout, or exited: its batches were failed; it is replaced. */
  readonly onWorkerFailure?: (failure: { readonly worker: number; readonly reason: string }) => void;
  /** Each batch answered: how many checks, and the time from sending to the answer. */
  readonly onBatch?: (checks: number, ms: number) => void;
}

interface Pending {
  readonly resolve: (verdicts: boolean[]) => void;
  readonly reject: (error: Error) => void;
  readonly checks: number;
  readonly sentAt: number;
  readonly timer: NodeJS.Timeout;
}

interface Slot {
  readonly index: number;
  /** Undefined after a failure until the next batch for this slot starts a new one. */
  worker: Worker | undefined;
  readonly pending: Map<number, Pending>;
  /** Checks sent and not answered: where the next batch goes. */
  outstanding: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Each worker's heap stays small: it keeps only imported keys (bounded) and one batch at a time. */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 };

/**
 * A pool of worker threads that verify EdDSA signatures (`VerifyBatch` of @cryptomesh/audit): each
 * check is the plain `crypto.verify` of OpenSSL on exactly the bytes given — the strict encoding
 * rules stay with the caller (`verifyJws`). `verify` resolves with one verdict per check, in order;
 * it rejects when the worker that had the batch crashed, timed out or the pool was closed, never
 * hangs: the next batch replaces a failed worker, and the failed batch's caller retries its part.
 *
 * Owned by one service; `close()` at shutdown stops the workers (after the callers finished: it
 * fails whatever is still pending). The workers are unref'd: they never keep a process alive.
 */
export class SignaturePool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;

  constructor(private readonly options: SignaturePoolOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 1)
      throw new RangeError(`a signature pool has at least one worker, got ${options.size}`);
    for (let index = 0; index < options.size; index++) {
      const slot: Slot = {
        index,
        worker: undefined,
        pending: new Map(),
        outstanding: 0,
      };
      slot.worker = this.start(slot);
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** One verdict per check, in order (see the class comment). Bound: pass it as a `VerifyBatch`. */
  readonly verify = (checks: readonly SignatureCheck[]): Promise<boolean[]> => {
    if (this.closed) return Promise.reject(new Error('the signature pool is closed'));
    if (checks.length === 0) return Promise.resolve([]);
    const slot = this.slots.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
    // A failed worker is replaced when work comes, not at once: a worker that cannot start (out of
    // memory) fails each batch, and the callers' own back-off paces the attempts.
    const worker = (slot.worker ??= this.start(slot));
    const id = this.nextId++;
    const buffer = encodeChecks(checks);
    return new Promise<boolean[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        void worker.terminate();
        this.fail(slot, `no answer within ${this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`, worker);
      }, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      timer.unref();
      slot.pending.set(id, { resolve, reject, checks: checks.length, sentAt: Date.now(), timer });
      slot.outstanding += checks.length;
      worker.postMessage({ id, buffer }, [buffer]);
    });
  };

  /** Stops every worker; whatever is still pending fails. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots) this.failPending(slot, new Error('the signature pool is closed'));
    await Promise.all(this.slots.map((slot) => slot.worker?.terminate() ?? Promise.resolve(0)));
  }

  private start(slot: Slot): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: WORKER_LIMITS });
    worker.unref();
    worker.on('message', (answer: { id: number; verdicts: Uint8Array }) => {
      const pending = slot.pending.get(answer.id);
      if (pending === undefined) return;
      slot.pending.delete(answer.id);
      slot.outstanding -= pending.checks;
      clearTimeout(pending.timer);
      this.options.onBatch?.(pending.checks, Date.now() - pending.sentAt);
      pending.resolve(Array.from(answer.verdicts, (v) => v === 1));
    });
    worker.on('error', (error) => this.fail(slot, `crashed: ${error.message}`, worker));
    worker.on('exit', (code) => this.fail(slot, `exited with code ${code}`, worker));
    return worker;
  }

  /** The slot's worker failed: its batches fail, and the next batch for the slot starts a new one. */
  private fail(slot: Slot, reason: string, worker: Worker): void {
    if (this.closed || worker !== slot.worker) return;
    slot.worker = undefined;
    this.failPending(slot, new Error(`signature worker ${slot.index} ${reason}`));
    this.options.onWorkerFailure?.({ worker: slot.index, reason });
    void worker.terminate();
  }

  private failPending(slot: Slot, error: Error): void {
    for (const pending of slot.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    slot.pending.clear();
    slot.outstanding = 0;
  }
}
