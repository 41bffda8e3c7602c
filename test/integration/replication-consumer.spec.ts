import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { WITNESS_TOPIC, kafkaClientConfig } from '@cryptomesh/intermesh';
import { createService, RunningService } from '@cryptomesh/service';
import { replicationApp } from '../../apps/replication/src/replication.app';
import { createTestDatabase, TestDatabase, testKafkaBrokers } from '../env/test-database';

/**
 * One message through the whole path: kafkajs producer → broker → the replication service's
 * Nest microservice transport → its @EventPattern handler → its Prometheus counter → GET /metrics.
 */
describe('replication service consumes intermesh.witness with an @EventPattern handler', () => {
  let db: TestDatabase;
  let service: RunningService;
  const brokers = testKafkaBrokers();

  beforeAll(async () => {
    db = await createTestDatabase('replication');
    service = await createService(replicationApp, {
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokers.join(','),
      // A group of its own, so an earlier run's committed offsets never hide this run's messages.
      KAFKA_GROUP_ID: `replication-spec-${randomBytes(4).toString('hex')}`,
      KAFKA_CLIENT_ID: 'replication-spec',
    });
  }, 60_000);

  afterAll(async () => {
    await service?.app.close();
    await db?.drop();
  });

  async function witnessCount(type: string, outcome: string): Promise<number> {
    const res = await fetch(`${service.url}/metrics`);
    const text = await res.text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`intermesh_witness_messages_total{type="${type}",outcome="${outcome}",`));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  async function eventually(predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await predicate())) {
      if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('is healthy with both the database and Kafka checks up', async () => {
    const res = await fetch(`${service.url}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { checks: Record<string, { status: string }> };
    expect(body.checks.database?.status).toBe('up');
    expect(body.checks.kafka?.status).toBe('up');
  });

  it('handles each published message once, classifying what it cannot trust', async () => {
    // The topic is shared by every test of the run (and, with an external broker, earlier runs):
    // wait until this new group has consumed what was there, and count from there.
    const counted = async () =>
      [
        await witnessCount('cosignature', 'unknown-portal'),
        await witnessCount('cosignature', 'malformed'),
        await witnessCount('finding', 'malformed'),
      ].join(',');
    let baseline = await counted();
    for (let still = 0; still < 6;) {
      await new Promise((r) => setTimeout(r, 500));
      const now = await counted();
      still = now === baseline ? still + 1 : 0;
      baseline = now;
    }
    const [unknown, badCosignature, badFinding] = baseline.split(',').map(Number) as [number, number, number];
    const kafka = new Kafka({
      ...kafkaClientConfig({ brokers, clientId: 'witness-producer' }),
      logLevel: logLevel.ERROR,
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await producer.send({
        topic: WITNESS_TOPIC,
        acks: -1,
        messages: [
          // Well-formed, but from a witness this portal does not know: verified against nothing, stored nowhere.
          {
            key: 'alpha',
            value: JSON.stringify({
              v: 1,
              type: 'cosignature',
              subject: 'alpha',
              witness: 'beta',
              part: 0,
              seal: 'alpha.test/log\n1\nAAAA\n\n— alpha.test/log AAAA\n',
              cosignature: `— beta.test/witness ${Buffer.alloc(76).toString('base64')}`,
            }),
            headers: { type: 'cosignature' },
          },
          { key: 'alpha', value: '{not json', headers: { type: 'cosignature' } },
          {
            key: 'beta',
            value: JSON.stringify({ type: 'finding', portal: 'beta' }),
            headers: { type: 'finding' },
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    await eventually(
      async () =>
        (await witnessCount('cosignature', 'unknown-portal')) === unknown + 1 &&
        (await witnessCount('cosignature', 'malformed')) === badCosignature + 1 &&
        (await witnessCount('finding', 'malformed')) === badFinding + 1,
      45_000,
    ).catch(async (error: unknown) => {
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      throw new Error(
        `${String(error)}:\n${metrics
          .split('\n')
          .filter((l) => l.includes('witness'))
          .join('\n')}`,
      );
    });
  }, 60_000);
});
