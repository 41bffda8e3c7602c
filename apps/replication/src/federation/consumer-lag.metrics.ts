import type { OnApplicationShutdown } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import { Gauge } from 'prom-client';
import type { MetricsService } from '@cryptomesh/service';

/** Where a consumer stands in one topic partition: the offset it reads next (undefined: from the start). */
export interface ConsumerPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint | undefined;
}

/**
 * One consumer whose lag is measured. `positions` gives its own positions (the mirror keeps them in
 * the database, not in the group); without it the group's committed offsets in `topics` are used.
 */
export interface LaggingConsumer {
  readonly group: string;
  readonly topics?: readonly string[];
  readonly positions?: () => readonly ConsumerPosition[];
}

/** A scrape waits this long for the broker at most; a slower sample keeps the previous values. */
const SAMPLE_TIMEOUT_MS = 2_000;

/**
 * `kafka_consumer_lag_messages{group,topic,partition}`: the partition's high watermark minus the
 * consumer's position, sampled at each scrape through one admin connection kept open between
 * scrapes. A broker that does not answer within SAMPLE_TIMEOUT_MS leaves the previous values (the
 * `kafka` readiness check says why); the lag of a partition never read counts from its low watermark.
 */
export class ConsumerLagMetrics implements OnApplicationShutdown {
  private admin: Admin | undefined;
  private sampling: Promise<void> | undefined;

  constructor(
    metrics: MetricsService,
    private readonly kafka: Kafka,
    private readonly consumers: readonly LaggingConsumer[],
  ) {
    const sample = () => this.sampleOnce();
    new Gauge({
      name: 'kafka_consumer_lag_messages',
      help: 'Messages in each topic partition that the consumer group has not processed yet (high watermark − position)',
      labelNames: ['group', 'topic', 'partition'],
      registers: [metrics.registry],
      async collect() {
        await sample().then(
          (lags) =>
            lags.forEach((l) => this.set({ group: l.group, topic: l.topic, partition: l.partition }, l.lag)),
          () => undefined,
        );
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }

  /** One sample at a time; rejects after SAMPLE_TIMEOUT_MS (the sample in flight then finishes alone). */
  private sampleOnce(): Promise<Array<{ group: string; topic: string; partition: string; lag: number }>> {
    const lags: Array<{ group: string; topic: string; partition: string; lag: number }> = [];
    const running = (this.sampling ??= this.sample(lags).finally(() => (this.sampling = undefined)));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('consumer lag sample timed out')), SAMPLE_TIMEOUT_MS);
    });
    return Promise.race([running.then(() => lags), timeout]).finally(() => clearTimeout(timer));
  }

  private async sample(
    out: Array<{ group: string; topic: string; partition: string; lag: number }>,
  ): Promise<void> {
    try {
      if (this.admin === undefined) {
        const admin = this.kafka.admin({ retry: { retries: 1 } });
        await admin.connect();
        this.admin = admin;
      }
      const admin = this.admin;
      for (const consumer of this.consumers) {
        const positions = consumer.positions?.() ?? (await committed(admin, consumer));
        for (const topic of new Set(positions.map((p) => p.topic))) {
          for (const watermark of await admin.fetchTopicOffsets(topic)) {
            const low = BigInt(watermark.low);
            const position = positions.find((p) => p.topic === topic && p.partition === watermark.partition);
            const next = position?.offset === undefined || position.offset < low ? low : position.offset;
            const lag = BigInt(watermark.high) - next;
            out.push({
              group: consumer.group,
              topic,
              partition: String(watermark.partition),
              lag: Number(lag > 0n ? lag : 0n),
            });
          }
        }
      }
    } catch (error) {
      const admin = this.admin;
      this.admin = undefined;
      await admin?.disconnect().catch(() => undefined);
      throw error;
    }
  }
}

/** The group's committed offsets in the consumer's topics (-1, nothing committed, reads as undefined). */
async function committed(admin: Admin, consumer: LaggingConsumer): Promise<ConsumerPosition[]> {
  const topics = [...(consumer.topics ?? [])];
  if (topics.length === 0) return [];
  const offsets = await admin.fetchOffsets({ groupId: consumer.group, topics });
  return offsets.flatMap((t) =>
    t.partitions.map((p) => ({
      topic: t.topic,
      partition: p.partition,
      offset: BigInt(p.offset) < 0n ? undefined : BigInt(p.offset),
    })),
  );
}
