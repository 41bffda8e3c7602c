import { kafkaClientConfig } from './kafka-client-config';
import { kafkaRequestQueueClass, repairKafkaRequestQueue } from './kafka-request-queue';

/** kafkajs's real request queue class, loaded afresh (unrepaired) for each test. */
interface Queue {
  pending: unknown[];
  inflight: Map<number, unknown>;
  throttleCheckTimeoutId: unknown;
  checkPendingRequests(): void;
  push(request: object): void;
  fulfillRequest(response: { correlationId: number; payload: unknown; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
}
type QueueClass = (new (options: object) => Queue) & Parameters<typeof repairKafkaRequestQueue>[0];
type ConnectionClass = new (options: object) => { requestQueue: object };

function freshClass(): QueueClass {
  let loaded: QueueClass | undefined;
  jest.isolateModules(() => {
    loaded = jest.requireActual<QueueClass>('kafkajs/src/network/requestQueue');
  });
  return loaded!;
}

const quiet = {
  debug: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  error: () => undefined,
};

function queueOf(Class: QueueClass, maxInFlightRequests: number | null = null): Queue & { checks: number } {
  const queue = new Class({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'localhost:9092',
    logger: quiet,
  }) as Queue & { checks: number };
  queue.checks = 0;
  const check = queue.checkPendingRequests.bind(queue);
  queue.checkPendingRequests = () => {
    queue.checks++;
    check();
  };
  return queue;
}

/** A request as kafkajs's connection pushes it; `sent` counts its sends. */
function request(correlationId: number) {
  const sent: number[] = [];
  return {
    sent,
    pushed: {
      entry: {
        correlationId,
        apiKey: 3,
        apiName: 'Metadata',
        apiVersion: 6,
        resolve: () => undefined,
        reject: () => undefined,
      },
      expectResponse: true,
      sendRequest: () => sent.push(Date.now()),
    },
  };
}

async function until(what: string, condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe("kafkajs's request queue, repaired (tulios/kafkajs#1556)", () => {
  const queues: Queue[] = [];
  afterEach(() => queues.splice(0).forEach((q) => q.destroy()));

  it('without the repair, an answered queue with nothing waiting re-arms a timer forever (the control)', async () => {
    const queue = queueOf(freshClass());
    queues.push(queue);
    queue.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    await until('twenty idle checks', () => queue.checks >= 20);
    expect(queue.pending).toHaveLength(0);
    expect(queue.throttleCheckTimeoutId).not.toBeNull();
  });

  it('with it, an answered queue with nothing waiting keeps no timer and checks no more', async () => {
    const Class = freshClass();
    repairKafkaRequestQueue(Class);
    const queue = queueOf(Class);
    queues.push(queue);
    queue.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    expect(queue.throttleCheckTimeoutId).toBeNull();
    // Over a window in which the unrepaired queue checks dozens of times, this one stays at the one
    // check the answer made.
    await new Promise((r) => setTimeout(r, 100));
    expect(queue.checks).toBe(1);
  });

  it('a request held by a client-side throttle is sent when the throttle ends, not before', async () => {
    const Class = freshClass();
    repairKafkaRequestQueue(Class);
    const queue = queueOf(Class);
    queues.push(queue);
    const throttledAt = Date.now();
    queue.maybeThrottle(60);
    const held = request(7);
    queue.push(held.pushed);
    expect(held.sent).toHaveLength(0);
    expect(queue.pending).toHaveLength(1);
    expect(queue.throttleCheckTimeoutId).not.toBeNull();
    await until('the held request sent', () => held.sent.length === 1);
    // Not before the throttle's end (timers and Date.now() round differently: a few ms of slack).
    expect(held.sent[0]! - throttledAt).toBeGreaterThanOrEqual(55);
    expect(queue.pending).toHaveLength(0);
    expect(queue.throttleCheckTimeoutId).toBeNull();
    // A second throttle after the first: its timer is armed again (the first one's id was cleared).
    const again = Date.now();
    queue.maybeThrottle(30);
    const next = request(8);
    queue.push(next.pushed);
    expect(next.sent).toHaveLength(0);
    await until('the second held request sent', () => next.sent.length === 1);
    expect(next.sent[0]! - again).toBeGreaterThanOrEqual(25);
  });

  it('a request held by the in-flight limit is sent by the answer that frees its place', () => {
    const Class = freshClass();
    repairKafkaRequestQueue(Class);
    const queue = queueOf(Class, 1);
    queues.push(queue);
    const first = request(1);
    const second = request(2);
    queue.push(first.pushed);
    queue.push(second.pushed);
    expect(first.sent).toHaveLength(1);
    expect(second.sent).toHaveLength(0);
    queue.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    expect(second.sent).toHaveLength(1);
    expect(queue.pending).toHaveLength(0);
  });

  it('is applied once, and by kafkaClientConfig to the class kafkajs itself loads', () => {
    const scheduler = (c: { prototype: object }) =>
      Object.getOwnPropertyDescriptor(c.prototype, 'scheduleCheckPendingRequests')?.value as unknown;
    const Class = freshClass();
    const original = scheduler(Class);
    repairKafkaRequestQueue(Class);
    const repaired = scheduler(Class);
    expect(repaired).not.toBe(original);
    repairKafkaRequestQueue(Class);
    expect(scheduler(Class)).toBe(repaired);

    // The class kafkaClientConfig repairs is the one kafkajs's own connections use.
    kafkaClientConfig({ brokers: ['localhost:9092'], clientId: 'test' });
    const loaded = kafkaRequestQueueClass();
    const Connection = jest.requireActual<ConnectionClass>('kafkajs/src/network/connection');
    const { requestQueue } = new Connection({
      host: 'localhost',
      port: 9092,
      logger: { namespace: () => quiet },
      socketFactory: () => undefined,
    });
    expect(Object.getPrototypeOf(requestQueue)).toBe(loaded.prototype);
    expect(scheduler(loaded)).not.toBe(scheduler(freshClass()));
    expect(String(scheduler(loaded))).toBe(String(repaired));
  });
});
