import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { Kafka, type Consumer, type EachMessagePayload } from 'kafkajs';
import {
  ESCROW_MESSAGE_TYPE,
  INBOUND_MESSAGE_TYPE,
  ensureTopics,
  logTopic,
  portalIdOfLogTopic,
  type FederationPeer,
  type PartLimits,
} from '@cryptomesh/intermesh';
import { isLogError, openSeal, parseNote, type Seal, type VerifierKey } from '@cryptomesh/log';
import {
  HealthRegistry,
  LogGate,
  ReplacingTimer,
  SerialTicker,
  SignatureWorkers,
  type FetchFunction,
} from '@cryptomesh/service';
import { FederationMetrics } from '../federation/federation.metrics';
import { ED25519, WitnessService } from '../federation/witness.service';
import {
  PeerAudit,
  SignaturesRefused,
  compareSeals,
  type AuditStep,
  type Clock,
  type CosignatureStore,
  type FindingStore,
  type MirrorPartRecord,
  type MirrorStore,
  type VerifiedPart,
} from '@cryptomesh/audit';
import {
  COSIGNATURE_STORE,
  FEDERATION_CLOCK,
  FINDING_STORE,
  MIRROR_STORE,
} from '../federation/federation-tokens';
import { EscrowIntake } from './escrow-intake';
import { InboundIntake } from './inbound-intake';
import { PeerQueryClient } from './peer-query.client';

export const MIRROR_OPTIONS = Symbol('MIRROR_OPTIONS');
export const MIRROR_KAFKA = Symbol('MIRROR_KAFKA');

export interface MirrorOptions {
  /** MIRROR: false leaves peers' logs alone (no mirror, no audit, no cosignature). */
  readonly enabled: boolean;
  readonly groupId: string;
  readonly staleAfterMs: number;
  readonly catchUpIntervalMs: number;
  readonly catchUpTimeoutMs: number;
  /** PEER_PART_MAX_ENTRIES / _BYTES: what one peer's unsealed part may hold, on the topic or fetched. */
  readonly partLimits: PartLimits;
  /** How peers' query services are reached (PEER_CA_FILE: a fetch that trusts that CA); default fetch. */
  readonly peerFetch?: FetchFunction;
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;
/** A recurring catch-up or lag failure of one peer is logged at warn once a minute, with a count. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

/** One peer's mirror: its auditor, its topic progress, and a lock that serialises all work on it. */
interface PeerMirror {
  readonly peer: FederationPeer;
  readonly topic: string;
  readonly audit: PeerAudit;
  readonly query: PeerQueryClient;
  /** The offset after the last stored part's seal message; messages before it are replays. */
  progress: bigint | undefined;
  /** The head part when the last catch-up check ran: a head that did not move since may need one. */
  checkedHead: number;
  retryMs: number;
  /** The resume of the topic at the end of the current back-off (a later back-off replaces it). */
  readonly resume: ReplacingTimer;
  /** The time of the peer's newest seal seen on its query service (catch-up or lag sample), if any. */
  peerSealTimeMs: number | undefined;
  /** The size of the peer's log by its newest seal seen on its query service, if any (the lag in entries). */
  peerSize: number | undefined;
  /** A verified part of the topic whose store is in flight while the next part is verified. */
  storing: StoringPart | undefined;
  /**
   * Counts the seeks of the topic: a message handed over before the latest seek and still waiting
   * for the lock is dropped, since the seek delivers it again in order.
   */
  seeks: number;
  lock: Promise<void>;
}

/**
 * A part being stored (`PeerAudit.advance`): its store — which starts once its signatures verified
 * (`VerifiedPart.signatures`) — its outcome, and what follows its commit.
 */
interface StoringPart {
  readonly part: number;
  readonly entries: number;
  readonly nextOffset: bigint;
  /** Whether this portal's cosignature went with the part (decided once its signatures verified). */
  cosigned: boolean;
  /**
   * Resolves (never rejects) once the store is over: undefined when it committed, else its error —
   * a failed store, the pool's, or `SignaturesRefused`.
   */
  readonly done: Promise<unknown>;
}

/**
 * Mirrors and audits every peer's log (docs/design/federation.md "Mirror and audit"): one kafkajs
 * consumer reads the peers' log topics from the offsets stored with the mirror, each peer's
 * `PeerAudit` turns messages into verified parts or findings, and each verified part is stored
 * with this portal's cosignature and the topic progress in one transaction. A periodic check
 * fetches parts from a peer's query service when the topic does not bring them (catch-up), and
 * opens a `stale` finding for a peer that stopped sealing.
 *
 * A transient failure (database, broker) on a peer resets its auditor to the stored head and seeks
 * its topic back to the stored progress after a back-off: work is redone, never skipped.
 *
 * A part from the topic is stored while the peer's next part is read and verified on top of it (a
 * catch-up from the peer's query service, far rarer, is stored before the next part is fetched); its
 * store, its cosignature and its findings wait for its entries' signatures, which are verified
 * while the next part is re-checked (federation.md). Only that verification overlaps the store:
 * anything else done about the peer — storing the next part, a finding, an escrow or inbound
 * message, a catch-up round, the stale check — first waits for the store; if it failed (or a
 * signature was refused), what was verified on top of it is forgotten with the rest.
 */
@Injectable()
export class MirrorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('mirror');
  private readonly mirrors = new Map<string, PeerMirror>();
  private consumer: Consumer | undefined;
  /** consumer.run() has returned: seeking is allowed. */
  private running = false;
  private consumerError: string | undefined = 'not started';
  private stopping = false;
  private starting: Promise<void> | undefined;
  private startedAt = 0;
  /** The periodic rounds (stale checks, catch-ups): never two at once. */
  private readonly rounds = new SerialTicker(() => this.periodic());
  private readonly failures = new LogGate(FAILURE_LOG_INTERVAL_MS, () => this.clock.now());

  constructor(
    @Inject(MIRROR_OPTIONS) private readonly options: MirrorOptions,
    @Inject(MIRROR_KAFKA) private readonly kafka: Kafka,
    @Inject(MIRROR_STORE) private readonly store: MirrorStore,
    @Inject(FINDING_STORE)
    private readonly findings: Pick<FindingStore, 'hasOpenFinding' | 'resolveFindings' | 'resolveOwnStale'>,
    @Inject(COSIGNATURE_STORE) private readonly cosignatures: Pick<CosignatureStore, 'cosignature'>,
    @Inject(FEDERATION_CLOCK) private readonly clock: Clock,
    private readonly witness: WitnessService,
    private readonly metrics: FederationMetrics,
    private readonly health: HealthRegistry,
    /** The escrow intake (issue #19 item 2); without one, escrow messages are skipped. */
    @Optional() private readonly escrows?: EscrowIntake,
    /** The inbound intake (issue #20); without one, inbound messages are skipped. */
    @Optional() private readonly inbound?: InboundIntake,
    /** Where the entries' signatures are verified (SIGNATURE_WORKERS); without it, in this thread. */
    @Optional() private readonly signatures?: SignatureWorkers,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const context = this.witness.context;
    if (!this.options.enabled) return;
    for (const peer of context.peers) {
      const head = await this.store.head(peer.id);
      const topic = logTopic(peer.id);
      const audit = new PeerAudit(
        peer,
        head,
        {
          sealNote: (part) => this.store.sealNote(peer.id, part),
          accountState: (account) => this.store.accountState(peer.id, account),
          accountEntries: (account) => this.store.accountEntries(peer.id, account),
        },
        ED25519,
        this.clock,
        {
          partLimits: this.options.partLimits,
          // A part's signatures are verified while the next part is re-checked (federation.md).
          ...(this.signatures?.verifyBatch === undefined
            ? {}
            : { verifyBatch: this.signatures.verifyBatch, deferSignatures: true }),
        },
      );
      this.mirrors.set(peer.id, {
        peer,
        topic,
        audit,
        query: new PeerQueryClient(
          peer.queryUrl,
          this.options.catchUpTimeoutMs,
          this.options.peerFetch,
          this.options.partLimits,
        ),
        progress: await this.store.progress(topic),
        checkedHead: head?.part ?? -1,
        retryMs: RETRY_MIN_MS,
        resume: new ReplacingTimer(),
        peerSealTimeMs: undefined,
        peerSize: undefined,
        storing: undefined,
        seeks: 0,
        lock: Promise.resolve(),
      });
      this.metrics.headPart.set({ peer: peer.id }, head?.part ?? -1);
    }
    if (this.mirrors.size === 0) return;
    this.startedAt = this.clock.now();
    this.health.register('mirror', () =>
      this.consumerError === undefined ? Promise.resolve() : Promise.reject(new Error(this.consumerError)),
    );
    this.starting = this.startConsumer();
    const tick = Math.max(
      100,
      Math.min(this.options.catchUpIntervalMs, this.options.staleAfterMs / 4, 10_000),
    );
    // A slow peer's catch-up can take longer than the tick: the next round waits for it.
    this.rounds.start(tick);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    const rounds = this.rounds.stop();
    // The consumer is disconnected even while it is still joining its group (run() pending).
    await this.consumer?.disconnect().catch(() => undefined);
    await this.starting;
    await rounds;
    for (const mirror of this.mirrors.values()) {
      await mirror.storing?.done;
      await mirror.lock;
      mirror.resume.clear();
    }
  }

  /** Connects and runs the consumer, retrying with back-off while the broker is unreachable. */
  private async startConsumer(): Promise<void> {
    let retryMs = RETRY_MIN_MS;
    while (!this.stopping) {
      try {
        const admin = this.kafka.admin();
        await admin.connect();
        try {
          await ensureTopics(
            admin,
            [...this.mirrors.values()].map((m) => ({ topic: m.topic, numPartitions: 1 })),
          );
        } finally {
          await admin.disconnect();
        }
        const consumer = this.kafka.consumer({
          groupId: this.options.groupId,
          allowAutoTopicCreation: false,
          maxWaitTimeInMs: 500,
          // A replication instance killed without leaving the group holds its partitions until the
          // session times out: short, so that its successor consumes soon (catch-up covers the gap).
          sessionTimeout: 10_000,
          heartbeatInterval: 1_000,
          retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: RETRY_MAX_MS },
        });
        consumer.on(consumer.events.CRASH, (event) => {
          this.consumerError = `consumer crashed: ${String(event.payload.error)}`;
        });
        consumer.on(consumer.events.FETCH_START, () => {
          this.consumerError = undefined;
        });
        this.consumer = consumer;
        await consumer.connect();
        await consumer.subscribe({
          topics: [...this.mirrors.values()].map((m) => m.topic),
          fromBeginning: true,
        });
        await consumer.run({
          autoCommit: false,
          partitionsConsumedConcurrently: Math.max(1, this.mirrors.size),
          eachMessage: (payload) => this.onMessage(payload),
        });
        this.running = true;
        // Start each topic where the mirror left it (the group's committed offset may be behind).
        for (const mirror of this.mirrors.values()) {
          if (mirror.progress !== undefined)
            consumer.seek({ topic: mirror.topic, partition: 0, offset: mirror.progress.toString() });
        }
        return;
      } catch (error) {
        this.consumerError = error instanceof Error ? error.message : String(error);
        await this.consumer?.disconnect().catch(() => undefined);
        this.consumer = undefined;
        this.logger.warn({
          msg: 'mirror consumer failed to start; retrying',
          retryMs,
          err: this.consumerError,
        });
        await new Promise((r) => setTimeout(r, retryMs));
        retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
      }
    }
  }

  private async onMessage(payload: EachMessagePayload): Promise<void> {
    const { topic, message } = payload;
    const peerId = portalIdOfLogTopic(topic);
    const mirror = peerId === undefined ? undefined : this.mirrors.get(peerId);
    if (mirror === undefined) return;
    const seeks = mirror.seeks;
    await this.locked(mirror, async () => {
      if (mirror.seeks !== seeks) return;
      const offset = BigInt(message.offset);
      if (mirror.progress !== undefined && offset < mirror.progress) return;
      try {
        // An escrow blob (issue #19 item 2) is not part of the log: the auditor never sees it, and
        // the topic's progress (which belongs to parts) does not move; a replay is idempotent.
        const type = message.headers?.type?.toString();
        // Escrow and inbound items are judged after the parts before them are stored.
        if ((type === ESCROW_MESSAGE_TYPE || type === INBOUND_MESSAGE_TYPE) && !(await this.settle(mirror)))
          return;
        const record = {
          ...(message.key === null ? {} : { key: message.key.toString('utf8') }),
          value: message.value ?? new Uint8Array(0),
        };
        if (type === ESCROW_MESSAGE_TYPE) {
          await this.escrows?.receive(mirror.peer, record);
          return;
        }
        // An inbound item (issue #20) neither: read after the parts published before it, so the
        // sender's profile it is checked against is in the mirror already; a replay is a duplicate.
        if (type === INBOUND_MESSAGE_TYPE) {
          await this.inbound?.receive(mirror.peer, record);
          return;
        }
        const step = await mirror.audit.onMessage({
          key: message.key?.toString('utf8'),
          type: message.headers?.type?.toString(),
          value: message.value ?? new Uint8Array(0),
          offset,
        });
        await this.apply(mirror, step, offset + 1n);
      } catch (error) {
        await this.retryLater(mirror, 'topic', error);
      }
    });
  }

  /**
   * A transient failure (database, a bug): redo from the stored state after a back-off, which grows
   * until a part is stored. The consumer seeks back to the stored progress, so the part in progress
   * is read again from its start.
   */
  private async retryLater(
    mirror: PeerMirror,
    stage: 'topic' | 'store' | 'signatures',
    error: unknown,
  ): Promise<void> {
    this.metrics.errors.inc({ peer: mirror.peer.id, stage });
    this.logger.error({
      msg: 'mirror failed; retrying from the stored head',
      peer: mirror.peer.id,
      stage,
      err: String(error),
    });
    await this.resync(mirror);
    const partition = [{ topic: mirror.topic, partitions: [0] }];
    // The consumer throws while it is not running (a crash, a restart, the shutdown): it then
    // starts again from the stored progress anyway.
    // A back-off that starts before the last one ended (a store that failed with no message
    // after it, while the topic was paused) replaces its resume: the earlier timer would end it.
    if (this.consumerCall(mirror, 'pause', (consumer) => consumer.pause(partition)))
      mirror.resume.set(mirror.retryMs, () =>
        this.consumerCall(mirror, 'resume', (consumer) => consumer.resume(partition)),
      );
    mirror.retryMs = Math.min(RETRY_MAX_MS, mirror.retryMs * 2);
  }

  /** Calls the running consumer about a mirror's topic; false when it is not running or refused. */
  private consumerCall(mirror: PeerMirror, what: string, call: (consumer: Consumer) => void): boolean {
    const consumer = this.consumer;
    if (!this.running || consumer === undefined) return false;
    try {
      call(consumer);
      return true;
    } catch (error) {
      this.logger.warn({ msg: `cannot ${what} the topic`, peer: mirror.peer.id, err: String(error) });
      return false;
    }
  }

  /** Seeks the topic back to the stored progress: messages handed over before it are dropped. */
  private seekToProgress(mirror: PeerMirror): void {
    const offset = (mirror.progress ?? 0n).toString();
    if (
      this.consumerCall(mirror, 'seek', (consumer) =>
        consumer.seek({ topic: mirror.topic, partition: 0, offset }),
      )
    )
      mirror.seeks++;
  }

  /**
   * Waits for the part being stored, if any. True once it is stored (it is then the head); false
   * when its store failed or one of its signatures was refused: the mirror was reset to the stored
   * head and its topic paused for the back-off (`retryLater`), and the caller drops what it was doing.
   */
  private async settle(mirror: PeerMirror): Promise<boolean> {
    const storing = mirror.storing;
    if (storing === undefined) return true;
    const error = await storing.done;
    mirror.storing = undefined;
    if (error !== undefined) {
      // A signature of the part did not verify: it is read again and judged in full.
      if (error instanceof SignaturesRefused) mirror.audit.judgeInFull(storing.part);
      await this.retryLater(mirror, error instanceof SignaturesRefused ? 'signatures' : 'store', error);
      return false;
    }
    mirror.audit.confirm();
    await this.partStored(mirror, storing.part, storing.entries, storing.nextOffset, storing.cosigned);
    return true;
  }

  /**
   * Stores what one audit step produced. `nextOffset`: the topic progress after it (topic steps
   * only). A part from the topic is left storing (`settle`).
   */
  private async apply(mirror: PeerMirror, step: AuditStep, nextOffset?: bigint): Promise<void> {
    if (step.kind === 'none') return;
    // The step was judged on top of the part being stored: nothing of it is kept unless that part is.
    if (!(await this.settle(mirror))) return;
    if (step.kind === 'finding') {
      await this.witness.recordFinding(mirror.peer.id, step.finding);
      return;
    }
    if (step.kind === 'transport') {
      // Nothing the peer signed: counted and logged, never signed (DESIGN.md invariant 7). The
      // topic's progress is not moved: an honest part that follows is read and verified as usual.
      this.metrics.transportErrors.inc({ peer: mirror.peer.id, code: step.error.code.slice(0, 40) });
      // A hostile peer can produce one per message: logged once a minute per peer and code.
      const held = this.failures.pass(`${mirror.peer.id}:transport:${step.error.code}`);
      if (held !== undefined)
        this.logger.warn({
          msg: 'transport error: input not covered by a valid seal of the peer',
          peer: mirror.peer.id,
          code: step.error.code,
          part: step.error.part,
          detail: step.error.detail,
          ...(held > 0 ? { repeatedSinceLastLog: held } : {}),
        });
      return;
    }
    const { part } = step;
    const partIndex = part.seal.part.index;
    // The log key the part was verified with (a key transition in it changes the audit's next).
    const logKey = mirror.audit.logKey;
    const record = this.record(mirror.peer.id, part, nextOffset === undefined ? 'catch-up' : 'topic');
    // What is kept about the part — its findings, its cosignature, the part — only once it verified
    // completely, its entries' signatures included (a part from the topic may be answered first).
    const keep = async (): Promise<boolean> => {
      // A peer that showed another witness a different seal for this part equivocated (gossip).
      for (const finding of await this.gossipConflicts(mirror, part, logKey))
        await this.witness.recordFinding(mirror.peer.id, finding);
      // A peer with an open equivocation finding (ours, or a peer's whose proof verified) is no
      // longer cosigned: its seals are still verified and mirrored, as evidence.
      const blocked = await this.findings.hasOpenFinding(mirror.peer.id, 'equivocation');
      const cosigned = blocked ? undefined : this.witness.cosign(mirror.peer.id, partIndex, part.note);
      await this.store.storePart(record, {
        ...(nextOffset === undefined ? {} : { progress: { topic: mirror.topic, nextOffset } }),
        ...(cosigned === undefined ? {} : { cosignature: cosigned.record, outbox: [cosigned.outbox] }),
      });
      return cosigned !== undefined;
    };
    if (nextOffset === undefined) {
      // Parts fetched for a catch-up are judged in full (PeerAudit.verify without deferral).
      if (part.signatures !== undefined)
        throw new Error('a caught-up part was answered before its signatures');
      const cosigned = await keep();
      // Stored (commit point passed): a crash from here on restarts from this head and progress.
      mirror.audit.commit();
      await this.partStored(mirror, partIndex, part.entries.length, undefined, cosigned);
      return;
    }
    mirror.audit.advance();
    const storing: StoringPart = {
      part: partIndex,
      entries: part.entries.length,
      nextOffset,
      cosigned: false,
      done: (part.signatures ?? Promise.resolve()).then(keep).then(
        (cosigned) => {
          storing.cosigned = cosigned;
        },
        (error: unknown) => error ?? new Error('the store of the part failed'),
      ),
    };
    mirror.storing = storing;
    // When no message follows (the topic is quiet), the store is settled on its own.
    void storing.done
      .then(() =>
        this.locked(mirror, async () => {
          if (mirror.storing !== storing) return;
          try {
            await this.settle(mirror);
          } catch (error) {
            await this.retryLater(mirror, 'topic', error);
          }
        }),
      )
      .catch((error: unknown) =>
        this.logger.error({ msg: 'cannot settle a stored part', peer: mirror.peer.id, err: String(error) }),
      );
  }

  /** What follows a part's commit point: the head, the progress, the metrics, the findings it ends. */
  private async partStored(
    mirror: PeerMirror,
    partIndex: number,
    entries: number,
    nextOffset: bigint | undefined,
    cosigned: boolean,
  ): Promise<void> {
    if (nextOffset !== undefined) mirror.progress = nextOffset;
    mirror.retryMs = RETRY_MIN_MS;
    const peer = mirror.peer.id;
    this.metrics.parts.inc({ peer, source: nextOffset === undefined ? 'catch-up' : 'topic' });
    this.metrics.entries.inc({ peer }, entries);
    this.metrics.headPart.set({ peer }, partIndex);
    if (cosigned) this.metrics.cosignaturesGiven.inc({ peer });
    this.observeLag(mirror);
    // The part is stored and is the head: a failure from here on is not the part's. What it ends
    // is ended again by the next part stored (both statements are idempotent), so it is counted
    // and logged, and neither the part nor the topic is retried for it.
    try {
      await this.findings.resolveFindings(peer, 'stale');
      await this.findings.resolveFindings(peer, 'gap', partIndex + 1);
    } catch (error) {
      this.metrics.errors.inc({ peer, stage: 'findings' });
      this.logger.warn({
        msg: 'cannot resolve the findings a stored part ends; the next part tries again',
        peer,
        part: partIndex,
        err: String(error),
      });
    }
    this.logger.debug({ msg: 'part mirrored', peer, part: partIndex, entries });
  }

  private async gossipConflicts(mirror: PeerMirror, part: VerifiedPart, logKey: VerifierKey) {
    const findings = [];
    for (const other of this.witness.context.peers) {
      if (other.id === mirror.peer.id) continue;
      const seen = await this.cosignatures.cosignature(mirror.peer.id, part.seal.part.index, other.id);
      if (seen === undefined || parseNote(seen.seal).text === parseNote(part.note).text) continue;
      const compared = compareSeals(mirror.peer, logKey, ED25519, part.seal.part.index, part.note, seen.seal);
      if (compared.kind === 'finding') findings.push(compared.finding);
    }
    return findings;
  }

  private record(peer: string, part: VerifiedPart, source: 'topic' | 'catch-up'): MirrorPartRecord {
    // `signatures` has resolved (or was never there) when a record is stored: not part of it.
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { seal, signatures, ...verified } = part;
    return {
      ...verified,
      peer,
      part: seal.part.index,
      first: seal.part.first,
      size: seal.size,
      partDigest: seal.part.digest,
      chain: seal.chain,
      root: seal.root,
      timeMs: seal.timeMs,
      source,
    };
  }

  /**
   * Reloads a peer's head and progress from the database and seeks its topic there. A store still in
   * flight is waited for first (a part it stored is counted as stored); the database then holds its
   * outcome.
   */
  private async resync(mirror: PeerMirror): Promise<void> {
    const storing = mirror.storing;
    mirror.storing = undefined;
    const stored = storing === undefined ? undefined : await storing.done;
    if (storing !== undefined && stored instanceof SignaturesRefused) {
      // Found while retrying for something else: counted as what it is, and judged in full.
      this.metrics.errors.inc({ peer: mirror.peer.id, stage: 'signatures' });
      this.logger.error({ msg: 'a part had a signature refused', peer: mirror.peer.id, err: String(stored) });
      mirror.audit.judgeInFull(storing.part);
    }
    if (storing !== undefined && stored === undefined) {
      mirror.audit.confirm();
      await this.partStored(
        mirror,
        storing.part,
        storing.entries,
        storing.nextOffset,
        storing.cosigned,
      ).catch((error: unknown) =>
        this.logger.warn({
          msg: 'a stored part left its findings open',
          peer: mirror.peer.id,
          err: String(error),
        }),
      );
    }
    try {
      mirror.audit.reset(await this.store.head(mirror.peer.id));
      mirror.progress = await this.store.progress(mirror.topic);
    } catch (error) {
      mirror.audit.reset(mirror.audit.head);
      this.logger.warn({ msg: 'cannot reload the mirror head', peer: mirror.peer.id, err: String(error) });
    }
    this.seekToProgress(mirror);
  }

  private async periodic(): Promise<void> {
    for (const mirror of this.mirrors.values()) {
      if (this.stopping) return;
      // Judged on the stored head, once a part being stored is settled.
      await this.locked(mirror, async () => {
        if (await this.settle(mirror)) await this.checkStale(mirror);
      }).catch((error: unknown) => {
        this.metrics.errors.inc({ peer: mirror.peer.id, stage: 'stale' });
        this.logger.warn({ msg: 'stale check failed', peer: mirror.peer.id, err: String(error) });
      });
      await this.catchUpIfIdle(mirror);
    }
    // A peer's claim that this portal is stale is recorded open while this portal has sealed
    // nothing newer (the witness intake); it ends once this portal has, as a stored part ends a
    // peer's stale finding here. Nothing else would end it: this portal does not mirror itself.
    await this.findings.resolveOwnStale(this.witness.context.portalId).catch((error: unknown) => {
      this.metrics.errors.inc({ peer: this.witness.context.portalId, stage: 'findings' });
      this.logger.warn({ msg: 'cannot resolve the stale claims about this portal', err: String(error) });
    });
  }

  /**
   * A peer is stale when nothing it sealed in the last STALE_AFTER_MS reached this portal — neither
   * through the mirror nor on its query service. A mirror that is merely behind (this service was
   * down, the broker was) is not the peer's fault: it is judged only after STALE_AFTER_MS of this
   * service's own uptime, and not while the peer's query service shows a fresh seal.
   */
  private async checkStale(mirror: PeerMirror): Promise<void> {
    const head = mirror.audit.head;
    if (head === undefined) return;
    const now = this.clock.now();
    const age = now - head.timeMs;
    this.observeLag(mirror);
    const limit = this.options.staleAfterMs;
    if (age <= limit || now - this.startedAt <= limit) return;
    if (mirror.peerSealTimeMs !== undefined && now - mirror.peerSealTimeMs <= limit) return;
    await this.witness.recordFinding(mirror.peer.id, {
      kind: 'stale',
      code: 'mirror.stale',
      part: head.part,
      detail: `${mirror.peer.id} sealed nothing new after part ${head.part} for ${age} ms (limit ${limit} ms)`,
      evidence: { part: head.part, timeMs: head.timeMs, staleAfterMs: limit },
    });
  }

  /**
   * Catch-up (docs/design/federation.md): when a peer's head did not move since the last check,
   * asks its query service for its checkpoint and fetches, verifies and stores the parts the mirror
   * lacks. A peer that is down is simply tried again at the next check.
   */
  private async catchUpIfIdle(mirror: PeerMirror): Promise<void> {
    const head = mirror.audit.head?.part ?? -1;
    if (head !== mirror.checkedHead) {
      mirror.checkedHead = head;
      await this.samplePeerHead(mirror);
      return;
    }
    try {
      const stored = await this.catchUp(mirror);
      if (stored > 0)
        this.logger.log({ msg: 'caught up from the query service', peer: mirror.peer.id, parts: stored });
      this.failures.clear(`${mirror.peer.id}:catch-up`);
    } catch (error) {
      this.metrics.errors.inc({ peer: mirror.peer.id, stage: 'catch-up' });
      this.warnFailure(mirror, 'catch-up', 'catch-up from the query service failed', error);
    }
    mirror.checkedHead = mirror.audit.head?.part ?? -1;
  }

  /**
   * Fetches, verifies and stores every part between the mirror's head and the peer's checkpoint,
   * one part per hold of the peer's lock (the topic consumer interleaves); resolves to how many.
   */
  async catchUp(mirror: PeerMirror): Promise<number> {
    const text = await mirror.query.checkpoint();
    if (text === undefined) return 0;
    const seal = this.peerCheckpoint(mirror, text);
    if (seal === undefined) return this.catchUpToEnd(mirror);
    mirror.peerSealTimeMs = seal.timeMs;
    mirror.peerSize = seal.size;
    this.observeLag(mirror);
    let stored = 0;
    let reported = this.clock.now();
    for (let more = true; more && !this.stopping;) {
      await this.locked(mirror, async () => {
        if (!(await this.settle(mirror))) {
          more = false;
          return;
        }
        const head = mirror.audit.head;
        const next = (head?.part ?? -1) + 1;
        if (seal.part.index < next) {
          // Nothing to fetch; a checkpoint for a part mirrored here must be the mirrored seal.
          const compared = mirror.audit.compareSeal(
            seal.part.index,
            text,
            await this.store.sealNote(mirror.peer.id, seal.part.index),
          );
          await this.apply(mirror, compared);
          more = false;
          return;
        }
        const part = await mirror.query.part(next);
        const refused = this.describedBySeal(mirror, next, part);
        if (refused !== undefined) {
          await this.apply(mirror, refused);
          more = false;
          return;
        }
        const entries = await mirror.query.entries(part.first, part.size);
        const step = await mirror.audit.verify(entries, part.seal);
        await this.apply(mirror, step);
        if (step.kind !== 'part') {
          more = false;
          return;
        }
        stored++;
        // Long catch-ups (a peer that joined late, a long outage) show their progress.
        if (this.clock.now() - reported >= 5_000) {
          reported = this.clock.now();
          this.logger.log({
            msg: 'catching up from the query service',
            peer: mirror.peer.id,
            part: next,
            of: seal.part.index,
            entries: part.size,
          });
        }
        this.resumeTopic(mirror);
      });
    }
    return stored;
  }

  /**
   * The peer's checkpoint, opened with the key the audit expects for its next seal. Undefined when
   * it does not open with it: a key transition the mirror has not reached yet names the key that
   * signs it (docs/design/log-format.md "Key transitions") — the mirror then follows the peer part
   * by part (`catchUpToEnd`); any other failure throws, as before.
   */
  private peerCheckpoint(mirror: PeerMirror, text: string): Seal | undefined {
    try {
      return openSeal(text, mirror.audit.logKey, ED25519, mirror.peer.origin).seal;
    } catch (error) {
      if (isLogError(error) && (error.code === 'note.unknown-key' || error.code === 'note.bad-signature'))
        return undefined;
      throw error;
    }
  }

  /**
   * Catch-up without a checkpoint to aim at (its key is one the audit has not verified yet): the next
   * parts are fetched and verified one by one until the query service has none, or one fails.
   */
  private async catchUpToEnd(mirror: PeerMirror): Promise<number> {
    let stored = 0;
    for (let more = true; more && !this.stopping;) {
      await this.locked(mirror, async () => {
        if (!(await this.settle(mirror))) {
          more = false;
          return;
        }
        const next = (mirror.audit.head?.part ?? -1) + 1;
        let part;
        try {
          part = await mirror.query.part(next);
        } catch {
          more = false; // none yet (or unreachable): the topic and the next catch-up go on
          return;
        }
        const refused = this.describedBySeal(mirror, next, part);
        const step =
          refused ??
          (await mirror.audit.verify(await mirror.query.entries(part.first, part.size), part.seal));
        await this.apply(mirror, step);
        if (step.kind !== 'part') {
          more = false;
          return;
        }
        stored++;
        this.resumeTopic(mirror);
      });
    }
    return stored;
  }

  /**
   * After parts were stored from the query service: the topic's part in progress, if any, is read
   * again from the stored progress — its messages of parts stored meanwhile are only compared with
   * the stored seals.
   */
  private resumeTopic(mirror: PeerMirror): void {
    mirror.audit.reset(mirror.audit.head);
    this.seekToProgress(mirror);
  }

  /**
   * Before any entry of part `next` is fetched, its description must be what its seal signs: the
   * seal opens with the peer's log key and origin, and its part index, first entry and size are the
   * described ones, within PEER_PART_MAX_ENTRIES. Anything else (a peer's query service answering
   * `size: 9e15`, a man in the middle) is a transport error: counted, logged, nothing fetched.
   */
  private describedBySeal(
    mirror: PeerMirror,
    next: number,
    part: { part: number; first: number; size: number; seal: string },
  ): AuditStep | undefined {
    const refuse = (code: string, detail: string): AuditStep => ({
      kind: 'transport',
      error: { code, part: next, detail: `catch-up of part ${next} from ${mirror.peer.queryUrl}: ${detail}` },
    });
    let seal: Seal;
    try {
      // Any key the peer has sealed with: a seal by a retired key is the audit's finding to report.
      seal = openWithAny(part.seal, mirror.audit.knownKeys, mirror.peer.origin);
    } catch (error) {
      if (!isLogError(error)) throw error;
      return refuse('catch-up.seal', `its seal does not open with the peer's key: ${error.message}`);
    }
    if (
      part.part !== next ||
      seal.part.index !== next ||
      seal.part.first !== part.first ||
      seal.size !== part.size
    )
      return refuse(
        'catch-up.description',
        `described as part ${part.part} [${part.first}, ${part.size}), its seal signs part ${seal.part.index} [${seal.part.first}, ${seal.size})`,
      );
    const entries = seal.size - seal.part.first;
    if (entries > this.options.partLimits.maxEntries)
      return refuse(
        'catch-up.too-large',
        `its seal covers ${entries} entries, above PEER_PART_MAX_ENTRIES ${this.options.partLimits.maxEntries}`,
      );
    return undefined;
  }

  /**
   * While the mirror moves (no catch-up runs), reads the peer's checkpoint anyway so that the lag in
   * entries reflects how far the peer is, not only how far the topic brought it. The checkpoint's
   * signature is checked before its size is believed; a failure leaves the last sample.
   */
  private async samplePeerHead(mirror: PeerMirror): Promise<void> {
    try {
      const text = await mirror.query.checkpoint();
      if (text === undefined) return;
      const seal = this.peerCheckpoint(mirror, text);
      if (seal === undefined) return;
      mirror.peerSealTimeMs = seal.timeMs;
      mirror.peerSize = seal.size;
      this.observeLag(mirror);
      this.failures.clear(`${mirror.peer.id}:lag`);
    } catch (error) {
      this.metrics.errors.inc({ peer: mirror.peer.id, stage: 'lag' });
      this.warnFailure(mirror, 'lag', "cannot read the peer's checkpoint for its lag", error);
    }
  }

  /** A recurring failure, at warn with its cause, at most once a minute per peer and stage. */
  private warnFailure(mirror: PeerMirror, stage: string, msg: string, error: unknown): void {
    const held = this.failures.pass(`${mirror.peer.id}:${stage}`);
    if (held === undefined) return;
    this.logger.warn({
      msg,
      peer: mirror.peer.id,
      queryUrl: mirror.peer.queryUrl,
      err: error instanceof Error ? error.message : String(error),
      ...(held > 0 ? { repeatedSinceLastLog: held } : {}),
    });
  }

  /**
   * Replication lag of one peer (docs/design/observability.md): in seconds, the age of the newest
   * mirrored seal; in entries, the peer's log size by its newest known seal minus the mirrored size.
   */
  private observeLag(mirror: PeerMirror): void {
    const head = mirror.audit.head;
    const peer = mirror.peer.id;
    const mirrored = head?.size ?? 0;
    this.metrics.lagEntries.set({ peer }, Math.max(0, (mirror.peerSize ?? mirrored) - mirrored));
    if (head !== undefined)
      this.metrics.lagSeconds.set({ peer }, Math.max(0, this.clock.now() - head.timeMs) / 1000);
  }

  /** Each peer topic's partition and the offset the mirror reads next (undefined: from the beginning). */
  topicPositions(): Array<{ topic: string; partition: number; offset: bigint | undefined }> {
    return [...this.mirrors.values()].map((m) => ({ topic: m.topic, partition: 0, offset: m.progress }));
  }

  private locked(mirror: PeerMirror, work: () => Promise<void>): Promise<void> {
    const next = mirror.lock.then(work, work);
    mirror.lock = next.catch(() => undefined);
    return next;
  }
}

/** Opens a seal with the first of `keys` that signed it; throws the first key's error otherwise. */
function openWithAny(note: string, keys: readonly VerifierKey[], origin: string): Seal {
  let first: unknown;
  for (const key of keys) {
    try {
      return openSeal(note, key, ED25519, origin).seal;
    } catch (error) {
      first ??= error;
    }
  }
  throw first;
}
