import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  LOG_MESSAGE_TYPE_HEADER,
  PartAssembler,
  decodeLogMessage,
  kafkaClientConfig,
  logTopic,
  type AssembledPart,
} from '@cryptomesh/intermesh';
import { encodeEntry, parseVerifierKey, verifyLog } from '@cryptomesh/log';
import { dataSourceOptions, enqueueEntry } from '@cryptomesh/persistence';
import { createService, type RunningService } from '@cryptomesh/service';
import { logSignerApp } from '../../apps/log-signer/src/log-signer.app';
import { replicationApp } from '../../apps/replication/src/replication.app';
import { enqueueAll, eventually, testEntry, testLogKey } from '../../apps/log-signer/test/log-fixture';
import { createTestDatabase, testKafkaBrokers, type TestDatabase } from '../env/test-database';

/**
 * Issue #6, publishing: the log-signer seals parts from queued entries, the replication service
 * publishes them from its outbox, and a plain kafkajs consumer that trusts nothing rebuilds every
 * part with the PartAssembler and verifies the whole log with the verifier key alone — across a
 * restart of the publisher that replays a part, and with a part too large for one message.
 */
describe('replication publishes the sealed log to intermesh.log.<portal>', () => {
  const brokers = testKafkaBrokers();
  const portal = `pub-${randomBytes(4).toString('hex')}`;
  const topic = logTopic(portal);
  const key = testLogKey('publisher.test/log');
  let db: TestDatabase;
  let dataSource: DataSource;
  let signer: RunningService;
  let replication: RunningService | undefined;
  let consumer: Consumer;

  const assembler = new PartAssembler(portal);
  const parts: AssembledPart[] = [];
  const entriesMessages = new Map<number, number>();
  let duplicates = 0;
  let failure: Error | undefined;

  const startReplication = () =>
    createService(replicationApp, {
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_GROUP_ID: `publisher-spec-${randomBytes(4).toString('hex')}`,
      PORTAL_ID: portal,
      PUBLISH_POLL_MS: '50',
    });

  async function sealedParts(): Promise<number> {
    const rows = await dataSource.query<Array<{ n: string | null }>>(
      'SELECT max(part) + 1 AS n FROM log_seals',
    );
    return Number(rows[0]?.n ?? 0);
  }

  async function publishedParts(): Promise<number> {
    const rows = await dataSource.query<Array<{ next_part: string }>>(
      'SELECT next_part FROM log_publication WHERE topic = $1',
      [topic],
    );
    return Number(rows[0]?.next_part ?? 0);
  }

  /** Waits until every entry queued so far is sealed, and every sealed part published and assembled. */
  async function allThrough(entries: number): Promise<void> {
    await eventually(
      'everything sealed, published and assembled',
      async () => {
        const sealed = await sealedParts();
        const size = parts.at(-1)?.size ?? 0;
        if (failure) throw failure;
        return size === entries && parts.length === sealed && (await publishedParts()) === sealed
          ? true
          : undefined;
      },
      25_000,
    );
  }

  beforeAll(async () => {
    db = await createTestDatabase('publisher');
    signer = await createService(logSignerApp, {
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      LOG_KEY: key.signerKey,
      // Arbitrary JSON entries, not Mesh records: only the log is under test here.
      LOG_SIGNER_RULES: 'none',
      SEAL_INTERVAL_MS: '200',
      SEQUENCE_BATCH_SIZE: '5000', // the 3000 entries committed together become one part
    });
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 4 })).initialize();
    replication = await startReplication();
    const kafka = new Kafka({
      ...kafkaClientConfig({ brokers, clientId: 'publisher-spec' }),
      logLevel: logLevel.ERROR,
    });
    consumer = kafka.consumer({
      groupId: `publisher-spec-reader-${randomBytes(4).toString('hex')}`,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    const admin = kafka.admin();
    await admin.connect();
    try {
      await eventually(
        'the log topic',
        async () => ((await admin.listTopics()).includes(topic) ? true : undefined),
        15_000,
      );
    } finally {
      await admin.disconnect();
    }
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        try {
          const decoded = decodeLogMessage({
            key: message.key?.toString(),
            type: message.headers?.[LOG_MESSAGE_TYPE_HEADER]?.toString(),
            value: message.value ?? new Uint8Array(),
          });
          const outcome = assembler.push(decoded);
          if (outcome.kind === 'duplicate') duplicates++;
          if (outcome.kind === 'part') parts.push(outcome.part);
          if (decoded.type === 'entries' && outcome.kind !== 'duplicate') {
            entriesMessages.set(decoded.part, (entriesMessages.get(decoded.part) ?? 0) + 1);
          }
        } catch (error) {
          failure ??= error instanceof Error ? error : new Error('consumer failed', { cause: error });
        }
        return Promise.resolve();
      },
    });
  }, 60_000);

  afterAll(async () => {
    await consumer?.disconnect();
    await replication?.app.close();
    await signer?.app.close();
    await dataSource?.destroy();
    await db?.drop();
  });

  it('publishes every part, replays a part after a crash as a duplicate, and carries a large part in chunks', async () => {
    await enqueueAll(
      dataSource,
      Array.from({ length: 40 }, (_, i) => testEntry('small', i)),
    );
    await allThrough(40);

    // A crash between producing part n and committing the cursor: the cursor still names part n.
    await replication!.app.close();
    replication = undefined;
    await dataSource.query('UPDATE log_publication SET next_part = next_part - 1 WHERE topic = $1', [topic]);
    // Meanwhile the log grows by one large part: 3000 entries of ~1 KB, committed together.
    await dataSource.transaction(async (tx) => {
      for (let n = 0; n < 3000; n++)
        await enqueueEntry(tx, encodeEntry({ op: 'test', tag: 'large', n, pad: 'x'.repeat(1000) }));
    });
    const before = duplicates;
    replication = await startReplication();
    await allThrough(3040);
    expect(duplicates).toBeGreaterThan(before); // the replayed part, recognised and ignored
    await enqueueAll(
      dataSource,
      Array.from({ length: 10 }, (_, i) => testEntry('after', i)),
    );
    await allThrough(3050);

    const large = parts.find((p) => p.entries.length >= 1000);
    expect(large?.entries.length).toBe(3000); // ~4.2 MB of base64: at least 9 messages of ≤ 500 kB
    expect(entriesMessages.get(large!.part)).toBeGreaterThanOrEqual(9);
    expect(parts.map((p) => p.part)).toEqual(parts.map((_, i) => i));

    const verdict = await verifyLog(
      parts.map((p) => ({ entries: p.entries, seal: p.note })),
      { logKey: parseVerifierKey(key.verifierKey), ed25519: nodeEd25519, origin: key.origin },
    );
    if (!verdict.ok) throw verdict.violation;
    expect(verdict.head?.size).toBe(3050);

    const metrics = await (await fetch(`${replication.url}/metrics`)).text();
    expect(metrics).toMatch(/^intermesh_log_publication_lag_parts\{[^}]*\} 0$/m);
    expect(metrics).toMatch(
      new RegExp(`^intermesh_log_last_published_part\\{[^}]*\\} ${parts.length - 1}$`, 'm'),
    );
    const health = (await (await fetch(`${replication.url}/health`)).json()) as {
      checks: Record<string, { status: string }>;
    };
    expect(health.checks['log-publication']?.status).toBe('up');
  }, 60_000);

  // Last in this file: the copies from part 0 reach this spec's reader too, which calls them a reorder.
  it('creates its cursor again when the row is gone (a restored database) and publishes on', async () => {
    // A heartbeat may seal a part at any time: wait until the publisher has caught up with the seals.
    await eventually(
      'every sealed part published',
      async () => ((await publishedParts()) === (await sealedParts()) ? true : undefined),
      25_000,
    );
    await dataSource.query('DELETE FROM log_publication WHERE topic = $1', [topic]);
    // Nothing queued meanwhile: the publisher alone brings the cursor back to the newest seal.
    await eventually(
      'the cursor created again and every sealed part published from it',
      async () => {
        const rows = await dataSource.query<unknown[]>('SELECT 1 FROM log_publication WHERE topic = $1', [
          topic,
        ]);
        return rows.length === 1 && (await publishedParts()) === (await sealedParts()) ? true : undefined;
      },
      25_000,
    );
  }, 60_000);
});
