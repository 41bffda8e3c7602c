import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics, kafkaClientConfig } from '@cryptomesh/intermesh';
import { testKafkaBrokers } from '../env/test-database';

describe('Kafka through kafkajs (real broker)', () => {
  const kafka = new Kafka({
    ...kafkaClientConfig({ brokers: testKafkaBrokers(), clientId: 'kafka-spec' }),
    logLevel: logLevel.ERROR,
  });
  const admin = kafka.admin();

  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());

  it('creates topics idempotently', async () => {
    const topic = `test.ensure.${randomBytes(4).toString('hex')}`;
    await ensureTopics(admin, [{ topic, numPartitions: 2 }]);
    await ensureTopics(admin, [{ topic, numPartitions: 2 }]);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(2);
  });

  it('delivers messages from an idempotent acks=all producer to a consumer, in order', async () => {
    const topic = `test.roundtrip.${randomBytes(4).toString('hex')}`;
    await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    const sent = ['first', 'second', 'third'];
    try {
      await producer.send({ topic, acks: -1, messages: sent.map((value, i) => ({ key: `k${i}`, value })) });
    } finally {
      await producer.disconnect();
    }

    const consumer = kafka.consumer({ groupId: `test-${randomBytes(4).toString('hex')}` });
    await consumer.connect();
    const received: Array<{ key: string; value: string; offset: string }> = [];
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`received only ${received.length} of 3`)), 30_000);
        void consumer.run({
          eachMessage: ({ message }) => {
            received.push({
              key: message.key?.toString() ?? '',
              value: message.value?.toString() ?? '',
              offset: message.offset,
            });
            if (received.length === sent.length) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    expect(received).toEqual([
      { key: 'k0', value: 'first', offset: '0' },
      { key: 'k1', value: 'second', offset: '1' },
      { key: 'k2', value: 'third', offset: '2' },
    ]);
  });

  it('does not create topics implicitly (the broker runs with auto-creation off)', async () => {
    const topic = `test.absent.${randomBytes(4).toString('hex')}`;
    const quiet = new Kafka({
      ...kafkaClientConfig({ brokers: testKafkaBrokers(), clientId: 'kafka-spec' }),
      logLevel: logLevel.NOTHING,
    });
    const producer = quiet.producer({ allowAutoTopicCreation: true, retry: { retries: 1 } });
    await producer.connect();
    try {
      await expect(producer.send({ topic, messages: [{ value: 'x' }] })).rejects.toThrow();
    } finally {
      await producer.disconnect();
    }
    expect(await admin.listTopics()).not.toContain(topic);
  });
});
