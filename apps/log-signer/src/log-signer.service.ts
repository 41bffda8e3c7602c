import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { HealthRegistry, SignatureWorkers, WakeableDelay } from '@cryptomesh/service';
import type { RecordProfiles } from '@cryptomesh/mesh';
import type { Clock } from './clock';
import { LogHead, type SealSigning } from './log-head';
import { backfillProfileIndex, entryProfiles } from './profile-index';
import { RecordRules, backfillAccountStates, type RecordVerdicts } from './record-rules';
import type { LogSignerMetrics } from './log-signer.metrics';
import {
  batchLimit,
  idleDelay,
  sealBudget,
  sealReason,
  type OpenPart,
  type SealLimits,
  type SealReason,
} from './seal-policy';
import { SignerError, isSignerError } from './signer-error';
import type { QueuedEntry, RefusedEntry, SignerSession, SignerStore } from './signer-store';

export const SIGNER_STORE = Symbol('SIGNER_STORE');
export const SIGNER_CLOCK = Symbol('SIGNER_CLOCK');
export const SIGNER_OPTIONS = Symbol('SIGNER_OPTIONS');
export const SIGNER_METRICS = Symbol('SIGNER_METRICS');

export interface LogSignerOptions extends SealLimits {
  readonly signing: SealSigning;
  /**
   * `mesh` (the default of the service): every queued record is re-checked with the auditors' rules
   * before it is sequenced (`record-rules.ts`); `none`: only that it decodes as a log entry (a log of
   * arbitrary JSON entries: the log library's own tests). LOG_SIGNER_RULES.
   */
  readonly rules?: 'mesh' | 'none';
  readonly batchSize: number;
  readonly pollMs: number;
  readonly leaderRetryMs: number;
}

/**
 * The log-signer loop (docs/design/log-signer.md): take the leadership lock, rebuild the head from
 * the database, then repeatedly sequence queued entries and seal parts as `seal-policy.ts` says.
 *
 * Every durable step is one database commit, and the in-memory head is replaced only after it:
 *   1. sequencing commit — entries, tree nodes, their profile index rows and the queue deletion,
 *      together (the backfill at leadership indexes older entries in commits of their own);
 *   2. seal commit — the seal row, which is the only source anything publishes a seal from.
 * On any failure the session is dropped (which releases the lock) and the head is rebuilt from the
 * database on the next leadership: a write whose commit reply was lost is then found, not redone.
 *
 * Fields below are owned by the loop (`run`/`step`); the health check and shutdown only read them.
 */
@Injectable()
export class LogSignerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('log-signer');
  private session: SignerSession | undefined;
  private head: LogHead | undefined;
  /** Monotonic time of the last seal, for pacing (undefined before the first seal of the log). */
  private lastSealMono: number | undefined;
  /** Monotonic time of this signer's previous seal, for the seal interval (undefined until one). */
  private previousSealMono: number | undefined;
  /**
   * Monotonic instants at which the open part's entries were queued, for the integration latency;
   * only those this leadership sequenced (an entry left open by a predecessor is not measured).
   */
  private openQueuedMono: number[] = [];
  /** The earliest of them (the open part's oldest entry), for the seal's deadline; undefined: none. */
  private oldestOpenMono: number | undefined;
  /** Moving averages of a sequencing transaction's and of a seal's duration, ms (the seal budget). */
  private sequenceMsAverage = 0;
  private sealMsAverage = 0;
  private fatal: SignerError | undefined;
  /** This leadership's re-check of queued records (undefined: LOG_SIGNER_RULES=none). */
  private rules: RecordRules | undefined;
  private stopping = false;
  private readonly delay = new WakeableDelay();
  private loop: Promise<void> | undefined;

  constructor(
    @Inject(SIGNER_STORE) private readonly store: SignerStore,
    @Inject(SIGNER_CLOCK) private readonly clock: Clock,
    @Inject(SIGNER_OPTIONS) private readonly options: LogSignerOptions,
    @Inject(SIGNER_METRICS) private readonly metrics: LogSignerMetrics,
    private readonly health: HealthRegistry,
    /** Where the records' signatures are verified (SIGNATURE_WORKERS); without it, in this thread. */
    @Optional() private readonly signatures?: SignatureWorkers,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.health.register('log-signer', () => this.readiness());
    this.metrics.leader.set(0);
    // One attempt before the service listens, so that a lone signer is ready when it answers.
    let delay: number;
    try {
      delay = await this.step();
    } catch (error) {
      delay = await this.recoverFrom(error);
    }
    this.loop = this.run(delay);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.delay.wake();
    await this.loop;
    await this.dropLeadership();
  }

  /** True while this instance holds the leadership lock. */
  get leading(): boolean {
    return this.session?.alive === true;
  }

  private readiness(): Promise<void> {
    if (this.fatal) return Promise.reject(new Error(`stopped: ${this.fatal.code}: ${this.fatal.message}`));
    if (!this.leading) {
      return Promise.reject(
        new Error('leader: false (standby: another log-signer holds the leadership lock)'),
      );
    }
    return Promise.resolve();
  }

  private async run(firstDelay: number): Promise<void> {
    let delay = firstDelay;
    while (!this.stopping && this.fatal === undefined) {
      await this.delay.wait(delay);
      if (this.stopping) break;
      try {
        delay = await this.step();
      } catch (error) {
        delay = await this.recoverFrom(error);
      }
    }
  }

  /** One turn: lead if possible, then do what is due. Resolves to how long to sleep. */
  private async step(): Promise<number> {
    if (this.session === undefined || !this.session.alive) {
      if (!(await this.lead())) return this.options.leaderRetryMs;
    }
    return this.work(this.session!, this.head!);
  }

  private async lead(): Promise<boolean> {
    this.session = undefined;
    const session = await this.store.tryLead();
    if (session === undefined) return false;
    let head: LogHead;
    let backfilled: number;
    try {
      head = await LogHead.recover(session, this.options.signing);
      // Before sequencing more: the sequencing transaction extends the profile index only from
      // where it ends, so entries sequenced before it existed (or after it was cleared) go first.
      backfilled = await backfillProfileIndex(session, head.size, this.options.batchSize);
      // Likewise the account states the records are re-checked against.
      this.rules = undefined;
      if ((this.options.rules ?? 'mesh') === 'mesh') {
        const verifyBatch = this.signatures?.verifyBatch;
        const rules = new RecordRules(session, {
          origin: this.options.signing.origin,
          ...(verifyBatch === undefined ? {} : { verifyBatch }),
        });
        const checked = await backfillAccountStates(session, rules, head.size, this.options.batchSize);
        if (checked.rechecked > 0)
          this.logger.log({ msg: 'account states re-checked from the log', entries: checked.rechecked });
        if (checked.violations > 0)
          this.logger.error({
            msg: 'sealed entries of this log break a rule: every auditing peer reported them',
            entries: checked.violations,
            first: checked.first,
          });
        this.rules = rules;
      }
    } catch (error) {
      await session.close();
      throw error;
    }
    const last = head.lastSeal;
    // Pace from the last seal's time: a restart neither delays a due seal nor adds a heartbeat.
    this.lastSealMono =
      last === undefined ? undefined : this.clock.monotonic() - Math.max(0, this.clock.now() - last.timeMs);
    this.session = session;
    this.head = head;
    this.openQueuedMono = [];
    this.oldestOpenMono = undefined;
    this.previousSealMono = undefined;
    this.metrics.leader.set(1);
    this.metrics.treeSize.set({ state: 'sequenced' }, head.size);
    this.metrics.treeSize.set({ state: 'sealed' }, head.sealedSize);
    if (last !== undefined) this.metrics.lastSealTime.set(last.timeMs / 1000);
    const keys = head.signingKeys(this.options.signing);
    this.logger.log({
      msg: 'leading',
      logKey: keys.current.verifierKey.text,
      ...(keys.rotateTo === undefined ? {} : { rotatingTo: keys.rotateTo.verifierKey.text }),
      nextPart: head.nextPart,
      sealedSize: head.sealedSize,
      size: head.size,
      ...(backfilled > 0 ? { profilesIndexed: backfilled } : {}),
    });
    return true;
  }

  private async work(session: SignerSession, start: LogHead): Promise<number> {
    let head = start;
    for (;;) {
      const limit = batchLimit(this.openPart(head), this.options, this.options.batchSize);
      let taken = 0;
      if (limit > 0) {
        let next: LogHead | undefined;
        let queued: readonly QueuedEntry[] = [];
        let refused: ReadonlyArray<RefusedEntry & QueuedEntry> = [];
        const first = head.size;
        const rules = this.rules;
        const sequencing = this.clock.monotonic();
        // When the queue's rows were read: their ages (`queuedMs`) are measured at that read, so
        // their queued instants are counted back from it, not from the commit that follows.
        let read = sequencing;
        taken = await session.sequence(limit, async (entries, meta) => {
          read = this.clock.monotonic();
          rules?.discard();
          const checked: RecordVerdicts | undefined =
            rules === undefined ? undefined : await rules.check(entries, head.size, this.clock.now());
          const planned = head.planBatch(entries, checked?.refused);
          const out = new Set(planned.refused.map((r) => r.position));
          next = planned.next;
          queued = meta.filter((_, i) => !out.has(i));
          refused = planned.refused.map((r) => ({ ...r, ...meta[r.position]! }));
          const accepted = entries.filter((_, i) => !out.has(i));
          return {
            ...planned.batch,
            // What the re-check decoded; without it (LOG_SIGNER_RULES=none), decoded here.
            profiles:
              checked === undefined
                ? accepted.map(entryProfiles)
                : acceptedProfiles(checked, entries.length, out),
            refused: planned.refused,
            ...(checked === undefined ? {} : { accountStates: checked.states }),
          };
        });
        // Committed: the states staged by the plan are the stored ones. (A failure rejected above:
        // the session is dropped, and the next leadership starts from the stored states.)
        if (taken > 0) rules?.commit();
        if (taken > 0)
          this.sequenceMsAverage = average(this.sequenceMsAverage, this.clock.monotonic() - sequencing);
        // Sequencing committed (or the queue was empty). A crash before this commit leaves the
        // rows queued and nothing sequenced; a crash after it leaves entries sequenced but not
        // sealed — start-up rebuilds the open part from their stored leaf hashes and seals them —
        // and the refused rows moved to log_queue_refused, never to be sequenced.
        if (taken > 0 && next !== undefined) {
          head = this.head = next;
          this.metrics.sequenced.inc(head.size - first);
          this.metrics.treeSize.set({ state: 'sequenced' }, head.size);
          this.traceSequenced(first, queued, read);
          this.reportRefused(refused);
        }
      }
      const reason = sealReason(this.openPart(head), this.options);
      if (reason !== undefined) head = await this.seal(session, head, reason);
      const moreQueued = limit > 0 && taken === limit;
      if (this.stopping || (!moreQueued && reason !== 'full'))
        return idleDelay(this.openPart(head), this.options, this.options.pollMs);
    }
  }

  private async seal(session: SignerSession, head: LogHead, reason: SealReason): Promise<LogHead> {
    const started = this.clock.monotonic();
    const { record, transition, next } = head.planSeal(this.clock.now(), this.options.signing);
    // The signature exists only in this process until the seal's transaction (the seal row and the
    // tlog-tiles it completes) commits. A crash before the
    // commit leaves no seal anywhere — nothing read it, nothing published it — and start-up seals
    // part n afresh from the stored entries (DESIGN.md invariant 2 concerns seals that exist).
    // With a key transition (LOG_KEY_NEXT), its entry closes the part in the same transaction.
    await session.appendSeal(record, transition);
    if (transition !== undefined)
      this.logger.warn({
        msg: "log key rotated: this part is the old key's last; every later seal is signed by LOG_KEY_NEXT (move it to LOG_KEY)",
        part: record.part,
        size: record.size,
        next: next.signingKeys(this.options.signing).current.verifierKey.text,
      });
    // Seal committed: the row is now the seal of part n, forever (its primary key refuses another).
    // A crash after this point leaves it stored and maybe unannounced; start-up reads it back as
    // the last seal and continues with part n + 1.
    this.head = next;
    this.lastSealMono = this.clock.monotonic();
    const ms = this.lastSealMono - started;
    const entries = record.size - record.first;
    const sinceLast =
      this.previousSealMono === undefined ? undefined : (this.lastSealMono - this.previousSealMono) / 1000;
    this.previousSealMono = this.lastSealMono;
    this.metrics.observeSeal(
      reason,
      ms / 1000,
      { entries, size: record.size, timeMs: record.timeMs },
      sinceLast,
    );
    this.sealMsAverage = average(this.sealMsAverage, ms);
    for (const queuedMono of this.openQueuedMono)
      this.metrics.integrationSeconds.observe((this.lastSealMono - queuedMono) / 1000);
    this.openQueuedMono = [];
    this.oldestOpenMono = undefined;
    this.logger.log({
      msg: 'sealed',
      part: record.part,
      first: record.first,
      size: record.size,
      entries,
      reason,
      ms: Math.round(ms * 10) / 10,
    });
    return next;
  }

  /**
   * After a sequencing commit: one line per entry that a gateway request queued, with the request's
   * id and the entry's index, so an operator can follow a request from the gateway's log into the
   * log (docs/design/observability.md "Request ids"); and the queued instants for the latency.
   */
  private traceSequenced(first: number, queued: readonly QueuedEntry[], readMono: number): void {
    queued.forEach((entry, i) => {
      const queuedMono = readMono - entry.queuedMs;
      this.openQueuedMono.push(queuedMono);
      if (this.oldestOpenMono === undefined || queuedMono < this.oldestOpenMono)
        this.oldestOpenMono = queuedMono;
      if (entry.requestId !== undefined)
        this.logger.log({ msg: 'entry sequenced', requestId: entry.requestId, index: first + i });
    });
  }

  /**
   * Queued rows that do not decode, or whose record breaks a rule, were refused, not sealed (issue
   * #15): an honest gateway checked the same rules before queueing, so only a gateway that bypassed
   * them — a compromised one — queues such a row. Each is an error for the operator, kept with its
   * reason in log_queue_refused.
   */
  private reportRefused(refused: ReadonlyArray<RefusedEntry & QueuedEntry>): void {
    if (refused.length === 0) return;
    this.metrics.refused.inc(refused.length);
    for (const entry of refused)
      this.logger.error({
        msg: 'queued entry refused: not sealed, kept in log_queue_refused',
        reason: entry.reason,
        ...(entry.requestId !== undefined ? { requestId: entry.requestId } : {}),
      });
  }

  private openPart(head: LogHead): OpenPart {
    const now = this.clock.monotonic();
    return {
      entries: head.openEntries,
      sinceLastSealMs: this.lastSealMono === undefined ? undefined : now - this.lastSealMono,
      ...(this.oldestOpenMono === undefined ? {} : { oldestEntryAgeMs: now - this.oldestOpenMono }),
      // A due seal may first wait for one sequencing transaction, then takes its own time.
      sealBudgetMs: sealBudget(
        this.sequenceMsAverage + this.sealMsAverage,
        this.options.pollMs,
        this.options.sealIntervalMs,
      ),
    };
  }

  /** Any failure: give up the session (and the lock); fatal ones stop the loop. Resolves to the retry delay. */
  private async recoverFrom(error: unknown): Promise<number> {
    await this.dropLeadership();
    const code = (error as { code?: unknown }).code;
    this.metrics.errors.inc({ code: typeof code === 'string' ? code : 'error' });
    if (isSignerError(error)) {
      this.fatal = error;
      this.logger.error({
        msg: 'signer stopped',
        code: error.code,
        err: error.message,
        cause: describe(error.cause),
      });
      return 0;
    }
    this.logger.error({ msg: 'signer loop failed; re-reading the database', code, err: describe(error) });
    return this.options.leaderRetryMs;
  }

  private async dropLeadership(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    this.head = undefined;
    this.metrics.leader.set(0);
    await session?.close();
  }
}

/** An exponential moving average over about the last eight values. */
function average(previous: number, value: number): number {
  return previous === 0 ? value : previous + (value - previous) / 8;
}

function describe(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  return error instanceof Error ? error.message : JSON.stringify(error);
}

/**
 * The profile changes of the accepted positions, in order, from what the re-check decoded. Every
 * position the plan accepted was accepted by the re-check (the plan refuses at least what it
 * refused), so each has its changes; one without would silently drop them from the index.
 */
function acceptedProfiles(
  checked: RecordVerdicts,
  count: number,
  refused: ReadonlySet<number>,
): RecordProfiles[] {
  const profiles: RecordProfiles[] = [];
  for (let i = 0; i < count; i++) {
    if (refused.has(i)) continue;
    const changes = checked.profiles.get(i);
    if (changes === undefined) throw new Error(`entry ${i} of the batch was accepted but not re-checked`);
    profiles.push(changes);
  }
  return profiles;
}
