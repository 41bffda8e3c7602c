import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { Kafka, type Producer } from 'kafkajs';
import { WITNESS_TOPIC, logProducerConfig } from '@cryptomesh/intermesh';
import { TypeOrmWitnessOutbox } from '@cryptomesh/persistence';
import { HealthRegistry, RetryLoop } from '@cryptomesh/service';
import { FederationMetrics } from './federation.metrics';

export const WITNESS_PUBLISHER_OPTIONS = Symbol('WITNESS_PUBLISHER_OPTIONS');
export const WITNESS_KAFKA = Symbol('WITNESS_KAFKA');

const BATCH = 100;
const RETRY_MAX_MS = 10_000;

/**
 * Produces the witness outbox (cosignatures given, findings) to `intermesh.witness`, oldest first,
 * with the idempotent acks=all producer; rows are deleted in the transaction that held them while
 * they were produced, so a crash or a broker outage produces them again later — never loses one.
 * Receivers store a cosignature or a finding once, so a copy changes nothing.
 */
@Injectable()
export class WitnessPublisherService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('witness-publisher');
  private producer: Producer | undefined;
  private readonly loop: RetryLoop;

  constructor(
    private readonly outbox: TypeOrmWitnessOutbox,
    @Inject(WITNESS_KAFKA) private readonly kafka: Kafka,
    @Inject(WITNESS_PUBLISHER_OPTIONS) private readonly options: { pollMs: number },
    private readonly metrics: FederationMetrics,
    private readonly health: HealthRegistry,
  ) {
    this.loop = new RetryLoop({
      pollMs: options.pollMs,
      retryMaxMs: RETRY_MAX_MS,
      step: async () => {
        const published = await this.outbox.publishBatch(BATCH, (messages) => this.send(messages));
        this.metrics.witnessPublished.inc(published);
        return published === BATCH;
      },
      onFailure: async (error, retryMs) => {
        this.logger.warn({ msg: 'witness publication failed; retrying', retryMs, err: String(error) });
        const producer = this.producer;
        this.producer = undefined;
        await producer?.disconnect().catch(() => undefined);
      },
    });
  }

  onApplicationBootstrap(): void {
    this.health.register('witness-publication', this.loop.healthCheck);
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    await this.producer?.disconnect().catch(() => undefined);
  }

  private async send(messages: readonly { key: string; type: string; value: Uint8Array }[]): Promise<void> {
    if (this.producer === undefined) {
      const producer = this.kafka.producer(logProducerConfig);
      await producer.connect();
      this.producer = producer;
    }
    await this.producer.send({
      topic: WITNESS_TOPIC,
      acks: -1,
      messages: messages.map((m) => ({
        key: m.key,
        value: Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength),
        headers: { type: m.type },
      })),
    });
  }
}
