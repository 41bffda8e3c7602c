import type { Kafka } from 'kafkajs';
import { logTopic, type PublicationOutbox, type PublishOutcome } from '@cryptomesh/intermesh';
import { HealthRegistry, MetricsService } from '@cryptomesh/service';
import { LogPublisherMetrics } from './log-publisher.metrics';
import { LogPublisherService } from './log-publisher.service';

/**
 * An outbox whose cursor and log are fixed, counting how it is used: the real one locks the cursor
 * row in `publishNext` (FOR UPDATE: a WAL record, so a commit that waits for its flush), which a poll
 * must not do when `status` already says there is no part to publish (issue #17).
 */
class CountingOutbox implements PublicationOutbox {
  statusReads = 0;
  publishCalls = 0;
  constructor(
    private readonly nextPart: number,
    private readonly sealedParts: number,
  ) {}

  publishNext(): Promise<PublishOutcome> {
    this.publishCalls++;
    return Promise.resolve({ kind: 'busy' });
  }

  status(): Promise<{ nextPart: number; sealedParts: number }> {
    this.statusReads++;
    return Promise.resolve({ nextPart: this.nextPart, sealedParts: this.sealedParts });
  }
}

/** A broker that has the topic already; nothing is produced in these cases. */
const kafka = {
  admin: () => ({
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    listTopics: () => Promise.resolve([logTopic('alpha')]),
  }),
  producer: () => ({ connect: () => Promise.resolve(), disconnect: () => Promise.resolve() }),
} as unknown as Kafka;

async function polled(outbox: CountingOutbox, polls: number): Promise<MetricsService> {
  const metrics = new MetricsService({ name: 'replication', version: 'test' });
  const service = new LogPublisherService(
    outbox,
    kafka,
    { portalId: 'alpha', pollMs: 10, retryMaxMs: 100, maxMessageBytes: 500_000 },
    new LogPublisherMetrics(metrics),
    new HealthRegistry(),
  );
  service.onApplicationBootstrap();
  try {
    const deadline = Date.now() + 10_000;
    while (outbox.statusReads < polls) {
      if (Date.now() > deadline) throw new Error(`${outbox.statusReads} polls of ${polls} in 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    await service.beforeApplicationShutdown();
  }
  return metrics;
}

describe('LogPublisherService polls', () => {
  it('with every sealed part published: reads the status and never takes the cursor lock', async () => {
    const outbox = new CountingOutbox(5, 5);
    const metrics = await polled(outbox, 5);
    expect(outbox.publishCalls).toBe(0);
    expect(await metrics.registry.metrics()).toMatch(/^intermesh_log_publication_lag_parts\{[^}]*\} 0$/m);
  });

  it('with a sealed part not yet published: takes the cursor to publish it', async () => {
    const outbox = new CountingOutbox(4, 6);
    const metrics = await polled(outbox, 3);
    // Each poll found parts waiting and asked the outbox (busy here: another publisher holds the cursor).
    expect(outbox.publishCalls).toBeGreaterThanOrEqual(2);
    expect(await metrics.registry.metrics()).toMatch(/^intermesh_log_publication_lag_parts\{[^}]*\} 2$/m);
  });
});
