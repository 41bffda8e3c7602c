import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { Kafka, type Producer } from 'kafkajs';
import {
  KafkaLogProducer,
  PartEncoder,
  ensureTopics,
  logProducerConfig,
  logTopic,
  type LogRecord,
  type OutboxPart,
  type PublicationOutbox,
  type PublishOutcome,
} from '@cryptomesh/intermesh';
import { HealthRegistry, RetryLoop } from '@cryptomesh/service';
import { ESCROW_PUBLICATION, type EscrowPublication } from './escrow-publication';
import { INBOUND_PUBLICATION, type InboundPublication } from './inbound-publication';
import { LogPublisherMetrics } from './log-publisher.metrics';

export const PUBLICATION_OUTBOX = Symbol('PUBLICATION_OUTBOX');
export const LOG_PUBLISHER_OPTIONS = Symbol('LOG_PUBLISHER_OPTIONS');
export const LOG_PUBLISHER_KAFKA = Symbol('LOG_PUBLISHER_KAFKA');

export interface LogPublisherOptions {
  readonly portalId: string;
  readonly pollMs: number;
  readonly retryMaxMs: number;
  readonly maxMessageBytes: number;
}

/**
 * Publishes this portal's sealed parts, in part order, to `intermesh.log.<PORTAL_ID>`
 * (docs/design/replication.md "Publishing"): the outbox hands out the part at its cursor under a
 * row lock, this service produces the part's messages (entries, then the seal) with the idempotent
 * producer, and the outbox advances the cursor in the same transaction. A broker outage makes a
 * produce fail: the transaction rolls back, the part stays at the cursor and is retried with
 * exponential backoff (PUBLISH_RETRY_MAX_MS at most); `/health` reports `log-publication` down
 * meanwhile. Fields below are owned by the loop; the health check and shutdown only read them.
 */
@Injectable()
export class LogPublisherService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('log-publisher');
  private readonly topic: string;
  private producer: Producer | undefined;
  /** True once the topic exists and `producer` connected; reset after a failure. */
  private ready = false;
  private readonly loop: RetryLoop;

  constructor(
    @Inject(PUBLICATION_OUTBOX) private readonly outbox: PublicationOutbox,
    @Inject(LOG_PUBLISHER_KAFKA) private readonly kafka: Kafka,
    @Inject(LOG_PUBLISHER_OPTIONS) private readonly options: LogPublisherOptions,
    private readonly metrics: LogPublisherMetrics,
    private readonly health: HealthRegistry,
    @Optional() @Inject(ESCROW_PUBLICATION) private readonly escrows?: EscrowPublication,
    @Optional() @Inject(INBOUND_PUBLICATION) private readonly inbound?: InboundPublication,
  ) {
    this.topic = logTopic(options.portalId);
    this.loop = new RetryLoop({
      pollMs: options.pollMs,
      retryMaxMs: options.retryMaxMs,
      step: () => this.step(),
      onFailure: (error, retryMs) => this.onFailure(error, retryMs),
    });
  }

  onApplicationBootstrap(): void {
    this.health.register('log-publication', this.loop.healthCheck);
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    await this.producer?.disconnect().catch(() => undefined);
  }

  private async onFailure(error: unknown, retryMs: number): Promise<void> {
    this.logger.warn({
      msg: 'publication failed; retrying',
      topic: this.topic,
      retryMs,
      err: error instanceof Error ? error.message : String(error),
    });
    // A fresh producer (and producer id) after a failure, so that no idempotence sequence state of
    // a half-failed send carries over; the part is produced again from its start.
    const producer = this.producer;
    this.producer = undefined;
    this.ready = false;
    await producer?.disconnect().catch(() => undefined);
  }

  /**
   * One part at most, then (between parts) one batch of escrow blobs and one of inbound items whose
   * entries are published; true when something was published (more may be waiting).
   */
  private async step(): Promise<boolean> {
    const producer = await this.connect();
    const sink = new KafkaLogProducer(producer, this.topic, this.options.maxMessageBytes);
    let sent = { messages: 0, bytes: 0 };
    // The common case between two seals, no part to publish, costs one read and no lock: the
    // cursor's lock (FOR UPDATE) is a WAL record, so a poll that took it committed with a flush.
    const status = await this.outbox.status(this.topic);
    this.metrics.lag.set(Math.max(0, status.sealedParts - status.nextPart));
    const outcome: PublishOutcome =
      status.nextPart < status.sealedParts
        ? await this.outbox.publishNext(this.topic, async (part) => {
            sent = await sink.publish(this.records(part));
          })
        : { kind: 'idle' };
    const escrows = (await this.escrows?.publish(producer, this.topic)) ?? 0;
    if (escrows > 0) this.logger.debug({ msg: 'escrow blobs published', topic: this.topic, escrows });
    // After the part: an item waiting for that very part goes out in the same step.
    const inbound = (await this.inbound?.publish(producer, this.topic)) ?? 0;
    if (inbound > 0) this.logger.debug({ msg: 'inbound items published', topic: this.topic, inbound });
    if (outcome.kind !== 'published') return escrows > 0 || inbound > 0;
    // As of the read above; the next step, which follows at once, reads it again.
    this.metrics.lag.set(Math.max(0, status.sealedParts - outcome.seal.part - 1));
    this.metrics.parts.inc();
    this.metrics.messages.inc(sent.messages);
    this.metrics.bytes.inc(sent.bytes);
    this.metrics.lastPart.set(outcome.seal.part);
    this.logger.debug({ msg: 'part published', topic: this.topic, part: outcome.seal.part, ...sent });
    return true;
  }

  private async *records(part: OutboxPart): AsyncGenerator<LogRecord> {
    const encoder = new PartEncoder(this.options.portalId, part.seal, this.options.maxMessageBytes);
    for await (const entry of part.entries) yield* encoder.add(entry);
    yield* encoder.finish();
  }

  /** Creates the topic (1 partition: total order) and connects the producer, once. */
  private async connect(): Promise<Producer> {
    if (this.producer !== undefined && this.ready) return this.producer;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [{ topic: this.topic, numPartitions: 1 }]);
    } finally {
      await admin.disconnect();
    }
    this.producer ??= this.kafka.producer(logProducerConfig);
    await this.producer.connect();
    this.ready = true;
    return this.producer;
  }
}
