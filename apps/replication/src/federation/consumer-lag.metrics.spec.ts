import type { Kafka } from 'kafkajs';
import { MetricsService } from '@cryptomesh/service';
import { ConsumerLagMetrics } from './consumer-lag.metrics';

/** A broker's answers, as kafkajs's admin gives them. */
function fakeKafka(
  watermarks: Record<string, Array<{ partition: number; low: string; high: string }>>,
  committed: Record<string, Array<{ partition: number; offset: string }>>,
): Kafka {
  const admin = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    fetchTopicOffsets: (topic: string) =>
      Promise.resolve(watermarks[topic]!.map((w) => ({ ...w, offset: w.high }))),
    fetchOffsets: ({ topics }: { topics: string[] }) =>
      Promise.resolve(topics.map((topic) => ({ topic, partitions: committed[topic]! }))),
  };
  return { admin: () => admin } as unknown as Kafka;
}

async function lags(metrics: MetricsService): Promise<Record<string, number>> {
  const metric = await metrics.registry.getSingleMetric('kafka_consumer_lag_messages')!.get();
  return Object.fromEntries(
    metric.values.map((v) => [`${v.labels.group}/${v.labels.topic}/${v.labels.partition}`, v.value]),
  );
}

describe('ConsumerLagMetrics', () => {
  it('is the high watermark minus the position: own positions, or the group’s committed offsets', async () => {
    const metrics = new MetricsService({ name: 'replication', version: 'test' });
    const kafka = fakeKafka(
      {
        'intermesh.log.beta': [{ partition: 0, low: '0', high: '12' }],
        'intermesh.log.gamma': [{ partition: 0, low: '5', high: '9' }],
        'intermesh.witness': [
          { partition: 0, low: '0', high: '7' },
          { partition: 1, low: '3', high: '10' },
        ],
      },
      {
        'intermesh.witness': [
          { partition: 0, offset: '7' },
          { partition: 1, offset: '-1' },
        ],
      },
    );
    new ConsumerLagMetrics(metrics, kafka, [
      { group: 'g', topics: ['intermesh.witness'] },
      {
        group: 'g-mirror',
        positions: () => [
          { topic: 'intermesh.log.beta', partition: 0, offset: 10n },
          // Never read, and the topic's start was deleted: counted from the low watermark.
          { topic: 'intermesh.log.gamma', partition: 0, offset: undefined },
        ],
      },
    ]);
    expect(await lags(metrics)).toEqual({
      'g/intermesh.witness/0': 0,
      'g/intermesh.witness/1': 7, // nothing committed: from the low watermark
      'g-mirror/intermesh.log.beta/0': 2,
      'g-mirror/intermesh.log.gamma/0': 4,
    });
  });

  it('keeps the previous values when the broker fails', async () => {
    const metrics = new MetricsService({ name: 'replication', version: 'test' });
    let fail = false;
    const kafka = fakeKafka({ t: [{ partition: 0, low: '0', high: '3' }] }, {});
    const admin = kafka.admin();
    const fetch = admin.fetchTopicOffsets.bind(admin);
    admin.fetchTopicOffsets = (topic: string) => (fail ? Promise.reject(new Error('down')) : fetch(topic));
    new ConsumerLagMetrics(metrics, kafka, [
      { group: 'g', positions: () => [{ topic: 't', partition: 0, offset: 1n }] },
    ]);
    expect(await lags(metrics)).toEqual({ 'g/t/0': 2 });
    fail = true;
    expect(await lags(metrics)).toEqual({ 'g/t/0': 2 });
  });
});
